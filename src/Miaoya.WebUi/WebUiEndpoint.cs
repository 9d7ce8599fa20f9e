namespace Miaoya.WebUi;

/// <summary>Where a WebUI box is and how to log in to it. <see cref="ToString"/> never shows the password.</summary>
public sealed record WebUiEndpoint
{
    public WebUiEndpoint(Uri baseUrl, string? username = null, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"WebUI URL '{baseUrl}' must be an absolute http:// or https:// URL.", nameof(baseUrl));
        }

        if (string.IsNullOrEmpty(username) != string.IsNullOrEmpty(password))
        {
            throw new ArgumentException("Give both user and password for --api-auth, or neither.", nameof(username));
        }

        // A trailing slash keeps a path prefix (reverse proxies) when routes are appended.
        BaseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        Username = username;
        Password = password;
    }

    public Uri BaseUrl { get; }

    public string? Username { get; }

    public string? Password { get; }

    /// <summary>Parses <c>user:pass</c> as given to <c>--api-auth</c>.</summary>
    public static WebUiEndpoint WithAuth(Uri baseUrl, string? userColonPassword)
    {
        if (string.IsNullOrEmpty(userColonPassword))
        {
            return new WebUiEndpoint(baseUrl);
        }

        var colon = userColonPassword.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == userColonPassword.Length - 1)
        {
            throw new ArgumentException("Credentials must be given as user:password.", nameof(userColonPassword));
        }

        return new WebUiEndpoint(baseUrl, userColonPassword[..colon], userColonPassword[(colon + 1)..]);
    }

    /// <inheritdoc />
    public override string ToString() => Username is null ? BaseUrl.ToString() : $"{BaseUrl} (user {Username})";
}
