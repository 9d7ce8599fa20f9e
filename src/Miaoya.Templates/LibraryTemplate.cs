using Miaoya.Recipes;

namespace Miaoya.Templates;

/// <summary>
/// One template of a library: <c>NAME.yaml</c> (this metadata) beside <c>NAME.png</c> / <c>.jpg</c> / <c>.jpeg</c> / <c>.webp</c>
/// (the photo whose faces a run replaces). See docs/templates.md for the file's fields.
/// </summary>
public sealed record LibraryTemplate
{
    /// <summary>The file stem, unique in its library: what <c>--template NAME</c> and <c>template_name</c> name.</summary>
    public required string Name { get; init; }

    /// <summary>The metadata file.</summary>
    public required string MetadataPath { get; init; }

    /// <summary>The image file.</summary>
    public required string ImagePath { get; init; }

    public required string Title { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>How many faces the image holds (checked against the face detector by <see cref="TemplateLibrary.CheckAsync"/>).</summary>
    public required int People { get; init; }

    /// <summary>One hint per face when given (as many as <see cref="People"/>), else empty.</summary>
    public IReadOnlyList<FaceHint> Hints { get; init; } = [];

    /// <summary>The Stable Diffusion family the template's suggested settings are for.</summary>
    public required ModelFamily ModelFamily { get; init; }

    /// <summary>The suggested recipe: a built-in name (v1-face, ...) or a recipe file relative to the library folder; null: none.</summary>
    public string? Recipe { get; init; }

    /// <summary><c>path=value</c> overrides as <c>--set</c> takes them, applied before the user's own.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>A style LoRA put in the positive prompt as <c>&lt;lora:NAME:WEIGHT&gt;</c>; null: none.</summary>
    public StyleLora? StyleLora { get; init; }

    /// <summary>Text appended to the recipe's positive prompt; empty: none.</summary>
    public string PositiveAdd { get; init; } = string.Empty;

    /// <summary>Text appended to the recipe's negative prompt; empty: none.</summary>
    public string NegativeAdd { get; init; } = string.Empty;

    /// <summary>The image's licence.</summary>
    public required TemplateLicence Licence { get; init; }

    /// <summary>The recipe file this template suggests, resolved: a path under the library folder, or the built-in name; null when none.</summary>
    public string? RecipeReference =>
        Recipe is null ? null
        : RecipeLoader.BuiltInNames.Contains(Recipe, StringComparer.Ordinal) ? Recipe
        : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(MetadataPath)!, Recipe));
}

/// <summary>What a face in the template looks like, so a user picks a template that suits the person.</summary>
/// <param name="Gender">female, male or any.</param>
/// <param name="Age">child, teen, adult, senior or any.</param>
public sealed record FaceHint(string Gender, string Age)
{
    public static IReadOnlyList<string> Genders { get; } = ["female", "male", "any"];

    public static IReadOnlyList<string> Ages { get; } = ["child", "teen", "adult", "senior", "any"];

    /// <inheritdoc />
    public override string ToString() => $"{Gender}/{Age}";
}

/// <summary>A style LoRA on the box (its file name in models/Lora, without extension) and its weight (0..2).</summary>
public sealed record StyleLora(string Name, double Weight);

/// <summary>The licence of a template image: its name (e.g. CC0-1.0, public domain), where the image came from, and who made it.</summary>
public sealed record TemplateLicence(string Name, string Source, string Author);
