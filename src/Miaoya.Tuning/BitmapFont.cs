using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Tuning;

/// <summary>
/// A 5×7 pixel font for printable ASCII (0x20–0x7E), drawn straight into ImageSharp pixels. The contact sheet needs a few
/// numbers and key names on a PNG; ImageSharp.Drawing does not restore here and SkiaSharp would need a font file, so the
/// glyphs are defined here (designed for this project) and need nothing from the system. Other characters print as '?'.
/// </summary>
internal static class BitmapFont
{
    public const int GlyphWidth = 5;
    public const int GlyphHeight = 7;

    /// <summary>Horizontal advance per character in font pixels (glyph + one column of spacing).</summary>
    public const int Advance = GlyphWidth + 1;

    // One entry per character from 0x20, seven rows of five columns; '#' is ink.
    private static readonly string[] Art =
    [
        "..... ..... ..... ..... ..... ..... .....", // space
        "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..", // !
        ".#.#. .#.#. ..... ..... ..... ..... .....", // "
        ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.", // #
        "..#.. .#### #.#.. .###. ..#.# ####. ..#..", // $
        "##... ##..# ...#. ..#.. .#... #..## ...##", // %
        ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#", // &
        "..#.. ..#.. ..... ..... ..... ..... .....", // '
        "...#. ..#.. .#... .#... .#... ..#.. ...#.", // (
        ".#... ..#.. ...#. ...#. ...#. ..#.. .#...", // )
        "..... ..#.. #.#.# .###. #.#.# ..#.. .....", // *
        "..... ..#.. ..#.. ##### ..#.. ..#.. .....", // +
        "..... ..... ..... ..... .##.. ..#.. .#...", // ,
        "..... ..... ..... ##### ..... ..... .....", // -
        "..... ..... ..... ..... ..... .##.. .##..", // .
        "..... ....# ...#. ..#.. .#... #.... .....", // /
        ".###. #...# #..## #.#.# ##..# #...# .###.", // 0
        "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.", // 1
        ".###. #...# ....# ...#. ..#.. .#... #####", // 2
        "##### ...#. ..#.. ...#. ....# #...# .###.", // 3
        "...#. ..##. .#.#. #..#. ##### ...#. ...#.", // 4
        "##### #.... ####. ....# ....# #...# .###.", // 5
        "..##. .#... #.... ####. #...# #...# .###.", // 6
        "##### ....# ...#. ..#.. .#... .#... .#...", // 7
        ".###. #...# #...# .###. #...# #...# .###.", // 8
        ".###. #...# #...# .#### ....# ...#. .##..", // 9
        "..... .##.. .##.. ..... .##.. .##.. .....", // :
        "..... .##.. .##.. ..... .##.. ..#.. .#...", // ;
        "...#. ..#.. .#... #.... .#... ..#.. ...#.", // <
        "..... ..... ##### ..... ##### ..... .....", // =
        ".#... ..#.. ...#. ....# ...#. ..#.. .#...", // >
        ".###. #...# ....# ...#. ..#.. ..... ..#..", // ?
        ".###. #...# ....# .##.# #.#.# #.#.# .###.", // @
        ".###. #...# #...# ##### #...# #...# #...#", // A
        "####. #...# #...# ####. #...# #...# ####.", // B
        ".###. #...# #.... #.... #.... #...# .###.", // C
        "###.. #..#. #...# #...# #...# #..#. ###..", // D
        "##### #.... #.... ####. #.... #.... #####", // E
        "##### #.... #.... ####. #.... #.... #....", // F
        ".###. #...# #.... #.### #...# #...# .####", // G
        "#...# #...# #...# ##### #...# #...# #...#", // H
        ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // I
        "..### ...#. ...#. ...#. ...#. #..#. .##..", // J
        "#...# #..#. #.#.. ##... #.#.. #..#. #...#", // K
        "#.... #.... #.... #.... #.... #.... #####", // L
        "#...# ##.## #.#.# #.#.# #...# #...# #...#", // M
        "#...# #...# ##..# #.#.# #..## #...# #...#", // N
        ".###. #...# #...# #...# #...# #...# .###.", // O
        "####. #...# #...# ####. #.... #.... #....", // P
        ".###. #...# #...# #...# #.#.# #..#. .##.#", // Q
        "####. #...# #...# ####. #.#.. #..#. #...#", // R
        ".#### #.... #.... .###. ....# ....# ####.", // S
        "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", // T
        "#...# #...# #...# #...# #...# #...# .###.", // U
        "#...# #...# #...# #...# #...# .#.#. ..#..", // V
        "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", // W
        "#...# #...# .#.#. ..#.. .#.#. #...# #...#", // X
        "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", // Y
        "##### ....# ...#. ..#.. .#... #.... #####", // Z
        ".###. .#... .#... .#... .#... .#... .###.", // [
        "..... #.... .#... ..#.. ...#. ....# .....", // backslash
        ".###. ...#. ...#. ...#. ...#. ...#. .###.", // ]
        "..#.. .#.#. #...# ..... ..... ..... .....", // ^
        "..... ..... ..... ..... ..... ..... #####", // _
        ".#... ..#.. ..... ..... ..... ..... .....", // `
        "..... ..... .###. ....# .#### #...# .####", // a
        "#.... #.... #.##. ##..# #...# #...# ####.", // b
        "..... ..... .###. #.... #.... #...# .###.", // c
        "....# ....# .##.# #..## #...# #...# .####", // d
        "..... ..... .###. #...# ##### #.... .###.", // e
        "..##. .#..# .#... ###.. .#... .#... .#...", // f
        "..... .#### #...# #...# .#### ....# .###.", // g
        "#.... #.... #.##. ##..# #...# #...# #...#", // h
        "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.", // i
        "...#. ..... ..##. ...#. ...#. #..#. .##..", // j
        "#.... #.... #..#. #.#.. ##... #.#.. #..#.", // k
        ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // l
        "..... ..... ##.#. #.#.# #.#.# #...# #...#", // m
        "..... ..... #.##. ##..# #...# #...# #...#", // n
        "..... ..... .###. #...# #...# #...# .###.", // o
        "..... ..... ####. #...# ####. #.... #....", // p
        "..... ..... .##.# #..## .#### ....# ....#", // q
        "..... ..... #.##. ##..# #.... #.... #....", // r
        "..... ..... .###. #.... .###. ....# ####.", // s
        ".#... .#... ###.. .#... .#... .#..# ..##.", // t
        "..... ..... #...# #...# #...# #..## .##.#", // u
        "..... ..... #...# #...# #...# .#.#. ..#..", // v
        "..... ..... #...# #...# #.#.# #.#.# .#.#.", // w
        "..... ..... #...# .#.#. ..#.. .#.#. #...#", // x
        "..... ..... #...# #...# .#### ....# .###.", // y
        "..... ..... ##### ...#. ..#.. .#... #####", // z
        "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.", // {
        "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", // |
        ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...", // }
        "..... ..... .#... #.#.# ...#. ..... .....", // ~
    ];

