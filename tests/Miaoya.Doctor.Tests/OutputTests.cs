using System.Text.Json.Nodes;
using Miaoya.Recipes;

namespace Miaoya.Doctor.Tests;

/// <summary>The table and JSON forms of a report, and what a recipe is said to need.</summary>
public sealed class OutputTests
{
    private static readonly DoctorReport Report = new(["v2"],
    [
        new(new Uri("http://box-a:7860/"), "A1111 ≥ 1.10",
        [
            new("API", DoctorStatus.Ok, "reachable"),
            new("embedding badhandv4", DoctorStatus.Missing, "not loaded", "put badhandv4.pt in embeddings/", ["v2"]),
            new("saved copies", DoctorStatus.Warning, "save_init_img on", "untick it"),
        ]),
        new(new Uri("http://box-b:7860/"), null, [new("API", DoctorStatus.Missing, "not reachable", "start it")]),
    ]);

    [Fact]
    public void Tables_OneTablePerBox_SymbolsDetailsAndFixLines()
    {
        using var writer = new StringWriter();
        DoctorOutput.WriteTables(Report, writer);
        var lines = writer.ToString().Split(Environment.NewLine);

        Assert.StartsWith("http://box-a:7860/  A1111 ≥ 1.10", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("  ✔ API ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  ✘ embedding badhandv4  not loaded  [v2]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("fix: put badhandv4.pt in embeddings/", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  ! saved copies", StringComparison.Ordinal));
        Assert.Contains("  → 1 missing, 1 warning", lines);
        Assert.Contains(lines, l => l.StartsWith("http://box-b:7860/  (no answer)", StringComparison.Ordinal));
    }

    [Fact]
    public void Json_CarriesEveryRowAndTheVerdicts()
    {
        var json = JsonNode.Parse(DoctorOutput.ToJson(Report))!;

        Assert.False(json["ok"]!.GetValue<bool>());
        Assert.Equal("v2", json["recipes"]![0]!.GetValue<string>());
        var a = json["boxes"]![0]!;
        Assert.Equal("http://box-a:7860/", a["url"]!.GetValue<string>());
        Assert.False(a["ok"]!.GetValue<bool>());
        Assert.Equal("missing", a["rows"]![1]!["status"]!.GetValue<string>());
        Assert.Equal("put badhandv4.pt in embeddings/", a["rows"]![1]!["fix"]!.GetValue<string>());
        Assert.Equal("v2", a["rows"]![1]!["recipes"]![0]!.GetValue<string>());
        Assert.Null(json["boxes"]![1]!["version"]);
        Assert.Contains("≥", DoctorOutput.ToJson(Report), StringComparison.Ordinal);
    }

    [Fact]
    public void Requirements_OfV2()
    {
        var needs = RecipeRequirements.Of(RecipeLoader.LoadBuiltIn("v2"));

        Assert.Equal(
        [
            "Tagger tagger", "ControlNet controlnet", "ControlNetUnits 3", "ControlNetUnits 2",
            "ControlNetModule reference_only", "ControlNetModule softedge_pidinet", "ControlNetModel control_v11p_sd15_softedge",
            "ControlNetModule openpose_faceonly", "ControlNetModel control_v11p_sd15_openpose",
            "ControlNetModule depth_midas", "ControlNetModel control_v11f1p_sd15_depth",
            "ControlNetModule softedge_pidinet", "ControlNetModel control_v11p_sd15_softedge",
            "Checkpoint chilloutmix_NiPrunedFp32Fix", "Embedding ng_deepnegative_v1_75t", "Embedding badhandv4",
            "Sampler DPM++ SDE Karras", "Sampler DPM++ SDE Karras",
        ], needs.Select(n => $"{n.Kind} {n.Name}"));
        Assert.Equal("img2img.controlnet.depth.model", needs.Single(n => n.Name == "control_v11f1p_sd15_depth").Where);
    }

    [Fact]
    public void Requirements_DisabledUnitsAndNamedTaggerModel()
    {
        var needs = RecipeRequirements.Of(RecipeLoader.LoadBuiltIn("v1-face", ["inpaint.controlnet.openpose.enabled=false", "interrogate.model=wd14-vit.v2", "inpaint.scheduler=Karras", "inpaint.sampler=DPM++ SDE"]));

        Assert.DoesNotContain(needs, n => n.Name.Contains("openpose", StringComparison.Ordinal));
        Assert.Contains(needs, n => n is { Kind: RequirementKind.TaggerModel, Name: "wd14-vit.v2" });
        Assert.Contains(needs, n => n is { Kind: RequirementKind.ControlNetUnits, Name: "2" });
        Assert.Contains(needs, n => n is { Kind: RequirementKind.Sampler, Name: "DPM++ SDE|Karras" });
    }
}
