using System.Collections.Concurrent;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.Pipeline.Tests;

/// <summary>Progress while the box renders, cancelling, and choosing among several faces.</summary>
public sealed class ControlTests
{
    [Fact]
    public async Task Progress_IsReadFromTheBoxWhileItRenders()
    {
        using var h = new PipelineHarness(latency: TimeSpan.FromSeconds(1.5));
        h.Pipeline.ProgressInterval = TimeSpan.FromMilliseconds(100);
        var reports = new ConcurrentQueue<PipelineProgress>();

        await h.Pipeline.RunAsync(h.Request("v1-face"), new Progress(reports));

        Assert.Contains(reports, r => r.Step == "inpaint" && r.Fraction is > 0 and < 1);
        Assert.Contains(reports, r => r.Step == "inpaint" && r.Fraction == 1);
    }

    [Fact]
    public async Task Cancel_InterruptsTheBox_KeepsFinishedSteps_AndTheRunResumes()
    {
        using var h = new PipelineHarness(latency: TimeSpan.FromSeconds(3));
        var request = h.Request("v1-face");
        using var cancel = new CancellationTokenSource();
        var reports = new ConcurrentQueue<PipelineProgress>();
        var progress = new Progress(reports, r =>
        {
            if (r.Step == "inpaint")
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(300));
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Pipeline.RunAsync(request, progress, cancel.Token));

        Assert.True(h.Server.InterruptCount >= 1, "the box was told to stop");
        var manifest = await new RunFolder(request.OutputDirectory).LoadManifestAsync(default);
        Assert.Equal(RunStatus.Cancelled, manifest.Status);
        Assert.Equal(StepStatus.Cancelled, manifest.Step("inpaint")!.Status);
        Assert.Equal(StepStatus.Succeeded, manifest.Step("mask")!.Status);

        var resumed = await h.Pipeline.ResumeAsync(request.OutputDirectory);
        Assert.Equal(RunStatus.Succeeded, resumed.Manifest.Status);
        Assert.Single(h.Received("/tagger/v1/interrogate"));
    }

    [Fact]
    public async Task SeveralFaces_LargestByDefault_FaceIndexChoosesAnother()
    {
        using var h = new PipelineHarness();
        var path = h.Write("two.png", s =>
        {
            using var astronaut = Image.Load<Rgb24>(PipelineHarness.Astronaut);
            using var face = astronaut.Clone(c => c.Crop(new Rectangle(130, 20, 200, 220)));
            using var small = face.Clone(c => c.Resize(80, 88));
            using var canvas = new Image<Rgb24>(440, 260, new Rgb24(120, 120, 120));
            canvas.Mutate(c => c.DrawImage(face, new Point(10, 20), 1f).DrawImage(small, new Point(300, 90), 1f));
            canvas.SaveAsPng(s);
        });

        var largest = await h.Pipeline.RunAsync(h.Request("v1-face", template: path) with { OutputDirectory = Path.Combine(h.Folder, "largest") });
        var second = await h.Pipeline.RunAsync(h.Request("v1-face", template: path) with { OutputDirectory = Path.Combine(h.Folder, "second"), FaceIndex = 1 });
        var beyond = await Assert.ThrowsAsync<PipelineException>(() => h.Pipeline.RunAsync(h.Request("v1-face", template: path) with { OutputDirectory = Path.Combine(h.Folder, "beyond"), FaceIndex = 5 }));

        Assert.Equal(2, largest.Manifest.Step("mask")!.ResultAs<MaskResult>()!.FacesFound);
        Assert.True(CentreX(largest) < 220, "largest face is the left one");
        Assert.True(CentreX(second) > 220, "face 1 is the right one");
        Assert.Contains("--face-index 5", beyond.Message, StringComparison.Ordinal);
    }

    private static float CentreX(RunResult run)
    {
        var box = run.Manifest.Step("mask")!.ResultAs<MaskResult>()!.Face!.Box;
        return box[0] + (box[2] / 2);
    }

    /// <summary>Collects reports synchronously (System.Progress would post them to the thread pool, out of order).</summary>
    private sealed class Progress(ConcurrentQueue<PipelineProgress> reports, Action<PipelineProgress>? also = null) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value)
        {
            reports.Enqueue(value);
            also?.Invoke(value);
        }
    }
}
