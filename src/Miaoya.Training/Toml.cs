using System.Globalization;
using System.Text;

namespace Miaoya.Training;

/// <summary>
/// A small TOML v1.0 writer for the trainer's config files: bare or quoted keys, basic strings with escapes, integers,
/// floats (always with a '.' or an exponent, so TOML reads them as floats), booleans, arrays of those, tables and arrays of
/// tables; kohya reads its config with Python's <c>toml.load</c> (library/train_util.py read_config_from_file). Kept over
/// Tomlyn's serializer because it writes the header comments and kohya's section and key order as they are, which a
/// model-to-TOML serializer drops or reorders; the tests read its output back with Tomlyn (TomlRoundTripTests).
/// </summary>
internal sealed class TomlWriter
{
    private readonly StringBuilder _text = new();

    public TomlWriter Comment(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            _text.Append("# ").Append(line.TrimEnd('\r')).Append('\n');
        }

        return this;
    }

    public TomlWriter Table(string name)
    {
        BlankLine();
        _text.Append('[').Append(Key(name)).Append("]\n");
        return this;
    }

    /// <summary><c>[[a.b]]</c>; <paramref name="path"/> is dotted, each part written as a key.</summary>
    public TomlWriter ArrayTable(string path)
    {
        BlankLine();
        _text.Append("[[").Append(string.Join('.', path.Split('.').Select(Key))).Append("]]\n");
        return this;
    }

    public TomlWriter Value(string key, object value)
    {
        _text.Append(Key(key)).Append(" = ").Append(Format(value)).Append('\n');
        return this;
    }

    public override string ToString() => _text.ToString();

    private void BlankLine()
    {
        if (_text.Length > 0 && !(_text.Length >= 2 && _text[^1] == '\n' && _text[^2] == '\n'))
        {
            _text.Append('\n');
        }
    }

    internal static string Key(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? key : Quote(key);
    }

    internal static string Format(object value) => value switch
    {
        string s => Quote(s),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatFloat(d),
        float f => FormatFloat(f),
        IEnumerable<string> list => "[" + string.Join(", ", list.Select(Quote)) + "]",
        IEnumerable<int> list => "[" + string.Join(", ", list.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]",
        IEnumerable<long> list => "[" + string.Join(", ", list.Select(i => i.ToString(CultureInfo.InvariantCulture))) + "]",
        IEnumerable<double> list => "[" + string.Join(", ", list.Select(FormatFloat)) + "]",
        _ => throw new ArgumentException($"TOML cannot hold a {value.GetType().Name}.", nameof(value)),
    };

    private static string FormatFloat(double d)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }

        var text = d.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal)
            ? text.Replace("E", "e", StringComparison.Ordinal)
            : text + ".0";
    }

    /// <summary>A TOML basic string: quote, backslash and control characters escaped.</summary>
    internal static string Quote(string s)
    {
        var b = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        b.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        b.Append(c);
                    }

                    break;
            }
        }

        return b.Append('"').ToString();
    }
}
