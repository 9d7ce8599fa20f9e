using Miaoya.Limits;
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
    public static ComposedPrompt Compose(TaggerResult tags, Recipe recipe, LoraChoice? lora, IReadOnlyList<string> triggerWords)
    {
        ArgumentNullException.ThrowIfNull(tags);
        ArgumentNullException.ThrowIfNull(recipe);
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
        if (lora is not null)
        {
            parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"<lora:{lora.Name}:{lora.Weight ?? recipe.Prompt.LoraWeight:0.###}>"));
        }

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
    /// <summary>
    /// Parses <c>NAME</c> or <c>NAME:WEIGHT</c>. The name goes into the prompt as <c>&lt;lora:NAME:WEIGHT&gt;</c>, so it
    /// cannot hold ':', '&lt;', '&gt;' or control characters (A1111's extra-network syntax splits on them); the weight is a
    /// finite number in 0..2. Throws <see cref="ArgumentException"/> saying what is wrong.
    /// </summary>
    public static LoraChoice Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("--lora: give the person's LoRA as NAME or NAME:WEIGHT.");
        }

        text = text.Trim();
        if (text.IndexOfAny(['<', '>']) >= 0)
        {
            throw new ArgumentException($"--lora: '{UserText.Quote(text)}' is not NAME or NAME:WEIGHT: '<' and '>' are prompt syntax (<lora:NAME:WEIGHT> is written for you).");
        }

        var colon = text.LastIndexOf(':');
        var name = colon > 0 ? text[..colon].Trim() : text;
        double? weight = null;
        if (colon > 0)
        {
            var weightText = text[(colon + 1)..].Trim();
            if (!double.TryParse(weightText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w) || !double.IsFinite(w))
            {
                throw new ArgumentException($"--lora: '{UserText.Quote(weightText)}' in '{UserText.Quote(text)}' is not a weight; give NAME or NAME:WEIGHT with WEIGHT a number in 0..2.");
            }

            if (w is < 0 or > 2)
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--lora: weight {w} in '{UserText.Quote(text)}' is outside 0..2."));
            }

            weight = w;
        }

        if (NameProblem(name) is { } problem)
        {
            throw new ArgumentException($"--lora: '{UserText.Quote(name)}' {problem}.");
        }

        return new LoraChoice(name, weight);
    }

    /// <summary>What is wrong with a LoRA name, or null.</summary>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            return "is empty";
        }

        if (UserText.Problem(name, InputLimits.Text.MaxNameChars) is { } problem)
        {
            return $"is not a LoRA name: {problem}";
        }

        return name.IndexOfAny(['<', '>', ':']) >= 0
            ? "is not a LoRA name: '<', '>' and ':' are prompt syntax (<lora:NAME:WEIGHT>)"
            : null;
    }

    /// <inheritdoc />
    public override string ToString() => Weight is null ? Name : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name}:{Weight}");
}

/// <summary>Checks of the person's words before they go into a prompt.</summary>
public static class PromptWords
{
    /// <summary>Characters that are prompt syntax in A1111 (emphasis, extra networks, alternation, escapes), refused in trigger words.</summary>
    private static readonly System.Buffers.SearchValues<char> Syntax = System.Buffers.SearchValues.Create("<>()[]{}|\\:");

    /// <summary>
    /// What is wrong with the trigger words, or null: too many, too long, control characters, or prompt syntax
    /// (<c>&lt;lora:…&gt;</c>, <c>(word:9.9)</c>, <c>[a|b]</c>) that would reach the prompt verbatim.
    /// </summary>
    public static string? TriggerProblem(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var limits = InputLimits.Text;
        if (words.Count > limits.MaxWords)
        {
            return $"{words.Count} trigger words; at most {limits.MaxWords} are accepted";
        }

        foreach (var word in words)
        {
            if (UserText.Problem(word ?? string.Empty, limits.MaxWordChars) is { } problem)
            {
                return $"'{UserText.Quote(word)}': {problem}";
            }

            var at = (word ?? string.Empty).AsSpan().IndexOfAny(Syntax);
            if (at >= 0)
            {
                return $"'{UserText.Quote(word)}': '{word![at]}' is prompt syntax; trigger words are plain words (the LoRA and its weight are given on their own: --lora, --person or lora)";
            }
        }

        return null;
    }

    /// <summary>What is wrong with a seed, or null: -1 (the box draws one) or 0 and up.</summary>
    public static string? SeedProblem(long seed) =>
        seed < -1 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{seed} is not a seed; use 0 or more, or -1 for a random one") : null;
}
