using System.CommandLine;
using System.Globalization;
using Miaoya.Faces;
using Miaoya.FaceSwap;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya faceswap</c>: the person's face from <c>--source</c> into the template <c>--target</c>, locally with
/// insightface's inswapper through ONNX Runtime (models from <c>--models DIR</c>, insightface's file names).
/// </summary>
internal static class FaceSwapCommand
{
    public static Command Create()
    {
        var source = new Option<FileInfo>("--source") { Description = "Photo of the person (the face to put in)", Required = true };
        var target = new Option<FileInfo>("--target") { Description = "Template photo (the face to replace)", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Result image (.png or .jpg)", Required = true };
        var models = new Option<DirectoryInfo>("--models") { Description = "Folder with det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx", Required = true };
        var detector = new Option<string>("--detector") { Description = "scrfd (det_10g.onnx) or blazeface (built in, coarser alignment); default: scrfd when det_10g.onnx is there and is not the repository's stand-in" };
        detector.AcceptOnlyFromAmong("scrfd", "blazeface");
        var faceIndex = new Option<int?>("--face-index") { Description = "Which face of the target to replace (0 = largest); default: the largest" };
        var sourceFaceIndex = new Option<int?>("--source-face-index") { Description = "Which face of the source to use (0 = largest)" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N (falls back to the CPU, saying why, when CUDA cannot load)", DefaultValueFactory = _ => "cpu" };
        var dump = new Option<DirectoryInfo?>("--dump") { Description = "Write the intermediates: detections, aligned crops, embedding and latent, raw swap output, paste mask" };
        var command = new Command("faceswap", "Swap a person's face into a template photo locally (insightface inswapper on ONNX Runtime).")
        {
            source, target, output, models, detector, faceIndex, sourceFaceIndex, device, dump,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            if (Environment.GetEnvironmentVariable(Pipeline.PortraitPipeline.DisableInsightfaceVariable) is "1" or "true")
            {
                await Console.Error.WriteLineAsync($"error: face swapping is disabled on this deployment ({Pipeline.PortraitPipeline.DisableInsightfaceVariable}): insightface's models are for non-commercial research only.");
                return 2;
            }

            var folder = result.GetValue(models)!;
            var outFile = result.GetValue(output)!;
            var extension = outFile.Extension.ToLowerInvariant();
            if (extension is not (".png" or ".jpg" or ".jpeg"))
            {
                await Console.Error.WriteLineAsync($"error: --out {outFile.Name}: give a .png or .jpg file name.");
                return 2;
            }

            ExecutionDevice executionDevice;
            try
            {
                executionDevice = ExecutionDevice.Parse(result.GetValue(device)!);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"error: --device: {e.Message}");
                return 2;
            }

            var detFile = Path.Combine(folder.FullName, ModelRegistry.Det10g.FileName);
            var standInDetector = ModelRegistry.StandInDetectorNote(folder.FullName);
            var useScrfd = result.GetValue(detector) switch
            {
                "scrfd" => true,
                "blazeface" => false,
                _ => File.Exists(detFile) && standInDetector is null,
            };
            if (result.GetValue(detector) is null && standInDetector is not null)
            {
                await Console.Error.WriteLineAsync(standInDetector);
            }

            var required = new[] { ModelRegistry.ArcFace.FileName, ModelRegistry.Inswapper.FileName }.Concat(useScrfd ? [ModelRegistry.Det10g.FileName] : []);
            var missing = required.Where(name => !File.Exists(Path.Combine(folder.FullName, name))).ToList();
            if (missing.Count > 0)
            {
                await Console.Error.WriteLineAsync($"error: --models {folder.FullName}: missing {string.Join(", ", missing)} (insightface's file names: det_10g.onnx and w600k_r50.onnx from the buffalo_l pack, inswapper_128.onnx).");
                return 2;
            }

            using var sourcePixels = await TryLoadAsync("--source", result.GetValue(source)!, cancellationToken);
            using var targetPixels = sourcePixels is null ? null : await TryLoadAsync("--target", result.GetValue(target)!, cancellationToken);
            if (sourcePixels is null || targetPixels is null)
            {
                return 2;
            }

            FaceSwapper swapper;
            try
            {
                swapper = FaceSwapper.Create(
                    new FaceSwapModelPaths(Path.Combine(folder.FullName, ModelRegistry.ArcFace.FileName), Path.Combine(folder.FullName, ModelRegistry.Inswapper.FileName), useScrfd ? detFile : null),
                    executionDevice,
                    line => Console.Error.WriteLine(line));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}");
                return 2;
            }

            using (swapper)
            {
                FaceSwapResult swap;
                try
                {
                    var request = new FaceSwapRequest
                    {
                        SourceFaceIndex = result.GetValue(sourceFaceIndex),
                        TargetFaceIndices = result.GetValue(faceIndex) is { } index ? [index] : null,
                        Dump = result.GetValue(dump) is not null,
                    };
                    swap = swapper.Swap(sourcePixels, targetPixels, request, cancellationToken);
                }
                catch (FaceSelectionException e)
                {
                    var file = e.Message.StartsWith("source", StringComparison.Ordinal) ? result.GetValue(source)!.FullName : result.GetValue(target)!.FullName;
                    await Console.Error.WriteLineAsync($"error: {file}: {e.Message} Use a photo with one clearly visible frontal face, or choose with --face-index / --source-face-index.");
                    return 1;
                }

                using (swap)
                {
                    var encoded = extension == ".png" ? EncodedImage.FromPng(swap.Image) : Jpeg(swap.Image);
                    await encoded.WriteFileAtomicallyAsync(outFile.FullName, cancellationToken);
                    if (result.GetValue(dump) is { } dumpFolder && swap.Dump is { } intermediates)
                    {
                        await intermediates.WriteToAsync(dumpFolder.FullName, cancellationToken);
                        Console.WriteLine($"Intermediates: {dumpFolder.FullName}");
                    }

                    var timings = string.Join(", ", swap.TimingsMs.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value:0.0} ms")));
                    Console.WriteLine($"Detector {swapper.DetectorName}: {swap.SourceFaces.Count} face(s) in the source, {swap.TargetFaces.Count} in the target; replaced target face {string.Join(", ", swap.SwappedTargetIndices)}.");
                    Console.WriteLine($"Timings: {timings}");
                    Console.WriteLine($"Result: {outFile.FullName}");
                    return 0;
                }
            }
        });
        return command;
    }

    /// <summary>The upright RGB photo, or null after saying on stderr which option's file is unreadable and why.</summary>
    private static async Task<Image<Rgb24>?> TryLoadAsync(string option, FileInfo file, CancellationToken cancellationToken)
    {
        try
        {
            return await FaceImages.LoadAsync(await EncodedImage.ReadFileAsync(file.FullName, cancellationToken), cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidImageDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: {option}: {e.Message}");
            return null;
        }
    }

    private static EncodedImage Jpeg(Image<Rgb24> image)
    {
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 95 });
        return new EncodedImage(stream.ToArray());
    }
}
