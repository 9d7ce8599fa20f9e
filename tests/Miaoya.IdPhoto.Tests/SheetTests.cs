using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto.Tests;

public class SheetTests
{
    [Theory]
    [InlineData("6inch", "cn-1inch", 1205, 1795, 3, 4)]   // 4R portrait: 12 one-inch copies
    [InlineData("6inch", "cn-2inch", 1795, 1205, 4, 1)]   // 4 two-inch copies (two rows need 1182 of 1205 px: no room for the margins)
    [InlineData("6inch", "us-2x2", 1795, 1205, 2, 1)]
    [InlineData("a4", "cn-1inch", 3508, 2480, 10, 5)]
    [InlineData("a4", "icao-35x45", 2480, 3508, 5, 6)]
    public void As_many_copies_as_fit_with_even_gaps_and_a_centred_block(string sheetName, string specName, int width, int height, int columns, int rows)
    {
        var (pw, ph) = IdSpecs.Find(specName).PixelSize(300);
        var layout = SheetLayout.For(SheetSize.Parse(sheetName), pw, ph, 300);
        Assert.Equal((width, height, columns, rows), (layout.SheetWidth, layout.SheetHeight, layout.Columns, layout.Rows));
        Assert.Equal(24, layout.Gap); // 2 mm at 300 dpi
        for (var c = 1; c < columns; c++)
        {
            Assert.Equal(pw + layout.Gap, layout.Origin(c, 0).X - layout.Origin(c - 1, 0).X);
        }

        for (var r = 1; r < rows; r++)
        {
            Assert.Equal(ph + layout.Gap, layout.Origin(0, r).Y - layout.Origin(0, r - 1).Y);
        }

        var last = layout.Origin(columns - 1, rows - 1);
        var right = width - (last.X + pw);
        var bottom = height - (last.Y + ph);
        Assert.InRange(right - layout.Left, 0, 1);
        Assert.InRange(bottom - layout.Top, 0, 1);
        Assert.True(layout.Left >= 35 && layout.Top >= 35, "3 mm of paper around the block");
        // One more column or row would not fit inside the margins.
        Assert.True(((columns + 1) * pw) + (columns * layout.Gap) > width - 70 || ((rows + 1) * ph) + (rows * layout.Gap) > height - 70);
    }

    [Fact]
    public void The_sheet_holds_the_copies_and_crop_marks_on_every_cut_line()
    {
        using var photo = new Image<Rgb24>(295, 413, new Rgb24(10, 200, 30));
        var layout = SheetLayout.For(SheetSize.SixInch, 295, 413, 300);
        using var sheet = SheetRenderer.Render(photo, layout);
        Assert.Equal((layout.SheetWidth, layout.SheetHeight), (sheet.Width, sheet.Height));
        for (var r = 0; r < layout.Rows; r++)
        {
            for (var c = 0; c < layout.Columns; c++)
            {
                var o = layout.Origin(c, r);
                Assert.Equal(photo[0, 0], sheet[o.X, o.Y]);
                Assert.Equal(photo[0, 0], sheet[o.X + 294, o.Y + 412]);
                Assert.Equal(new Rgb24(255, 255, 255), sheet[o.X - 1, o.Y + 200]); // the gap itself is blank beside the photo
            }
        }

        var first = layout.Origin(0, 0);
        // Outer marks: each cut line continues into the margin above the block and beside it.
        Assert.Equal(SheetRenderer.MarkColour, sheet[first.X, first.Y - 10]);
        Assert.Equal(SheetRenderer.MarkColour, sheet[first.X + 294, first.Y - 10]);
        Assert.Equal(SheetRenderer.MarkColour, sheet[first.X - 10, first.Y]);
        Assert.Equal(SheetRenderer.MarkColour, sheet[first.X - 10, first.Y + 412]);
        // Gap marks: the cut line x continues a few pixels into the gap below the first row.
        Assert.Equal(SheetRenderer.MarkColour, sheet[first.X, first.Y + 413 + 2]);
        Assert.Equal(new Rgb24(255, 255, 255), sheet[first.X, first.Y + 413 + (layout.Gap / 2)]); // and stops short of the middle
        Assert.Equal(new Rgb24(255, 255, 255), sheet[first.X + 150, first.Y - 10]); // no mark off the cut lines
    }

    [Fact]
    public void A_photo_larger_than_the_sheet_is_refused() =>
        Assert.Throws<ArgumentException>(() => SheetLayout.For(SheetSize.SixInch, 2000, 2000, 300));

    [Fact]
    public void Unknown_sheets_list_the_sheets() =>
        Assert.Contains("6inch", Assert.Throws<FormatException>(() => SheetSize.Parse("5inch")).Message, StringComparison.Ordinal);
}
