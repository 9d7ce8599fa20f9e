using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Miaoya.Fleet;
using Miaoya.Runner;
using Miaoya.WebUi;

namespace Miaoya.Hosting;

/// <summary>
/// The configuration of every command and of <c>serve</c>, read one way: <c>appsettings.json</c>, then <c>miaoya.json</c>
/// (both optional, in the working folder), then the <c>MIAOYA_</c> environment variables; a later source wins, and a
/// command's own flags win over all of them. Loading never throws: what is wrong is listed in <see cref="Problems"/>, every
/// problem at once, each naming where it was set (<c>miaoya.json: WebUi:ControlRetries: ...</c>,
/// <c>MIAOYA_WebUi__ControlRetries: ...</c>).
/// </summary>
public sealed class MiaoyaConfiguration
{
    /// <summary>Prefix of the environment variables read as configuration, e.g. <c>MIAOYA_WebUi__GenerationTimeout=00:20:00</c>.</summary>
    public const string EnvironmentPrefix = "MIAOYA_";

    /// <summary>Miaoya's own settings file: only the <see cref="Sections"/> are allowed in it.</summary>
    public const string FileName = "miaoya.json";

    /// <summary>The .NET settings file; it may hold other sections too (<c>Kestrel</c>, ...), of which Miaoya checks none.</summary>
    public const string AppSettingsFileName = "appsettings.json";

    /// <summary>The logging section (<c>Logging:LogLevel:Default</c>, ...), as in any .NET host.</summary>
    public const string LoggingSectionName = "Logging";

    private readonly IReadOnlyList<Layer> _layers;

    private MiaoyaConfiguration(IConfigurationRoot root, IReadOnlyList<Layer> layers, IReadOnlyList<string> problems)
    {
        Root = root;
        _layers = layers;
        Problems = problems;
    }

    /// <summary>The sections Miaoya reads.</summary>
    public static IReadOnlyList<string> Sections { get; } = [WebUiOptions.SectionName, FleetOptions.SectionName, JobsSettings.SectionName, TemplatesSettings.SectionName, LoggingSectionName];

    /// <summary>The box of a command that is given none: the client's default, <c>http://127.0.0.1:7860</c>.</summary>
    public static Uri DefaultBaseUrl { get; } = new WebUiOptions().BaseUrl!;

    /// <summary>Every source merged, the last one winning.</summary>
    public IConfigurationRoot Root { get; }

    /// <summary>
    /// Every problem of the sources: a file that is not JSON, unknown keys of the <c>WebUi</c> and <c>Fleet</c> sections
    /// (and unknown sections of <c>miaoya.json</c>), values that are not of their type, and then values the options'
    /// own rules refuse; empty when everything binds.
    /// </summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>The sources that were read, first to last (e.g. <c>miaoya.json</c>, <c>MIAOYA_* environment variables</c>).</summary>
    public IReadOnlyList<string> Sources => _layers.Select(l => l.IsEnvironment ? EnvironmentPrefix + "* environment variables" : l.Name).ToArray();

    /// <summary>Whether any source sets <c>WebUi:BaseUrl</c> (the box of a command given no <c>--webui</c>).</summary>
    public bool HasBaseUrl => !string.IsNullOrWhiteSpace(Root[BaseUrlKey]);

    private const string BaseUrlKey = WebUiOptions.SectionName + ":" + nameof(WebUiOptions.BaseUrl);

    private const string KeepJobsKey = JobsSettings.SectionName + ":" + nameof(JobsSettings.KeepJobs);

    private const string TemplatesKey = TemplatesSettings.SectionName + ":" + nameof(TemplatesSettings.Directory);

    /// <summary>The template library's folder when a source sets <c>Templates:Directory</c>; null otherwise.</summary>
    public string? TemplatesDirectory => NullIfEmpty(Root[TemplatesKey]);

