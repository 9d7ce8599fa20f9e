using System.Text;

namespace Miaoya.MockWebUi;

/// <summary>The <c>--api-auth</c> credentials, checked as FastAPI's HTTPBasic does (A1111 api.py:200-205, 274-284).</summary>
internal sealed class BasicAuth
{
    private readonly (string User, string Password)[] _credentials;

    private BasicAuth((string User, string Password)[] credentials)
    {
        _credentials = credentials;
    }

    /// <summary>True when requests need credentials.</summary>
    public bool Enabled => _credentials.Length > 0;

    /// <summary>The first pair (WireMock's admin API uses it); null when auth is off.</summary>
    public (string User, string Password)? First => Enabled ? _credentials[0] : null;

    /// <summary>Parses "u1:p1,u2:p2" (A1111 cmd_args.py:102); null or empty turns auth off.</summary>
    public static BasicAuth Parse(string? auth)
    {
        if (string.IsNullOrEmpty(auth))
        {
            return new BasicAuth([]);
        }

        return new BasicAuth([.. auth.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split(':', 2))
            .Select(parts => (parts[0], parts.Length > 1 ? parts[1] : ""))]);
    }

    /// <summary>Throws the 401 FastAPI gives: no/invalid header → "Not authenticated"; wrong pair → "Incorrect username or password".</summary>
    public void Check(MockRequest request)
    {
        if (!Enabled)
        {
            return;
        }

        var header = request.Header("Authorization");
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            throw MockRouteException.Http(401, "Not authenticated");
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            throw MockRouteException.Http(401, "Invalid authentication credentials");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw MockRouteException.Http(401, "Invalid authentication credentials");
        }

        var user = decoded[..colon];
        var password = decoded[(colon + 1)..];
        if (!_credentials.Any(c => c.User == user && c.Password == password))
        {
            throw MockRouteException.Http(401, "Incorrect username or password");
        }
    }
}
