namespace Miaoya.IdPhoto.Tests;

public class SpecTests
{
    [Theory]
    [InlineData("cn-1inch", 300, 295, 413)]
    [InlineData("cn-1inch", 254, 250, 350)]
    [InlineData("cn-1inch", 350, 344, 482)]
    [InlineData("cn-1inch-small", 300, 260, 378)]
    [InlineData("cn-1inch-large", 300, 390, 567)]
    [InlineData("cn-2inch", 300, 413, 579)] // not 626: HivisionIDPhotos-ComfyUI #22
    [InlineData("cn-2inch-small", 300, 413, 531)]
    [InlineData("cn-passport-visa", 300, 390, 567)]
    [InlineData("icao-35x45", 300, 413, 531)]
    [InlineData("icao-35x45", 254, 350, 450)]
    [InlineData("us-2x2", 300, 600, 600)]
    public void Pixel_sizes_are_computed_from_millimetres_and_dpi(string name, int dpi, int width, int height) =>
        Assert.Equal((width, height), IdSpecs.Find(name).PixelSize(dpi));

    [Fact]
    public void Every_shipped_spec_loads_names_its_sources_and_its_targets_fit_its_own_ranges()
    {
        Assert.Equal(8, IdSpecs.BuiltIn.Count);
        foreach (var spec in IdSpecs.BuiltIn)
        {
            Assert.NotEmpty(spec.Sources);
            Assert.Equal(300, spec.Dpi);
            var (w, h) = spec.PixelSize(spec.Dpi);
            var head = new HeadGeometry(new(100, 100), new(100, 50), new(100, 153), new(0, 1), 0); // 103 px crown to chin
            var plan = CropPlan.For(head, spec, w, h);
            Assert.True(spec.HeadHeight.Contains(plan.HeadFraction), spec.Name);
            Assert.True(spec.TopMargin.Contains(plan.TopFraction), spec.Name);
            Assert.True(spec.EyeLine.Contains(plan.EyeFraction), $"{spec.Name}: eye line {plan.EyeFraction}");
        }
    }

    [Fact]
    public void An_unknown_name_names_the_closest_specs()
    {
        var e = Assert.Throws<IdSpecException>(() => IdSpecs.Find("cn-1inh"));
        Assert.Contains("'cn-1inh'", e.Message, StringComparison.Ordinal);
        Assert.Contains("closest: \"cn-1inch\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindBuiltIn_takes_shipped_names_only_never_a_file()
    {
        Assert.Equal("cn-1inch", IdSpecs.FindBuiltIn("cn-1inch").Name);
        var path = Path.Combine(Path.GetTempPath(), $"spec-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, IdSpecs.ReadBuiltIn("cn-1inch").Replace("name: cn-1inch", "name: mine", StringComparison.Ordinal));
        try
        {
            Assert.Equal("mine", IdSpecs.Find(path).Name);
            var e = Assert.Throws<IdSpecException>(() => IdSpecs.FindBuiltIn(path));
            Assert.Contains("unknown ID-photo spec", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("spec file", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_spec_file_is_read_and_every_problem_is_reported_with_its_place()
    {
        var good = IdSpecs.ReadBuiltIn("cn-1inch").Replace("name: cn-1inch", "name: mine", StringComparison.Ordinal);
        var path = Path.Combine(Path.GetTempPath(), $"spec-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, good);
        try
        {
            Assert.Equal("mine", IdSpecs.Find(path).Name);
        }
        finally
        {
            File.Delete(path);
        }

        var bad = "name: x\ntitle: y\nwidth_mm: 25\nheight_mm: 35\ndpi: 72\nhead_height: [0.7, 0.5]\ntop_margin: [0.05, 0.15]\n" +
            "eye_line: [0.3, 0.5]\nbackgrounds: [white, purple]\nformats: [jpeg]\nhead_hieght: 1\n";
        var problems = Assert.Throws<IdSpecException>(() => IdSpecs.Parse(bad, "bad.yaml")).Message.Split(Environment.NewLine);
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:5:6: dpi: 72 is not one of 300, 254, 350", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:6:14: head_height: the range [0.7, 0.5] runs backwards", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:9:22: backgrounds: 'purple' is not a colour", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("bad.yaml:11:1: head_hieght: unknown key (closest: \"head_height\"", StringComparison.Ordinal));
        Assert.Equal(4, problems.Length);
    }
}