    /// <summary>
    /// How long <c>serve</c> and <c>batch</c> keep finished jobs: <c>Jobs:KeepJobs</c> when a source sets it (null: keep
    /// every job), else <see cref="JobRetention.DefaultKeep"/>. A value that does not parse is one of <see cref="Problems"/>.
    /// </summary>
    public TimeSpan? KeepJobs =>
        Root[KeepJobsKey] is { } text && JobRetention.TryParseKeep(text, out var keep, out _) ? keep : JobRetention.DefaultKeep;

    /// <summary>
    /// Reads the sources. <paramref name="directory"/> is where the files are looked for (default: the working folder);
    /// <paramref name="environment"/> replaces the process's environment variables (tests).
    /// </summary>
    public static MiaoyaConfiguration Load(string? directory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        directory ??= Directory.GetCurrentDirectory();
        var problems = new List<string>();
        var layers = new List<Layer>();
        foreach (var name in new[] { AppSettingsFileName, FileName })
        {
            if (ReadFile(Path.Combine(directory, name), name, problems) is { } file)
            {
                layers.Add(file);
            }
        }

        layers.Add(new Layer(
            EnvironmentPrefix,
            IsEnvironment: true,
            environment is null
                ? new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build()
                : new ConfigurationBuilder().AddInMemoryCollection(
                    environment.Where(v => v.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                        .Select(v => KeyValuePair.Create(v.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), (string?)v.Value))).Build()));

        var builder = new ConfigurationBuilder();
        foreach (var layer in layers)
        {
            builder.AddConfiguration(layer.Configuration);
        }

        var configuration = new MiaoyaConfiguration(builder.Build(), layers, problems);
        problems.AddRange(configuration.KeyProblems());
        if (problems.Count == 0)
        {
            problems.AddRange(configuration.RuleProblems());
        }

        return configuration;
    }

    /// <summary>
    /// The box of a command that takes one: <paramref name="url"/> (its <c>--webui</c>), else <c>WebUi:BaseUrl</c>, else
    /// <paramref name="fallback"/> (default <see cref="DefaultBaseUrl"/>); the credentials are <paramref name="credentials"/>
    /// (<c>user:password</c> from the command line or its variable), else <c>WebUi:Username</c> and <c>WebUi:Password</c>.
    /// </summary>
    public WebUiEndpoint Endpoint(Uri? url, string? credentials, Uri? fallback = null)
    {
        var box = url ?? BaseUrl() ?? fallback ?? DefaultBaseUrl;
        return credentials is not null
            ? WebUiEndpoint.WithAuth(box, credentials)
            : new WebUiEndpoint(box, NullIfEmpty(Root[$"{WebUiOptions.SectionName}:{nameof(WebUiOptions.Username)}"]), NullIfEmpty(Root[$"{WebUiOptions.SectionName}:{nameof(WebUiOptions.Password)}"]));
    }

    /// <summary>The boxes of the <c>Fleet</c> section (<c>Fleet:Boxes:0:Url</c>, ...), each with its own name, labels and credentials.</summary>
    public IReadOnlyList<BoxOptions> FleetBoxes()
    {
        var fleet = new FleetOptions();
        Root.GetSection(FleetOptions.SectionName).Bind(fleet);
        return [.. fleet.Boxes];
    }

