using Miaoya.Recipes;
using Miaoya.WebUi.Tagger;

namespace Miaoya.Pipeline;

/// <summary>The prompt of the <c>interrogate</c> step: template tags, minus identity tags, plus the person's LoRA.</summary>
public sealed record ComposedPrompt(string Prompt, string NegativePrompt, IReadOnlyList<string> KeptTags, IReadOnlyList<string> DroppedTags);

/// <summary>Builds the inpaint prompt from tagger output and the recipe.</summary>
public static class PromptComposer
{
    /// <summary>
    /// Tags above the threshold, strongest first, without ratings and without the recipe's excluded (identity) tags, capped
    /// at <c>max_tags</c>; then the recipe's include tags, the LoRA tag, the trigger words, the face-feature words and the
    /// recipe's extra positive text. Underscores in tags become spaces, as the WebUI's own tagger UI writes them.
    /// </summary>
    public static ComposedPrompt Compose(TaggerResult tags, Recipe recipe, LoraChoice lora, IReadOnlyList<string> triggerWords)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(lora);
        var settings = recipe.Interrogate;
        var excluded = new HashSet<string>(settings.Exclude.Select(Normalise), StringComparer.OrdinalIgnoreCase);
        var ratings = new HashSet<string>(tags.Ratings.Keys, StringComparer.OrdinalIgnoreCase);
        var kept = new List<string>();
        var dropped = new List<string>();
        foreach (var (tag, _) in tags.Tags.Where(t => t.Value >= settings.Threshold).OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal))
        {
            var text = Normalise(tag);
            var isRating = ratings.Contains(tag) || tag.StartsWith("rating:", StringComparison.OrdinalIgnoreCase);
            if ((settings.DropRatings && isRating) || excluded.Contains(text) || kept.Count >= settings.MaxTags)
            {
                dropped.Add(text);
            }
            else if (!kept.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                kept.Add(text);
            }
        }

        var parts = new List<string>();
        parts.AddRange(kept);
        parts.AddRange(settings.Include.Select(Normalise).Where(t => !kept.Contains(t, StringComparer.OrdinalIgnoreCase)));
        parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"<lora:{lora.Name}:{lora.Weight ?? recipe.Prompt.LoraWeight:0.###}>"));
        parts.AddRange(triggerWords.Where(w => !string.IsNullOrWhiteSpace(w)).Select(w => w.Trim()));
        parts.AddRange(recipe.Prompt.FaceWords);
        if (!string.IsNullOrWhiteSpace(recipe.Prompt.Positive))
        {
            parts.Add(recipe.Prompt.Positive.Trim());
        }

        return new ComposedPrompt(string.Join(", ", parts), recipe.Prompt.Negative.Trim(), kept, dropped);
    }

    private static string Normalise(string tag) => tag.Replace('_', ' ').Trim();
}

/// <summary>The person's face LoRA as given on the command line (<c>NAME[:WEIGHT]</c>).</summary>
public sealed record LoraChoice(string Name, double? Weight = null)
{
    /// <summary>Parses <c>NAME</c> or <c>NAME:WEIGHT</c>.</summary>
    public static LoraChoice Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var colon = text.LastIndexOf(':');
        if (colon > 0 && double.TryParse(text[(colon + 1)..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight))
        {
            if (weight is < 0 or > 2)
            {
                throw new ArgumentException($"--lora: weight {weight} in '{text}' is outside 0..2.", nameof(text));
            }

            return new LoraChoice(text[..colon], weight);
        }

        return new LoraChoice(text);
    }

    /// <inheritdoc />
    public override string ToString() => Weight is null ? Name : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name}:{Weight}");
}
