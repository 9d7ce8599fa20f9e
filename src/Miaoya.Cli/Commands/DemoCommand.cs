using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.MockWebUi;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using SixLabors.ImageSharp;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya demo</c>: the V1 inpaint call end to end on an embedded template photo, against an in-process mock WebUI
/// (or a real box with <c>--webui</c>): probe, tagger prompt, openpose face box, mask, img2img with three ControlNet units.
/// </summary>
internal static class DemoCommand
{
    private const string TemplateResource = "template-astronaut.png";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the mask, the result and run.json", DefaultValueFactory = _ => new DirectoryInfo("out/demo") };
        var template = new Option<FileInfo?>("--template") { Description = "Template photo (PNG/JPEG/WebP); default: the embedded astronaut portrait" };
        var webui = CliOptions.WebUi();
        var auth = CliOptions.Auth();
        var profile = CliOptions.Profile();
        var seed = new Option<long>("--seed") { Description = "Generation seed", DefaultValueFactory = _ => 42 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every call" };
        var command = new Command("demo", "Run the V1 inpaint call end to end (in-process mock WebUI unless --webui is given).")
        {
            output, template, webui, auth, profile, seed, verbose,
        };
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(() => RunAsync(
            result.GetValue(output)!, result.GetValue(template), result.GetValue(webui), result.GetValue(auth), result.GetValue(profile),
            result.GetValue(seed), result.GetValue(verbose), cancellationToken)));
        return command;
    }

    private static async Task<int> RunAsync(
        DirectoryInfo output, FileInfo? templateFile, Uri? webui, string? auth, MockWebUiProfile profile, long seed, bool verbose, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        EncodedImage template;
        try
        {
            template = templateFile is null ? await EmbeddedTemplateAsync(cancellationToken) : await EncodedImage.ReadFileAsync(templateFile.FullName, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidImageDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: --template: {e.Message}");
            return 2;
        }

        var (width, height) = template.ReadSize();
        using var mock = webui is null ? MockWebUiServer.Start(new MockWebUiOptions { Port = 0, Profile = profile }) : null;
        var endpoint = WebUiEndpoint.WithAuth(webui ?? mock!.Url, auth);
        if (mock is not null)
        {
            Console.WriteLine($"[webui]     started a mock WebUI ({MockWebUiCommand.ProfileName(profile)}) at {mock.Url}");
        }

        using var session = new WebUiSession(endpoint, verbose);
        var client = session.Client;

        var capabilities = await client.ProbeAsync(cancellationToken);
        Console.WriteLine($"[probe]     {capabilities.WebUiVersion}; ControlNet API {capabilities.ControlNetApiVersion?.ToString() ?? "absent"}; tagger {capabilities.TaggerFlavor}");
        var missing = Missing(capabilities);
        if (missing.Count > 0)
        {
            await Console.Error.WriteLineAsync($"error: {endpoint} lacks what the demo needs: {string.Join("; ", missing)}");
            return 1;
        }

        var tags = await client.TaggerInterrogateAsync(new TaggerInterrogateRequest(template, capabilities.TaggerModels[0], 0.35), cancellationToken);
        var tagText = string.Join(", ", tags.Tags.OrderByDescending(t => t.Value).Select(t => t.Key).Take(12));
        Console.WriteLine($"[interrogate] {tags.Tags.Count} tags ({tags.Flavor} shape): {tagText}");

        if (await FaceBoxAsync(client, template, width, height, cancellationToken) is not { } face)
        {
            await Console.Error.WriteLineAsync($"error: POST /controlnet/detect (openpose_faceonly) found no face in {templateFile?.FullName ?? "the template"}; try a photo with one frontal face.");
            return 1;
        }

        Console.WriteLine($"[mask]      face box x={face.X:0} y={face.Y:0} w={face.Width:0} h={face.Height:0} (openpose face keypoints)");
        var mask = FaceMask.Ellipse(width, height, face, grow: 0.25f, featherPixels: 12);

        var (sampler, scheduler) = capabilities.ResolveSampler("DPM++ SDE Karras");
        var checkpoint = capabilities.Checkpoints.First(c => c.ModelName.Contains("chilloutmix", StringComparison.OrdinalIgnoreCase));
        var lora = capabilities.Loras[0];
        var request = new Img2ImgRequest
        {
            Prompt = $"{tagText}, <lora:{lora.Name}:0.9>",
            NegativePrompt = "ng_deepnegative_v1_75t, badhandv4, lowres, bad anatomy",
            Seed = seed,
            SamplerName = sampler,
            Scheduler = scheduler,
            Steps = 30,
            CfgScale = 7,
            Width = width,
            Height = height,
            DenoisingStrength = 0.45,
            OverrideSettings = new Dictionary<string, JsonNode?> { ["sd_model_checkpoint"] = checkpoint.Title },
            InitImages = [template],
            Mask = mask,
            MaskBlur = 16,
            InpaintingFill = InpaintingFill.Original,
            InpaintFullRes = false,
            InpaintFullResPadding = 32,
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs(
                [
                    new ControlNetUnit { Module = "reference_only", Weight = 0.5, Image = template },
                    new ControlNetUnit { Module = "softedge_pidinet", Model = "control_v11p_sd15_softedge", Weight = 0.75, Image = template },
                    new ControlNetUnit { Module = "openpose_faceonly", Model = "control_v11p_sd15_openpose", Weight = 0.7, Image = template },
                ]),
            },
        };
        var generation = Stopwatch.StartNew();
        var response = await client.Img2ImgAsync(request, cancellationToken);
        generation.Stop();
        var generated = response.GeneratedImages;
        if (generated.Count == 0)
        {
            await Console.Error.WriteLineAsync($"error: POST /sdapi/v1/img2img on {endpoint} returned no generated image.");
            return 1;
        }

        Console.WriteLine($"[inpaint]   {sampler}{(scheduler is null ? "" : $" + {scheduler}")}, 30 steps, 3 ControlNet units -> {generated.Count} image(s) + {response.Images.Count - generated.Count} ControlNet map(s) in {generation.Elapsed.TotalMilliseconds:0} ms");

        var folder = output.FullName;
        var resultPath = Path.Combine(folder, "result" + generated[0].FileExtension);
        await mask.WriteFileAtomicallyAsync(Path.Combine(folder, "mask.png"), cancellationToken);
        await generated[0].WriteFileAtomicallyAsync(resultPath, cancellationToken);
        for (var i = generated.Count; i < response.Images.Count; i++)
        {
            await response.Images[i].WriteFileAtomicallyAsync(Path.Combine(folder, $"controlnet-map-{i - generated.Count}{response.Images[i].FileExtension}"), cancellationToken);
        }

        var manifest = new JsonObject
        {
            ["webui"] = endpoint.BaseUrl.ToString(),
            ["webui_version"] = capabilities.WebUiVersion,
            ["controlnet_api"] = capabilities.ControlNetApiVersion,
            ["checkpoint"] = checkpoint.Title,
            ["lora"] = lora.Name,
            ["sampler_name"] = sampler,
            ["scheduler"] = scheduler,
            ["seed"] = response.Info?.Seed ?? seed,
            ["prompt"] = request.Prompt,
            ["face_box"] = new JsonArray(face.X, face.Y, face.Width, face.Height),
            ["result"] = Path.GetFileName(resultPath),
            ["generation_ms"] = Math.Round(generation.Elapsed.TotalMilliseconds),
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Indented);
        await AtomicFile.WriteAllBytesAsync(Path.Combine(folder, "run.json"), manifestBytes, cancellationToken);

        Console.WriteLine($"[done]      {resultPath}, mask.png and run.json in {folder} ({clock.Elapsed.TotalSeconds:0.0} s)");
        return 0;
    }

    private static List<string> Missing(WebUiCapabilities c)
    {
        var missing = new List<string>();
        if (!c.HasControlNet)
        {
            missing.Add("the ControlNet extension");
        }

        if (!c.HasTagger)
        {
            missing.Add("the WD14 tagger extension");
        }

        if (!c.Checkpoints.Any(m => m.ModelName.Contains("chilloutmix", StringComparison.OrdinalIgnoreCase)))
        {
            missing.Add("a chilloutmix checkpoint in models/Stable-diffusion");
        }

        if (c.Loras.Count == 0)
        {
            missing.Add("a face LoRA in models/Lora");
        }

        return missing;
    }

    /// <summary>The face box from the WebUI's openpose face keypoints, mapped back from the padded detect canvas.</summary>
    private static async Task<RectangleF?> FaceBoxAsync(WebUiClient client, EncodedImage template, int width, int height, CancellationToken cancellationToken)
    {
        const int resolution = 512;
        var detect = await client.DetectAsync(
            new ControlNetDetectRequest { ControlnetModule = "openpose_faceonly", ControlnetInputImages = [template], ControlnetProcessorRes = resolution },
            cancellationToken);
        var pose = detect.Poses is { Count: > 0 } poses ? poses[0] : null;
        var points = pose?.People.SelectMany(p => p.FacePoints())
            .Select(p => pose.ToSourcePixels(p.X, p.Y, width, height, resolution))
            .ToList();
        if (pose is null || points is null || points.Count == 0)
        {
            return null;
        }

        var left = points.Min(p => p.X);
        var top = points.Min(p => p.Y);
        return new RectangleF((float)left, (float)top, (float)(points.Max(p => p.X) - left), (float)(points.Max(p => p.Y) - top));
    }

    private static async Task<EncodedImage> EmbeddedTemplateAsync(CancellationToken cancellationToken)
    {
        await using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream(TemplateResource)
            ?? throw new InvalidOperationException($"embedded resource {TemplateResource} is missing from the build.");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken);
        return new EncodedImage(copy.ToArray());
    }
}
