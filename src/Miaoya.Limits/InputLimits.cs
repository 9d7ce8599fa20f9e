namespace Miaoya.Limits;

/// <summary>
/// The one input-limits policy: how much of anything a user, a file or a request may give us. Every entry point (the
/// HTTP API, the CLI, batch files, recipes, ID photos, datasets) refuses what is over these limits before it parses,
/// decodes or sends anything, and says which limit and where. The "Limits and security" page's table (docs/security.md) lists these
/// values (a test keeps the two equal).
/// </summary>
public static class InputLimits
{
    /// <summary>YAML documents: recipes, batch files, training recipes, ID-photo specs, <c>--set</c> values.</summary>
    public static YamlLimits Yaml { get; } = new();

    /// <summary>Text fields: names, words, prompts, free text.</summary>
    public static TextLimits Text { get; } = new();

    /// <summary>Encoded and decoded images.</summary>
    public static ImageLimits Images { get; } = new();

    /// <summary>Error reports: how many problems one message lists, and how much of a user's value it quotes.</summary>
    public static ReportLimits Reports { get; } = new();
}

/// <summary>Limits on a YAML (or JSON) document, checked while its events stream by, before any tree is built or walked.</summary>
public sealed record YamlLimits
{
    /// <summary>Largest document, in characters (UTF-16 code units; a recipe is about 3,000).</summary>
    public int MaxDocumentChars { get; init; } = 256 * 1024;

    /// <summary>Deepest nesting of lists and mappings (a recipe needs 4).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Most nodes (scalars, lists, mappings), counting a subtree again each time an alias repeats it.</summary>
    public int MaxNodes { get; init; } = 10_000;

    /// <summary>Longest single scalar, in characters.</summary>
    public int MaxScalarChars { get; init; } = 8 * 1024;

    /// <summary>Most aliases (<c>*name</c>) in one document.</summary>
    public int MaxAliases { get; init; } = 100;
}

/// <summary>Limits on text a user gives.</summary>
public sealed record TextLimits
{
    /// <summary>A name: recipe, LoRA, checkpoint, model, box (a recipe's own name is further kept to letters, digits, '-', '_' and '.').</summary>
    public int MaxNameChars { get; init; } = 128;

    /// <summary>One word of a list: a trigger word, a tag, a face word.</summary>
    public int MaxWordChars { get; init; } = 100;

    /// <summary>Most words in one list (trigger words, include/exclude tags).</summary>
    public int MaxWords { get; init; } = 64;

    /// <summary>Free text: a prompt, a description.</summary>
    public int MaxTextChars { get; init; } = 4000;

    /// <summary>The <c>identity</c> label of a job.</summary>
    public int MaxIdentityChars { get; init; } = 256;

    /// <summary>Most recipe overrides (<c>--set</c>, <c>overrides</c>) at once.</summary>
    public int MaxOverrides { get; init; } = 64;

    /// <summary>Longest single override, <c>key=value</c> (a prompt's worth of text and its key).</summary>
    public int MaxOverrideChars { get; init; } = 4200;
}

/// <summary>Limits on images from users, files and WebUI boxes.</summary>
public sealed record ImageLimits
{
    /// <summary>Largest image file read from disk (a template, a face photo, an ID photo, a dataset photo).</summary>
    public long MaxFileBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest image in an HTTP submission (per image; <c>serve</c>'s default).</summary>
    public long MaxUploadBytes { get; init; } = 15L * 1024 * 1024;

    /// <summary>Largest HTTP submission as a whole (<c>serve</c>'s default).</summary>
    public long MaxRequestBytes { get; init; } = 40L * 1024 * 1024;

    /// <summary>Largest width or height of any image decoded (camera photos for ID photos and datasets).</summary>
    public int MaxSide { get; init; } = 8192;

    /// <summary>Most pixels of any image decoded (width × height): 40 MP, a 8000×5000 camera photo.</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Largest width or height of a portrait template or face photo (the WebUI renders at this size).</summary>
    public int MaxTemplateSide { get; init; } = 4096;

    /// <summary>Smallest width or height of a portrait template.</summary>
    public int MinTemplateSide { get; init; } = 64;

    /// <summary>
    /// Decoded pixels held at once by the whole process, in bytes: a decode waits until its share is free, so any number
    /// of concurrent uploads or steps stays within this budget.
    /// </summary>
    public long DecodeBudgetBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>ImageSharp's pool of retained buffers (memory kept for reuse after images are disposed), in MiB.</summary>
    public int PoolMegabytes { get; init; } = 64;

    /// <summary>ImageSharp's largest single buffer, in MiB (an image over it fails to allocate instead of growing the heap).</summary>
    public int AllocationLimitMegabytes { get; init; } = 512;
}

/// <summary>Limits on what error reports repeat back.</summary>
public sealed record ReportLimits
{
    /// <summary>Most problems listed in one report; the rest are counted ("and 812 more").</summary>
    public int MaxProblems { get; init; } = 50;

    /// <summary>Most characters of a user's value quoted in a message.</summary>
    public int MaxQuotedChars { get; init; } = 80;
}
