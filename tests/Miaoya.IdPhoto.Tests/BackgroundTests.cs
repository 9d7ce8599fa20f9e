using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto.Tests;

public class BackgroundTests
{
    [Theory]
    [InlineData("white", "#FFFFFF")]
    [InlineData("blue", "#438EDB")]
    [InlineData("red", "#FF0000")]
    [InlineData("#1a2B3c", "#1A2B3C")]
    [InlineData("0099ff", "#0099FF")]
    [InlineData("gradient:white:blue", "gradient:#FFFFFF:#438EDB")]
    [InlineData("keep", "keep")]
    public void Backgrounds_parse(string text, string expected) => Assert.Equal(expected, BackgroundFill.Parse(text).ToString());

    [Theory]
    [InlineData("purple")]
    [InlineData("#12345")]
    [InlineData("gradient:white")]
    public void Unknown_backgrounds_list_the_forms(string text) =>
        Assert.Contains("gradient:TOP:BOTTOM", Assert.Throws<FormatException>(() => BackgroundFill.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void The_mask_blends_person_and_fill_so_soft_edges_stay_soft()
    {
        using var person = new Image<Rgb24>(3, 1, new Rgb24(200, 100, 0));
        using var mask = new Image<L8>(3, 1);
        mask[0, 0] = new L8(255);
        mask[1, 0] = new L8(128);
        mask[2, 0] = new L8(0);
        using var result = BackgroundCompositor.Composite(person, mask, BackgroundFill.Parse("#0000FF"));
        Assert.Equal(new Rgb24(200, 100, 0), result[0, 0]);
        Assert.Equal(new Rgb24(100, 50, 127), result[1, 0]); // 128/255 person + 127/255 blue
        Assert.Equal(new Rgb24(0, 0, 255), result[2, 0]);
    }

    [Fact]
    public void A_gradient_runs_from_the_top_colour_to_the_bottom_colour()
    {
        using var person = new Image<Rgb24>(1, 101);
        using var mask = new Image<L8>(1, 101);
        using var result = BackgroundCompositor.Composite(person, mask, BackgroundFill.Parse("gradient:#FFFFFF:#000000"));
        Assert.Equal(new Rgb24(255, 255, 255), result[0, 0]);
        Assert.Equal(new Rgb24(128, 128, 128), result[0, 50]);
        Assert.Equal(new Rgb24(0, 0, 0), result[0, 100]);
    }
}
