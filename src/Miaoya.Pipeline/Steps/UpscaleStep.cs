using System.Globalization;
using Miaoya.Imaging;
using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>upscale</c>: the box's extras upscaler (named in <c>upscale.upscaler</c>, checked against the box's list before the
/// call is placed) scales the image so its longer side is <c>upscale.long_side</c>. Skipped when it is that long already.
/// </summary>
internal sealed class UpscaleStep : IPortraitStep
{
    public string Name => StepName.Upscale;

    /// <summary>The extras call runs under A1111's queue lock like a render, but loads no checkpoint.</summary>
    public StepBoxUse BoxUse => StepBoxUse.Occupies;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var settings = run.Recipe.Upscale!;
        var current = run.Current ?? run.Template;
        var (width, height) = current.ReadSize();
        var longSide = Math.Max(width, height);
        if (longSide >= settings.LongSide)
        {
            record.Skip();
            record.SetResult(new UpscaleResult(settings.Upscaler, [width, height], settings.LongSide, SkippedBecause: string.Create(
                CultureInfo.InvariantCulture, $"the image's longer side is {longSide} px, at least long_side {settings.LongSide}")));
            return;
        }

        // resize_mode 0 scales both sides by one factor, so the aspect ratio is kept (A1111 scripts/postprocessing_upscale.py).
        var scale = Math.Round(settings.LongSide / (double)longSide, 6);
        var request = PayloadBuilder.Upscale(settings, current, scale);
        record.Request = ManifestRequests.Of(run, request);
        var upscaled = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, Name, generation: false), (box, ct) => box.Client.ExtraSingleImageAsync(request, ct), cancellationToken);
        var (w, h) = upscaled.ReadSize();
        if (Math.Abs(Math.Max(w, h) - settings.LongSide) > 2)
        {
            throw new PipelineException($"{record.Box} answered a {w}×{h} image; asked to scale {width}×{height} by {scale} to a longer side of {settings.LongSide}.") { Step = Name };
        }

        record.Outputs.Add(await run.Folder.WriteAsync($"upscale{upscaled.FileExtension}", upscaled, cancellationToken));
        run.Current = upscaled;
        record.SetResult(new UpscaleResult(settings.Upscaler, [width, height], settings.LongSide, [w, h], scale));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs) => FinishingPass.RestoreCurrent(run, record, outputs);
}
