namespace Miaoya.Recipes.Tests;

/// <summary>The optional <c>finish:</c> section (ID-photo finishing after the last step).</summary>
public class FinishTests
{
    private const string WithFinish = TestFiles.MinimalV1 + """

        finish:
          spec: cn-1inch
          background: blue
          dpi: 254
          kb: 40
          sheet: 6inch
          format: jpeg
        """;

    [Fact]
    public void A_finish_section_is_read_and_written_back()
    {
        var recipe = RecipeLoader.Parse(WithFinish, "recipes/test.yaml");
        Assert.Equal(new FinishSettings("cn-1inch", "blue", 254, 40, FinishSheet.SixInch, FinishFormat.Jpeg), recipe.Finish);
        Assert.Equal(recipe, RecipeLoader.Parse(RecipeYaml.Write(recipe), "recipes/test.yaml"));
        Assert.Null(RecipeLoader.Parse(TestFiles.MinimalV1, "recipes/test.yaml").Finish);
    }

    [Fact]
    public void Defaults_are_white_300_dpi_no_sheet_and_hex_or_gradient_backgrounds_round_trip()
    {
        var recipe = RecipeLoader.Parse(TestFiles.MinimalV1 + "\nfinish:\n  spec: icao-35x45\n", "recipes/test.yaml");
        Assert.Equal(new FinishSettings("icao-35x45", "white", 300, null, FinishSheet.None, null), recipe.Finish);
        foreach (var background in (string[])["\"#438EDB\"", "gradient:white:blue", "keep"])
        {
            var r = RecipeLoader.Parse(TestFiles.MinimalV1 + $"\nfinish:\n  spec: cn-1inch\n  background: {background}\n", "recipes/test.yaml");
            Assert.Equal(r, RecipeLoader.Parse(RecipeYaml.Write(r), "recipes/test.yaml"));
        }
    }

    [Fact]
    public void Every_finish_problem_is_reported_with_its_place()
    {
        var yaml = TestFiles.MinimalV1 + """

            finish:
              spec: cn-1inh
              background: purple
              dpi: 72
              sheet: 5inch
              colour: blue
            """;
        Assert.Equal(
            [
                "recipes/test.yaml:16:9: finish.spec: 'cn-1inh' is not an ID-photo spec (did you mean 'cn-1inch'?); the specs are cn-1inch, cn-1inch-large, cn-1inch-small, cn-2inch, cn-2inch-small, cn-passport-visa, icao-35x45, us-2x2 (recipes/id-specs/)",
                "recipes/test.yaml:17:15: finish.background: 'purple' is not a background: use keep, a colour (white, blue, red, off-white, light-grey), #RRGGBB, or gradient:TOP:BOTTOM",
                "recipes/test.yaml:18:8: finish.dpi: 72 is not one of 300, 254, 350",
                "recipes/test.yaml:19:10: finish.sheet: '5inch' is not one of none, 6inch, a4 (did you mean '6inch'?)",
                "recipes/test.yaml:20:3: finish.colour: unknown key 'colour'; known keys here: spec, background, dpi, kb, sheet, format",
            ],
            TestFiles.Problems(yaml));
    }

    [Fact]
    public void A_colour_the_spec_does_not_allow_is_refused_with_the_allowed_ones()
    {
        Assert.Equal(
            ["recipes/test.yaml:18:15: finish.background: us-2x2 does not allow a blue background; us-2x2 allows white, off-white"],
            TestFiles.Problems(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: us-2x2\n  background: blue\n"));
        Assert.Equal(
            ["recipes/test.yaml:18:15: finish.background: cn-passport-visa does not allow a blue background; cn-passport-visa allows white"],
            TestFiles.Problems(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: cn-passport-visa\n  background: gradient:white:blue\n"));
        Assert.Equal("off-white", RecipeLoader.Parse(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: us-2x2\n  background: off-white\n", "recipes/test.yaml").Finish!.Background);
    }

    [Fact]
    public void A_hex_colour_too_far_from_every_allowed_one_is_refused_at_load_as_the_finish_would_refuse_it()
    {
        // #438EDB is the ID-photo blue: us-2x2 (white, off-white) refuses it here, with the file's line, not after rendering.
        Assert.Equal(
            ["recipes/test.yaml:18:15: finish.background: us-2x2 does not allow a blue (#438EDB) background (ΔE 37.3 from white, the nearest allowed colour; at most 10); us-2x2 allows white, off-white"],
            TestFiles.Problems(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: us-2x2\n  background: \"#438EDB\"\n"));
        Assert.Equal(
            ["recipes/test.yaml:18:15: finish.background: cn-1inch does not allow a #00FF00 background (ΔE 33.3 from white, the nearest allowed colour; at most 10); cn-1inch allows white, blue, red"],
            TestFiles.Problems(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: cn-1inch\n  background: gradient:white:#00ff00\n"));

        // A hex near an allowed colour is allowed (ΔE2000 within background_delta_e), and so is keep.
        Assert.Equal("#FAFAFA", RecipeLoader.Parse(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: us-2x2\n  background: \"#FAFAFA\"\n", "recipes/test.yaml").Finish!.Background);
        Assert.Equal("gradient:#4590DA:white", RecipeLoader.Parse(TestFiles.MinimalV1 + "\n\nfinish:\n  spec: cn-1inch\n  background: gradient:#4590DA:white\n", "recipes/test.yaml").Finish!.Background);

        // Set by an override, it is refused naming the override.
        var e = Assert.Throws<RecipeException>(() => RecipeLoader.Parse(WithFinish, "recipes/test.yaml", ["finish.spec=us-2x2", "finish.background=#438EDB"]));
        Assert.Contains(e.Problems, p => p.ToString().Contains("us-2x2 does not allow a blue (#438EDB) background", StringComparison.Ordinal));
    }

    [Fact]
    public void Set_overrides_reach_finish()
    {
        var recipe = RecipeLoader.Parse(WithFinish, "recipes/test.yaml", ["finish.kb=20", "finish.sheet=a4"]);
        Assert.Equal(20, recipe.Finish!.Kb);
        Assert.Equal(FinishSheet.A4, recipe.Finish.Sheet);
    }
}
