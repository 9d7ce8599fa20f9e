using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;

namespace Miaoya.Pipeline;

/// <summary>Requests as the manifest records them: every image replaced by the run file it came from (name and sha256).</summary>
internal static class ManifestRequests
{
    /// <summary>The request as JSON with every image replaced by the run file it came from.</summary>
    public static JsonNode Of(RunContext run, Img2ImgRequest request)
    {
        var known = run.Manifest.Steps.SelectMany(s => s.Outputs).Append(run.Manifest.Inputs.Template)
            .GroupBy(f => f.Sha256).ToDictionary(g => g.Key, g => g.First());
        JsonNode Ref(EncodedImage image)
        {
            var sha = RunFolder.Sha256(image);
            return known.TryGetValue(sha, out var file) ? Reference(file) : new JsonObject { ["file"] = null, ["sha256"] = sha, ["bytes"] = image.Length };
        }

        // Serialise without the image bytes, then put references where the images go.
        var empty = new EncodedImage(ReadOnlyMemory<byte>.Empty);
        var units = request.AlwaysOnScripts?.ControlNet?.Args ?? [];
        var light = request with
        {
            InitImages = request.InitImages.Select(_ => empty).ToArray(),
            Mask = request.Mask is null ? null : empty,
            AlwaysOnScripts = request.AlwaysOnScripts is null ? null : request.AlwaysOnScripts with
            {
                ControlNet = new ControlNetScriptArgs(units.Select(u => u with { Image = u.Image is null ? null : empty, Images = u.Images.Select(_ => empty).ToArray(), Mask = u.Mask is null ? null : empty }).ToArray()),
            },
        };
        var json = WebUiPayload.ToJsonNode(light);
        var init = json["init_images"]!.AsArray();
        for (var i = 0; i < request.InitImages.Count; i++)
        {
            init[i] = Ref(request.InitImages[i]);
        }

        if (request.Mask is { } mask)
        {
            json["mask"] = Ref(mask);
        }

        for (var i = 0; i < units.Count; i++)
        {
            var unit = json["alwayson_scripts"]!["controlnet"]!["args"]![i]!;
            if (units[i].Images.Count > 0)
            {
                unit["image"] = new JsonArray(units[i].Images.Select(one => (JsonNode)new JsonObject { ["image"] = Ref(one) }).ToArray());
            }
            else if (units[i].Image is { } image)
            {
                unit["image"] = Ref(image);
            }

            if (units[i].Mask is { } unitMask)
            {
                unit["mask"] = Ref(unitMask);
            }
        }

        return json;
    }

    /// <summary>An extras request as JSON with its image replaced by the run file it came from.</summary>
    public static JsonNode Of(RunContext run, ExtrasSingleImageRequest request)
    {
        var json = WebUiPayload.ToJsonNode(request with { Image = new EncodedImage(ReadOnlyMemory<byte>.Empty) });
        var sha = RunFolder.Sha256(request.Image);
        var file = run.Manifest.Steps.SelectMany(s => s.Outputs).Append(run.Manifest.Inputs.Template).FirstOrDefault(f => f.Sha256 == sha);
        json["image"] = file is not null ? Reference(file) : new JsonObject { ["file"] = null, ["sha256"] = sha, ["bytes"] = request.Image.Length };
        return json;
    }

    /// <summary>A run file as a request or a step names it.</summary>
    public static JsonObject Reference(FileRecord file) => new() { ["file"] = file.File, ["sha256"] = file.Sha256 };
}