    // Row bit masks per glyph: bit 4 is the leftmost column.
    private static readonly byte[][] Rows = Art.Select(Parse).ToArray();

    /// <summary>The glyph rows of <paramref name="c"/> (bit 4 = leftmost column); '?' for characters outside 0x20–0x7E.</summary>
    public static ReadOnlySpan<byte> Glyph(char c) => Rows[c is >= ' ' and <= '~' ? c - ' ' : '?' - ' '];

    /// <summary>How many ink pixels <paramref name="text"/> has at scale 1.</summary>
    public static int InkCount(string text) => text.Sum(c => Glyph(c).ToArray().Sum(r => System.Numerics.BitOperations.PopCount(r)));

    /// <summary>Width and height of <paramref name="text"/> in pixels at <paramref name="scale"/>, one line.</summary>
    public static Size Measure(string text, int scale) =>
        text.Length == 0 ? new Size(0, GlyphHeight * scale) : new Size(((text.Length * Advance) - 1) * scale, GlyphHeight * scale);

    /// <summary>How many characters fit in <paramref name="width"/> pixels at <paramref name="scale"/>.</summary>
    public static int Fits(int width, int scale) => Math.Max(1, (width / scale + 1) / Advance);

    /// <summary>Draws one line of text with its top-left corner at (x, y); pixels outside the image are skipped.</summary>
    public static void Draw(Image<Rgb24> image, string text, int x, int y, int scale, Rgb24 colour)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        image.ProcessPixelRows(pixels =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                var glyph = Glyph(text[i]);
                var left = x + (i * Advance * scale);
                for (var row = 0; row < GlyphHeight; row++)
                {
                    for (var dy = 0; dy < scale; dy++)
                    {
                        var py = y + (row * scale) + dy;
                        if (py < 0 || py >= pixels.Height)
                        {
                            continue;
                        }

                        var line = pixels.GetRowSpan(py);
                        for (var column = 0; column < GlyphWidth; column++)
                        {
                            if ((glyph[row] & (1 << (GlyphWidth - 1 - column))) == 0)
                            {
                                continue;
                            }

                            for (var dx = 0; dx < scale; dx++)
                            {
                                var px = left + (column * scale) + dx;
                                if (px >= 0 && px < line.Length)
                                {
                                    line[px] = colour;
                                }
                            }
                        }
                    }
                }
            }
        });
    }

    private static byte[] Parse(string art)
    {
        var rows = art.Split(' ');
        if (rows.Length != GlyphHeight || rows.Any(r => r.Length != GlyphWidth))
        {
            throw new InvalidOperationException($"bad glyph art '{art}'");
        }

        return rows.Select(r => (byte)r.Aggregate(0, (bits, c) => (bits << 1) | (c == '#' ? 1 : 0))).ToArray();
    }
}