    /// <summary>Where <paramref name="key"/> (<c>WebUi:ControlRetries</c>) is set: the file's name or the variable; null when nowhere.</summary>
    public string? SourceOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return LayerOf(key) is { } layer ? (layer.IsEnvironment ? Variable(key) : layer.Name) : null;
    }

    private Uri? BaseUrl() => HasBaseUrl && Uri.TryCreate(Root[BaseUrlKey], UriKind.Absolute, out var url) ? url : null;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static Layer? ReadFile(string path, string name, List<string> problems)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            // Read here rather than by a file provider: the file is read once, and its errors are ours to word.
            using var stream = new MemoryStream(File.ReadAllBytes(path));
            return new Layer(name, IsEnvironment: false, new ConfigurationBuilder().AddJsonStream(stream).Build());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{name}: cannot be read ({e.Message}).");
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            problems.Add($"{name}: not a JSON object of settings ({e.Message}).");
        }

        return null;
    }

    /// <summary>Unknown keys and values not of their type, per source, so each names its file or variable.</summary>
    private IEnumerable<string> KeyProblems()
    {
        foreach (var layer in _layers)
        {
            foreach (var section in layer.Configuration.GetChildren())
            {
                var known = Sections.FirstOrDefault(s => s.Equals(section.Key, StringComparison.OrdinalIgnoreCase));
                if (known is null)
                {
                    // Only miaoya.json is Miaoya's alone: appsettings.json holds other hosts' sections, and MIAOYA_ other variables (MIAOYA_API_KEY, ...).
                    if (layer.Name == FileName)
                    {
                        yield return $"{FileName}: {section.Key}: unknown section; known: {string.Join(", ", Sections)}.";
                    }

                    continue;
                }

                if (known == LoggingSectionName)
                {
                    continue;
                }

                if (section.Value is not null)
                {
                    yield return Named(layer, $"{section.Path}: expected a section of settings, got the value '{Limits.UserText.Quote(section.Value)}'.");
                    continue;
                }

                var type = known == WebUiOptions.SectionName ? typeof(WebUiOptions) : known == FleetOptions.SectionName ? typeof(FleetOptions) : known == TemplatesSettings.SectionName ? typeof(TemplatesSettings) : typeof(JobsSettings);
                foreach (var problem in ConfigurationCheck.Problems(section, type))
                {
                    yield return Named(layer, problem);
                }
            }
        }
    }

    /// <summary>The options' own rules over the merged values (ranges, both user and password, ...), each named by the source of its key.</summary>
    private IEnumerable<string> RuleProblems()
    {
        var problems = ConfigurationCheck.WebUiProblems(Root).ToList();
        if (Root.GetSection(FleetOptions.SectionName).GetChildren().Any())
        {
            var fleet = new FleetOptions();
            Root.GetSection(FleetOptions.SectionName).Bind(fleet);
            // Boxes may come from the command line (--webui): whether there are any is the command's to say.
            problems.AddRange(fleet.Validate(requireBoxes: false));
        }

        if (Root[KeepJobsKey] is { } keep && !JobRetention.TryParseKeep(keep, out _, out var problem))
        {
            problems.Add($"{KeepJobsKey}: {problem}");
        }

        return problems.Select(Attributed);
    }

    /// <summary>"WebUi:ControlRetries: message" with the source of the key it starts with, when a source sets it.</summary>
    private string Attributed(string problem)
    {
        var end = problem.IndexOf(": ", StringComparison.Ordinal);
        if (end < 0)
        {
            return problem;
        }

        // "WebUi:Username/Password": either key names the source.
        var keys = problem[..end].Split('/', ',');
        var section = keys[0][..(keys[0].LastIndexOf(':') + 1)];
        foreach (var key in keys.Select(k => k.Contains(':', StringComparison.Ordinal) ? k : section + k))
        {
            if (LayerOf(key) is { } layer)
            {
                return Named(layer, problem);
            }
        }

        return problem;
    }

    private Layer? LayerOf(string key) =>
        _layers.LastOrDefault(l => l.Configuration[key] is not null || l.Configuration.GetSection(key).GetChildren().Any());

    /// <summary>A problem as its source says it: "miaoya.json: WebUi:X: ..." or "MIAOYA_WebUi__X: ...".</summary>
    private static string Named(Layer layer, string problem)
    {
        if (!layer.IsEnvironment)
        {
            return $"{layer.Name}: {problem}";
        }

        var end = problem.IndexOf(": ", StringComparison.Ordinal);
        return end < 0 ? problem : Variable(problem[..end]) + problem[end..];
    }

    private static string Variable(string key) => EnvironmentPrefix + key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>One source: a file by its name, or the environment.</summary>
    private sealed record Layer(string Name, bool IsEnvironment, IConfiguration Configuration);
}
