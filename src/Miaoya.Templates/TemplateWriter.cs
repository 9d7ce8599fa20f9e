using System.Globalization;
using System.Text;
using Miaoya.Recipes;

namespace Miaoya.Templates;

/// <summary>What <c>miaoya templates add</c> is given: the metadata of a new template (its image comes as a file).</summary>
public sealed record TemplateDraft
{
    public required string Name { get; init; }

    public required string Title { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>How many faces; null: counted by the face detector.</summary>
    public int? People { get; init; }

    public IReadOnlyList<FaceHint> Hints { get; init; } = [];

    public ModelFamily ModelFamily { get; init; } = ModelFamily.Sd15;

    public string? Recipe { get; init; }

    public IReadOnlyList<string> Overrides { get; init; } = [];

    public StyleLora? StyleLora { get; init; }

    public string PositiveAdd { get; init; } = string.Empty;

    public string NegativeAdd { get; init; } = string.Empty;

    public required TemplateLicence Licence { get; init; }
}

/// <summary>Writes a template's metadata file; <see cref="TemplateReader"/> reads back what it writes.</summary>
internal static class TemplateWriter
{
    public static string Write(TemplateDraft t, int people)
    {
        var w = new StringBuilder();
        w.Append("# Template metadata (docs/templates.md); the image is the file of the same name beside this one.\n");
        w.Append("title: ").Append(Quoted(t.Title)).Append('\n');
        w.Append("tags: [").Append(string.Join(", ", t.Tags.Select(Quoted))).Append("]\n");
        w.Append("people: ").Append(people.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (t.Hints.Count > 0)
        {
            w.Append("hints:\n");
            foreach (var h in t.Hints)
            {
                w.Append("  - { gender: ").Append(h.Gender).Append(", age: ").Append(h.Age).Append(" }\n");
            }
        }

        w.Append("model_family: ").Append(RecipeYaml.Word(t.ModelFamily)).Append('\n');
        if (t.Recipe is not null)
        {
            w.Append("recipe: ").Append(Quoted(t.Recipe)).Append('\n');
        }

        if (t.Overrides.Count > 0)
        {
            w.Append("overrides:\n");
            foreach (var o in t.Overrides)
            {
                w.Append("  - ").Append(Quoted(o)).Append('\n');
            }
        }

        if (t.StyleLora is { } lora)
        {
            w.Append("style_lora:\n  name: ").Append(Quoted(lora.Name)).Append("\n  weight: ")
                .Append(lora.Weight.ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        }

        if (t.PositiveAdd.Length > 0 || t.NegativeAdd.Length > 0)
        {
            w.Append("prompt:\n");
            if (t.PositiveAdd.Length > 0)
            {
                w.Append("  positive_add: ").Append(Quoted(t.PositiveAdd)).Append('\n');
            }

            if (t.NegativeAdd.Length > 0)
            {
                w.Append("  negative_add: ").Append(Quoted(t.NegativeAdd)).Append('\n');
            }
        }

        w.Append("licence:\n");
        w.Append("  name: ").Append(Quoted(t.Licence.Name)).Append('\n');
        w.Append("  source: ").Append(Quoted(t.Licence.Source)).Append('\n');
        w.Append("  author: ").Append(Quoted(t.Licence.Author)).Append('\n');
        return w.ToString();
    }

    /// <summary>A YAML double-quoted scalar (any text, escapes for '\', '"' and control characters).</summary>
    public static string Quoted(string text)
    {
        var b = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c is '\\' or '"')
            {
                b.Append('\\').Append(c);
            }
            else if (char.IsControl(c))
            {
                b.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                b.Append(c);
            }
        }

        return b.Append('"').ToString();
    }
}
