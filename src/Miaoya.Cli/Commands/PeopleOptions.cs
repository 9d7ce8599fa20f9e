using System.Globalization;
using Miaoya.Pipeline;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>run</c>'s several-person options: <c>--person INDEX=LORA[:WEIGHT]</c>, <c>--person-face INDEX=PHOTO</c> and
/// <c>--person-trigger INDEX=WORD</c>, all repeatable, INDEX counting the template's faces from 0 left to right. Separate
/// options rather than one <c>INDEX=LORA,PHOTO…</c> so that a LoRA name, a path and a word never have to be told apart, and
/// a person can have photos and no LoRA or the reverse.
/// </summary>
internal static class PeopleOptions
{
    /// <summary>The people, by face index; throws <see cref="ArgumentException"/> saying which option and value is wrong.</summary>
    public static IReadOnlyList<PersonRequest> Parse(IReadOnlyList<string> persons, IReadOnlyList<string> personFaces, IReadOnlyList<string>? personTriggers = null)
    {
        var loras = new SortedDictionary<int, LoraChoice>();
        foreach (var text in persons)
        {
            var (index, value) = Split("--person", text, "INDEX=LORA[:WEIGHT]");
            if (loras.ContainsKey(index))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--person {index}: two people are given for face {index}; give each face one person (faces are counted from 0, left to right)."));
            }

            try
            {
                loras[index] = LoraChoice.Parse(value);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--person {index}={value}: {e.Message.Replace("--lora: ", "", StringComparison.Ordinal)}"), e);
            }
        }

        var photos = new SortedDictionary<int, List<string>>();
        foreach (var text in personFaces)
        {
            var (index, value) = Split("--person-face", text, "INDEX=PHOTO");
            if (!photos.TryGetValue(index, out var list))
            {
                photos[index] = list = [];
            }

            list.Add(Path.GetFullPath(value));
        }

        var triggers = new SortedDictionary<int, List<string>>();
        foreach (var text in personTriggers ?? [])
        {
            var (index, value) = Split("--person-trigger", text, "INDEX=WORD");
            if (!triggers.TryGetValue(index, out var list))
            {
                triggers[index] = list = [];
            }

            list.Add(value);
        }

        return loras.Keys.Union(photos.Keys).Union(triggers.Keys).Order()
            .Select(i => new PersonRequest(i, loras.GetValueOrDefault(i), photos.TryGetValue(i, out var p) ? p : [])
            {
                TriggerWords = triggers.TryGetValue(i, out var t) ? t : [],
            })
            .ToArray();
    }

    private static (int Index, string Value) Split(string option, string text, string shape)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
        {
            throw new ArgumentException($"{option} '{Limits.UserText.Quote(text)}': give {shape}, INDEX counting the template's faces from 0, left to right.");
        }

        if (!int.TryParse(text.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            throw new ArgumentException($"{option} '{Limits.UserText.Quote(text)}': '{Limits.UserText.Quote(text[..equals])}' is not a face index (0, 1, 2, … counting the template's faces left to right).");
        }

        return (index, text[(equals + 1)..].Trim());
    }
}
