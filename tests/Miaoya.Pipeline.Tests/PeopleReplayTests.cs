using System.Text.RegularExpressions;
using Miaoya.Recipes;

namespace Miaoya.Pipeline.Tests;

/// <summary>
/// A several-person run's per-face calls in <c>replay</c> and the HTML report: each face's inpaint and detail call is sent
/// again and labelled by its face, and the report shows each face's image, parameters and ControlNet maps.
/// </summary>
public sealed class PeopleReplayTests
{
    private static RunRequest TwoPersonV2Finish(PipelineHarness h) =>
        h.Request("v2-finish", PeopleTests.TwoPeople(h), ["img2img.skip_if_delta_e_below=0"]) with
        {
            Lora = null,
            Seed = -1,
            People =
            [
                new PersonRequest(0, LoraChoice.Parse("miaoya_demo_face:0.9"), []),
                new PersonRequest(1, LoraChoice.Parse("add_detail:0.6"), []),
            ],
        };

    [Fact]
    public async Task Replay_OfATwoPersonRun_ResendsEachFacesInpaintAndDetailCall_AndGetsTheSameImages()
    {
        using var h = new PipelineHarness();
        var result = await h.Pipeline.RunAsync(TwoPersonV2Finish(h));
        var sent = h.Received("/sdapi/v1/img2img");

        var replayed = await Replay.RunAsync(h.Client, Path.Combine(result.Folder, "manifest.json"), Path.Combine(h.Folder, "replay"));

        Assert.Equal(["inpaint face 0", "inpaint face 1", "img2img", "detail face 0", "detail face 1"], replayed.Select(r => r.Label));
        Assert.All(replayed, r => Assert.True(r.SameAsRecorded, $"{r.Label} differs"));
        Assert.Equal(
            ["inpaint-face-0.png", "inpaint-face-1.png", "img2img.png", "detail-face-0.png", "detail-face-1.png"],
            replayed.Select(r => Path.GetFileName(r.Output)));

        // Each face's request again, in the order of the run: its own LoRA, mask and (the run asked -1) the seed the box chose.
        var again = h.Received("/sdapi/v1/img2img").Skip(sent.Count).ToArray();
        Assert.Equal(sent.Count, again.Length);
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i]["prompt"]!.GetValue<string>(), again[i]["prompt"]!.GetValue<string>());
            Assert.Equal(sent[i]["mask"]?.GetValue<string>(), again[i]["mask"]?.GetValue<string>());
            Assert.NotEqual(-1, again[i]["seed"]!.GetValue<long>());
        }

        // Each detail face's answer is recorded with its face, as inpaint's are.
        var detail = result.Manifest.Step(StepName.Detail)!;
        Assert.Equal([0, 1], detail.Response!["people"]!.AsArray().Select(p => p!["face_index"]!.GetValue<int>()));
    }

    [Fact]
    public async Task Report_OfATwoPersonRun_ShowsEachFacesCall_WithItsControlNetMapsLabelledByModule()
    {
        using var h = new PipelineHarness();
        var result = await h.Pipeline.RunAsync(TwoPersonV2Finish(h));

        var page = await HtmlReport.WriteAsync(Path.Combine(h.Folder, "index.html"), [result]);
        var html = await File.ReadAllTextAsync(page);

        // Each face's image, with the step's whole image before them.
        foreach (var (file, caption) in new[]
        {
            ("inpaint-face-0.png", "inpaint face 0"), ("inpaint-face-1.png", "inpaint face 1"),
            ("detail-face-0-rendered.png", "detail face 0"), ("detail-face-1-rendered.png", "detail face 1"),
            ("restore-face-0-face.png", "restore face 0"), ("restore-face-1-face.png", "restore face 1"),
        })
        {
            Assert.Contains($"{file}\" alt=\"{caption}\"", html, StringComparison.Ordinal);
        }

        // The maps, labelled from each face's own request by module, as a one-person step's are.
        Assert.Contains("alt=\"inpaint: face 0, softedge_pidinet, weight 0.75\"", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"inpaint: face 1, openpose_faceonly, weight 0.7\"", html, StringComparison.Ordinal);
        Assert.Contains("alt=\"detail: face 1, softedge_pidinet, weight 0.6\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("alt=\"inpaint: ControlNet map", html, StringComparison.Ordinal);
        Assert.DoesNotContain("alt=\"detail: ControlNet map", html, StringComparison.Ordinal);

        // A parameters row per face call: its sampler, units and seed; the restore faces' restorer settings.
        var rows = Regex.Matches(html, "<tr class=\"face-call\"><td>([^<]*)</td><td><code>([^<]*)</code>").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(["inpaint face 0", "inpaint face 1", "detail face 0", "detail face 1", "restore face 0", "restore face 1"], rows.Select(r => r.Item1));
        Assert.All(rows.Take(4), r => Assert.Contains("ControlNet softedge_pidinet", r.Item2, StringComparison.Ordinal));
        Assert.All(rows.Take(4), r => Assert.Matches("seed [0-9]+, model ", r.Item2));
        Assert.All(rows.Skip(4), r => Assert.Contains("codeformer_visibility", r.Item2, StringComparison.Ordinal));
    }
}
