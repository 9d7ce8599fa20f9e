using System.Globalization;
using System.Text;

namespace Miaoya.Limits;

/// <summary>Checks of text a user gives, and its safe display in messages and logs.</summary>
public static class UserText
{
    /// <summary>
    /// What is wrong with <paramref name="value"/> as a field of at most <paramref name="maxChars"/> characters, or null:
    /// too long, or holding control characters (line breaks and tabs only where <paramref name="multiline"/>).
    /// </summary>
    public static string? Problem(string value, int maxChars, bool multiline = false)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > maxChars)
        {
            return $"{value.Length:N0} characters; at most {maxChars:N0} are accepted";
        }

        foreach (var c in value)
        {
            if (IsControl(c) && !(multiline && c is '\n' or '\r' or '\t'))
            {
                return $"holds the control character {Escape(c)}; use plain text";
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="value"/> as it may appear in a message: control characters (terminal escapes, line breaks) written
    /// as <c>\u001b</c>, and cut to <see cref="ReportLimits.MaxQuotedChars"/> with the length said.
    /// </summary>
    public static string Quote(string? value) => Display(value, InputLimits.Reports.MaxQuotedChars);

    /// <summary>The same for a log line, cut at <paramref name="maxChars"/> (200).</summary>
    public static string ForLog(string? value, int maxChars = 200) => Display(value, maxChars);

    /// <summary>Control characters of <paramref name="text"/> written as escapes; nothing cut (for whole messages on a console).</summary>
    public static string EscapeControl(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Any(IsControl) ? Escaped(text, keepNewlines: true) : text;
    }

    private static string Display(string? value, int maxChars)
    {
        if (value is null)
        {
            return "(none)";
        }

        var cut = value.Length > maxChars ? value[..maxChars] : value;
        var shown = cut.Any(IsControl) ? Escaped(cut, keepNewlines: false) : cut;
        return value.Length > maxChars
            ? string.Create(CultureInfo.InvariantCulture, $"{shown}… ({value.Length:N0} characters)")
            : shown;
    }

    private static string Escaped(string text, bool keepNewlines)
    {
        var b = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (IsControl(c) && !(keepNewlines && c is '\n'))
            {
                b.Append(Escape(c));
            }
            else
            {
                b.Append(c);
            }
        }

        return b.ToString();
    }

    private static string Escape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
    };

    /// <summary>
    /// C0 and C1 controls, DEL, the line and paragraph separators (U+2028, U+2029: line breaks to JSON and JavaScript),
    /// and the bidirectional overrides that reorder what a terminal shows.
    /// </summary>
    private static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069';
}
