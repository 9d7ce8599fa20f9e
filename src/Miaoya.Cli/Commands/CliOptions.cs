using System.CommandLine;
using System.CommandLine.Parsing;
using Miaoya.MockWebUi;
using Miaoya.WebUi;

namespace Miaoya.Cli.Commands;

/// <summary>Options shared by several commands, each validated at parse time with a message naming the option.</summary>
internal static class CliOptions
{
    /// <summary>Where a command's <c>--webui</c> falls back to: the configuration, then the client's default.</summary>
    public const string WebUiDefault = "default: WebUi:BaseUrl of miaoya.json, appsettings.json or MIAOYA_WebUi__BaseUrl, else http://127.0.0.1:7860";

    /// <summary>The built-in recipe names, as error messages list them.</summary>
    public static string BuiltInRecipes => string.Join(", ", Recipes.RecipeLoader.BuiltInNames);

    /// <summary>The optional RECIPE argument of run and sweep: a file or a built-in name.</summary>
    public static Argument<string?> Recipe() => new("recipe") { Description = $"Recipe file, or a built-in name ({BuiltInRecipes})", Arity = ArgumentArity.ZeroOrOne };

    public static Option<Uri?> WebUi(string description = $"Base URL of a WebUI box started with --api ({WebUiDefault})") => new("--webui")
    {
        Description = description,
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

    /// <summary>
    /// The box of a command with one <c>--webui</c>: <paramref name="url"/> (the option's value), else the configuration's
    /// <c>WebUi:BaseUrl</c>, else <c>http://127.0.0.1:7860</c>; its credentials are <see cref="Credentials"/>, else the
    /// configuration's <c>WebUi:Username</c> and <c>WebUi:Password</c>. The command line wins, key by key.
    /// </summary>
    public static WebUiEndpoint Endpoint(ParseResult result, Uri? url) => CliApp.Configuration.Endpoint(url, Credentials(result));

    /// <summary>The environment variable holding a box's credentials, <c>user:password</c> (instead of <c>--auth</c>, which every local user sees in <c>ps</c>).</summary>
    public const string AuthVariable = "MIAOYA_WEBUI_AUTH";

    public static Option<string?> Auth() => new("--auth")
    {
        Description = $"Credentials as user:password (the WebUI's --api-auth); visible to other users in ps: prefer --auth-file or {AuthVariable}",
        Validators = { ValidateAuth },
    };

    /// <summary><c>--auth-file FILE</c>: the credentials as one line <c>user:password</c> in a file (e.g. mode 0600).</summary>
    public static Option<FileInfo?> AuthFile() => new("--auth-file")
    {
        Description = $"File holding the credentials as user:password (instead of --auth; {AuthVariable} works too)",
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<FileInfo?>() is { } file && ReadAuthFile(file, out var error) is null)
                {
                    result.AddError(error!);
                }
            },
        },
    };

    /// <summary>
    /// The credentials for the boxes (for the mock: the ones it requires): <c>--auth</c>, else the <c>--auth-file</c>'s line, else <see cref="AuthVariable"/>,
    /// else none. The values were checked at parse time (and the variable at start, <see cref="CheckAuthVariable"/>).
    /// </summary>
    public static string? Credentials(ParseResult result, bool useVariable = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.GetValue<string?>("--auth") is { } given)
        {
            return given;
        }

        if (result.GetValue<FileInfo?>("--auth-file") is { } file)
        {
            return ReadAuthFile(file, out _);
        }

        return useVariable && Environment.GetEnvironmentVariable(AuthVariable) is { Length: > 0 } variable ? variable.Trim() : null;
    }

    /// <summary>What is wrong with <see cref="AuthVariable"/>, or null (unset is fine).</summary>
    public static string? CheckAuthVariable() =>
        Environment.GetEnvironmentVariable(AuthVariable) is { Length: > 0 } value && AuthProblem(value.Trim()) is { } problem
            ? $"{AuthVariable}: {problem}"
            : null;

    private static string? ReadAuthFile(FileInfo file, out string? error)
    {
        error = null;
        string text;
        try
        {
            text = Limits.BoundedFile.ReadAllText(file.FullName, 4096, "credentials file").Trim();
        }
        catch (IOException e)
        {
            error = $"--auth-file: {e.Message}";
            return null;
        }

        if (AuthProblem(text) is { } problem)
        {
            error = $"--auth-file {file.FullName}: {problem}";
            return null;
        }

        return text;
    }

    private static string? AuthProblem(string text) =>
        text.IndexOf(':', StringComparison.Ordinal) <= 0 || text.EndsWith(':') || text.Contains('\n', StringComparison.Ordinal)
            ? "expected user:password."
            : null;

    public static Option<MockWebUiProfile> Profile() => new("--profile")
    {
        Description = "Mock profile: webui-1.10 (A1111 1.10.1, ControlNet 1.1.455, picobyte tagger; the default), webui-1.8 (A1111 1.8.0, ControlNet 1.1.447, toriato tagger), forge (Forge dfdcbab, its built-in ControlNet), reforge (reForge 3b56b26, its built-in ControlNet) or sdnext (SD.Next 431bcc3: no /controlnet/*, /sdapi/v1/control)",
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

    /// <summary>
    /// <c>--keep-jobs</c> of <c>serve</c> and <c>batch</c>: how long finished jobs are kept (<c>30d</c>, <c>12h</c>, <c>0</c> or
    /// <c>off</c>: forever). Not given: the configuration's <c>Jobs:KeepJobs</c>, else 30 days (<see cref="KeepJobs"/>).
    /// </summary>
    public static Option<string?> KeepJobsOption()
    {
        var option = new Option<string?>("--keep-jobs")
        {
            Description = "Delete finished jobs (succeeded, failed, cancelled) with their folders this long after they finished, e.g. 30d or 12h; 0 or off: keep every job " +
                "(default: Jobs:KeepJobs of the configuration, else 30d)",
            HelpName = "duration",
        };
        option.Validators.Add(result =>
        {
            if (result.Tokens.SingleOrDefault()?.Value is { } text && !Runner.JobRetention.TryParseKeep(text, out _, out var problem))
            {
                result.AddError($"--keep-jobs: {problem}");
            }
        });
        return option;
    }

    /// <summary>The retention a command runs with: its <c>--keep-jobs</c>, else the configuration's (null: keep every job).</summary>
    public static TimeSpan? KeepJobs(ParseResult result) =>
        result.GetValue<string?>("--keep-jobs") is { } text && Runner.JobRetention.TryParseKeep(text, out var keep, out _) ? keep : CliApp.Configuration.KeepJobs;

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
        if (text is not null && AuthProblem(text) is { } problem)
        {
            result.AddError($"--auth: {problem}");
        }
    }

    private static bool IsHttpUrl(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
