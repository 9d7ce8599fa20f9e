using System.Globalization;
using System.Text;
using Miaoya.Recipes;

namespace Miaoya.Templates;

/// <summary>
/// What a run by template name adds to the recipe: the template's overrides, then its prompt additions and style LoRA as
/// <c>prompt.positive</c> / <c>prompt.negative</c> overrides (the recipe's text with the additions after it), then the
/// user's own overrides, which win. Everything travels as overrides, so it is validated like <c>--set</c>, recorded in
/// the run's manifest and replayed by <c>--resume</c>.
/// </summary>
public static class TemplateRun
{
    /// <summary>
    /// The overrides for a run of <paramref name="template"/>. <paramref name="loadRecipe"/> loads the recipe the run uses
    /// with the overrides given (so its prompt text is read after the template's overrides); it throws
    /// <see cref="RecipeException"/> as <see cref="RecipeLoader.Load"/> does.
    /// </summary>
    public static IReadOnlyList<string> Overrides(LibraryTemplate template, Func<IReadOnlyList<string>, Recipe> loadRecipe, IReadOnlyList<string> userOverrides)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(loadRecipe);
        ArgumentNullException.ThrowIfNull(userOverrides);
        var list = new List<string>(template.Overrides);
        if (template.StyleLora is not null || template.PositiveAdd.Length > 0 || template.NegativeAdd.Length > 0)
        {
            var recipe = loadRecipe(template.Overrides);
            if (template.StyleLora is not null || template.PositiveAdd.Length > 0)
            {
                list.Add("prompt.positive=" + Quoted(Positive(recipe.Prompt.Positive, template)));
            }

            if (template.NegativeAdd.Length > 0)
            {
                list.Add("prompt.negative=" + Quoted(Joined(recipe.Prompt.Negative, template.NegativeAdd)));
            }
        }

        list.AddRange(userOverrides);
        return list;
    }

    /// <summary>The style LoRA as the WebUI's extra-network syntax, <c>&lt;lora:NAME:WEIGHT&gt;</c> (A1111 extensions-builtin/Lora/extra_networks_lora.py reads name and multiplier from it).</summary>
    public static string LoraTag(StyleLora lora)
    {
        ArgumentNullException.ThrowIfNull(lora);
        return string.Create(CultureInfo.InvariantCulture, $"<lora:{lora.Name}:{lora.Weight:0.###}>");
    }

    /// <summary>The recipe's positive text, the template's addition, then its style LoRA.</summary>
    internal static string Positive(string recipePositive, LibraryTemplate template)
    {
        var text = Joined(recipePositive, template.PositiveAdd);
        return template.StyleLora is { } lora ? Joined(text, LoraTag(lora)) : text;
    }

    private static string Joined(string first, string second)
    {
        first = first.Trim().TrimEnd(',').Trim();
        return first.Length == 0 ? second : second.Length == 0 ? first : $"{first}, {second}";
    }

    /// <summary>A YAML double-quoted scalar: the override parser reads a value starting with '"' as YAML, so any text survives.</summary>
    private static string Quoted(string text)
    {
        var b = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => b.Append(@"\\"),
                '"' => b.Append("\\\""),
                '\n' => b.Append(@"\n"),
                '\r' => b.Append(@"\r"),
                '\t' => b.Append(@"\t"),
                _ => b.Append(c),
            };
        }

        return b.Append('"').ToString();
    }
}
