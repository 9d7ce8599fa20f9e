using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Miaoya.Doctor;

/// <summary>
/// <c>webui-extensions/manifest.yaml</c>: the WebUI, its extensions pinned to commits, and the model files the built-in
/// recipes need (file, WebUI folder, source, licence, sha256 where verified). Embedded in this assembly.
/// </summary>
public sealed class WebUiManifest
{
    private const string ResourceName = "Miaoya.Doctor.manifest.yaml";

    /// <summary>The WebUI itself.</summary>
    [YamlMember(Alias = "webui")]
    public ManifestWebUi WebUi { get; set; } = new();

    /// <summary>Extensions, in install order.</summary>
    public List<ManifestExtension> Extensions { get; set; } = [];

    /// <summary>Model files.</summary>
    public List<ManifestModel> Models { get; set; } = [];

    /// <summary>The manifest shipped with the program (the repository's webui-extensions/manifest.yaml).</summary>
    public static WebUiManifest BuiltIn { get; } = LoadBuiltIn();

    /// <summary>The extension with this id (controlnet, tagger, rembg), or null.</summary>
    public ManifestExtension? Extension(string id) => Extensions.FirstOrDefault(e => e.Id == id);

    /// <summary>The model entry of this kind and name; for lora and tagger_model (named at run time) the generic entry.</summary>
    public ManifestModel? Model(string kind, string? name) =>
        Models.FirstOrDefault(m => m.Kind == kind && m.Name == (name ?? ""))
        ?? Models.FirstOrDefault(m => m.Kind == kind && m.Name.Length == 0);

    /// <summary>Parses manifest text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The text is not a valid manifest.</exception>
    public static WebUiManifest Parse(string yaml, string source)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build();
        try
        {
            var manifest = deserializer.Deserialize<WebUiManifest?>(yaml) ?? throw new InvalidDataException($"{source}: empty manifest.");
            var missing = manifest.Extensions.Where(e => e.Id.Length == 0 || e.Dir.Length == 0 || e.Repo.Length == 0 || e.Commit.Length != 40)
                .Select(e => $"extension '{e.Id}' needs id, dir, repo and a 40-hex commit")
                .Concat(manifest.Models.Where(m => m.Kind.Length == 0 || m.File.Length == 0 || m.Folder.Length == 0 || m.Source.Length == 0 || m.Licence.Length == 0)
                    .Select(m => $"model '{m.Name}' needs kind, file, folder, source and licence"))
                .ToList();
            return missing.Count == 0 ? manifest : throw new InvalidDataException($"{source}: {string.Join("; ", missing)}.");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
    }

    private static WebUiManifest LoadBuiltIn()
    {
        using var stream = typeof(WebUiManifest).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "webui-extensions/manifest.yaml");
    }
}

/// <summary>The WebUI the manifest was written for.</summary>
public sealed class ManifestWebUi
{
    public string Repo { get; set; } = "";

    public string Commit { get; set; } = "";

    public string Version { get; set; } = "";

    public string Licence { get; set; } = "";
}

/// <summary>One WebUI extension, pinned to a commit.</summary>
public sealed class ManifestExtension
{
    /// <summary>controlnet, tagger or rembg.</summary>
    public string Id { get; set; } = "";

    /// <summary>Folder under the WebUI's <c>extensions/</c>.</summary>
    public string Dir { get; set; } = "";

    public string Repo { get; set; } = "";

    public string Commit { get; set; } = "";

    public string Version { get; set; } = "";

    public string Licence { get; set; } = "";

    /// <summary>Whether the built-in recipes need it (rembg: not yet).</summary>
    public bool Required { get; set; }

    public string Why { get; set; } = "";

    /// <summary>Commit → version of commits a box may run.</summary>
    public Dictionary<string, string> KnownCommits { get; set; } = [];

    /// <summary>ControlNet preprocessors the recipes use (they ship with the extension).</summary>
    public List<string> Modules { get; set; } = [];

    /// <summary>GitHub owner/name, from <see cref="Repo"/>.</summary>
    public string Slug => Repo.Replace("https://github.com/", "", StringComparison.Ordinal).Replace(".git", "", StringComparison.Ordinal);

    /// <summary>How to install it, for fix hints.</summary>
    public string InstallHint =>
        $"install {Slug} at commit {Commit[..8]} into extensions/{Dir} (webui-extensions/install-extensions.sh does it), then restart the WebUI; licence {Licence}";
}

/// <summary>One model file.</summary>
public sealed class ManifestModel
{
    /// <summary>checkpoint, controlnet_model, embedding, lora or tagger_model.</summary>
    public string Kind { get; set; } = "";

    /// <summary>The name the recipes use; empty for files named at run time.</summary>
    public string Name { get; set; } = "";

    public string File { get; set; } = "";

    /// <summary>Folder of the WebUI the file goes in, e.g. models/ControlNet.</summary>
    public string Folder { get; set; } = "";

    public string Source { get; set; } = "";

    public string Licence { get; set; } = "";

    /// <summary>Verified sha256, or empty.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>Anything else worth knowing (e.g. downloaded automatically).</summary>
    public string Note { get; set; } = "";

    /// <summary>Built-in recipes that need it.</summary>
    public List<string> Recipes { get; set; } = [];

    /// <summary>Where the file goes and where it comes from, for fix hints.</summary>
    public string InstallHint(string? name = null)
    {
        var file = name is null ? File : File.Replace("NAME", name, StringComparison.Ordinal);
        return $"put {file} in {Folder}/ of the WebUI — from {Source}; licence {Licence}{(Sha256.Length > 0 ? $"; sha256 {Sha256}" : "")}{(Note.Length > 0 ? $" ({Note})" : "")}";
    }
}
