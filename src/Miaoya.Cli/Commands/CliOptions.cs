using System.CommandLine;
using System.CommandLine.Parsing;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Commands;

/// <summary>Options shared by several commands, each validated at parse time with a message naming the option.</summary>
internal static class CliOptions
{
    public static Option<Uri?> WebUi() => new("--webui")
    {
        Description = "Base URL of a WebUI box started with --api, e.g. http://127.0.0.1:7860",
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (IsHttpUrl(text, out var uri))
            {
                return uri;
            }

            result.AddError($"--webui: '{text}' is not an http:// or https:// URL.");
            return null;
        },
    };

    /// <summary>A repeatable <c>--webui</c>: every value must be an http(s) URL.</summary>
    public static Option<Uri[]> WebUis(string description) => new("--webui")
    {
        Description = description,
        HelpName = "URL",
        CustomParser = result =>
        {
            var uris = new List<Uri>();
            foreach (var token in result.Tokens)
            {
                if (IsHttpUrl(token.Value, out var uri))
                {
                    uris.Add(uri);
                }
                else
                {
                    result.AddError($"--webui: '{token.Value}' is not an http:// or https:// URL.");
                }
            }

            return [.. uris];
        },
    };

    public static Option<string?> Auth() => new("--auth")
    {
        Description = "Credentials as user:password (the WebUI's --api-auth)",
        Validators = { ValidateAuth },
    };

    public static Option<MockWebUiProfile> Profile() => new("--profile")
    {
        Description = "Mock profile: webui-1.10 (A1111 1.10.1, ControlNet 1.1.455, picobyte tagger; the default) or webui-1.8 (A1111 1.8.0, ControlNet 1.1.447, toriato tagger)",
        HelpName = string.Join('|', MockWebUiOptions.ProfileNames),
        DefaultValueFactory = _ => MockWebUiProfile.WebUi110,
        CustomParser = result =>
        {
            try
            {
                return MockWebUiOptions.ParseProfile(result.Tokens.Single().Value);
            }
            catch (ArgumentException)
            {
                result.AddError($"--profile: '{result.Tokens.Single().Value}' is not a profile; use one of {string.Join(", ", MockWebUiOptions.ProfileNames)}.");
                return default;
            }
        },
    };

    public static Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        HelpName = "duration",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (Duration.TryParse(text, out var value))
            {
                return value;
            }

            result.AddError($"{name}: '{text}' is not a duration (examples: 2s, 500ms, 1.5m).");
            return default;
        },
    };

    private static void ValidateAuth(OptionResult result)
    {
        var text = result.Tokens.SingleOrDefault()?.Value;
        if (text is not null && (text.IndexOf(':', StringComparison.Ordinal) is <= 0 || text.EndsWith(':')))
        {
            result.AddError("--auth: expected user:password.");
        }
    }

    private static bool IsHttpUrl(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
