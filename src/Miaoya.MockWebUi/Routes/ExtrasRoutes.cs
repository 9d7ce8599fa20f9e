using System.Text.Json.Nodes;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>
/// <c>POST /sdapi/v1/extra-single-image</c>: face restoration and upscaling, a job on the queue like every extras call
/// (A1111 modules/api/api.py extras_single_image_api, "with self.queue_lock"). The mock's restoration sharpens (so a
/// sharpness measure sees it) and its upscalers resize; the request is validated as the real models are.
/// </summary>
internal sealed class ExtrasRoutes(MockState state, JobQueue jobs, Lacking lacking)
{
    /// <summary>The restorers a stock A1111 registers (modules/codeformer_model.py, modules/gfpgan_model.py), as GET /sdapi/v1/face-restorers names them.</summary>
    public static readonly string[] FaceRestorers = ["CodeFormer", "GFPGAN"];

    public void AddTo(RouteTable routes)
    {
        routes.Get("/sdapi/v1/face-restorers", _ => Task.FromResult(MockHttpResult.Json(new JsonArray(
            [.. FaceRestorers.Where(n => !lacking.Name(n)).Select(n => (JsonNode)new JsonObject { ["name"] = n, ["cmd_dir"] = $"/models/{n}" })]))));
        routes.Post("/sdapi/v1/extra-single-image", request => jobs.RunAsync("extras", 1, () => ExtraSingleImage(request.BodyObject())));
    }

    /// <summary>ExtrasSingleImageRequest (A1111 modules/api/models.py ExtrasBaseRequest: ranges as its Field(ge, le, gt)).</summary>
    private MockHttpResult ExtraSingleImage(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        var f = PydanticFields.Parse(body,
        [
            new("resize_mode", FieldKind.Int, 0),
            new("show_extras_results", FieldKind.Bool, true),
            new("gfpgan_visibility", FieldKind.Float, 0),
            new("codeformer_visibility", FieldKind.Float, 0),
            new("codeformer_weight", FieldKind.Float, 0),
            new("upscaling_resize", FieldKind.Float, 2),
            new("upscaling_resize_w", FieldKind.Int, 512),
            new("upscaling_resize_h", FieldKind.Int, 512),
            new("upscaling_crop", FieldKind.Bool, true),
            new("upscaler_1", FieldKind.Str, "None"),
            new("upscaler_2", FieldKind.Str, "None"),
            new("extras_upscaler_2_visibility", FieldKind.Float, 0),
            new("upscale_first", FieldKind.Bool, false),
            new("image", FieldKind.Str, ""),
        ], issues);
        foreach (var name in (string[])["gfpgan_visibility", "codeformer_visibility", "codeformer_weight", "extras_upscaler_2_visibility"])
        {
            var value = f.GetFloat(name, 0);
            if (value is < 0 or > 1)
            {
                issues.Add(new ValidationIssue(["body", name], value < 0 ? "ensure this value is greater than or equal to 0" : "ensure this value is less than or equal to 1", value < 0 ? "value_error.number.not_ge" : "value_error.number.not_le"));
            }
        }

        if (f.GetFloat("upscaling_resize", 2) <= 0)
        {
            issues.Add(new ValidationIssue(["body", "upscaling_resize"], "ensure this value is greater than 0", "value_error.number.not_gt"));
        }

        if (f.GetInt("resize_mode", 0) is not (0 or 1))
        {
            issues.Add(new ValidationIssue(["body", "resize_mode"], "unexpected value; permitted: 0, 1", "value_error.const"));
        }

        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        using var image = ImageCodec.Decode(f.GetStr("image") ?? "");
        var restore = Math.Max(f.GetFloat("gfpgan_visibility", 0), f.GetFloat("codeformer_visibility", 0) * (1 - (f.GetFloat("codeformer_weight", 0) / 2)));
        if (restore > 0)
        {
            Sharpen(image, restore);
        }

        // scripts/postprocessing_upscale.py: "None" runs no upscaler; any other name must be one of shared.sd_upscalers
        // (assert ... f'could not find upscaler named {upscaler_1_name}').
        var upscaler = f.GetStr("upscaler_1") ?? "None";
        if (upscaler != "None")
        {
            var known = Catalog.Upscalers().Select(u => u!["name"]!.GetValue<string>());
            if (!known.Contains(upscaler, StringComparer.Ordinal) || lacking.Name(upscaler))
            {
                throw MockRouteException.Internal("AssertionError", $"could not find upscaler named {upscaler}");
            }

            var (width, height) = f.GetInt("resize_mode", 0) == 0
                ? ((int)Math.Round(image.Width * f.GetFloat("upscaling_resize", 2)), (int)Math.Round(image.Height * f.GetFloat("upscaling_resize", 2)))
                : ((int)f.GetInt("upscaling_resize_w", 512), (int)f.GetInt("upscaling_resize_h", 512));
            image.Mutate(x => x.Resize(new ResizeOptions
            {
                Size = new Size(width, height),
                Mode = f.GetBool("upscaling_crop", true) ? ResizeMode.Crop : ResizeMode.Stretch,
                Sampler = KnownResamplers.Lanczos3,
            }));
        }

        var html = $"<p>Postprocess upscale by: {f.GetFloat("upscaling_resize", 2)}, Postprocess upscaler: {upscaler}</p>";
        return MockHttpResult.Json(new JsonObject
        {
            ["html_info"] = html,
            ["image"] = f.GetBool("show_extras_results", true) ? ImageCodec.Encode(image, state.OptionString("samples_format", "png")) : null,
        });
    }

    /// <summary>The mock's "restoration": an unsharp mask blended in by <paramref name="amount"/> (0..1).</summary>
    private static void Sharpen(Image<Rgba32> image, double amount)
    {
        using var sharp = image.Clone(x => x.GaussianSharpen(2f));
        var a = (float)Math.Clamp(amount, 0, 1);
        image.ProcessPixelRows(sharp, (target, source) =>
        {
            for (var y = 0; y < target.Height; y++)
            {
                var t = target.GetRowSpan(y);
                var s = source.GetRowSpan(y);
                for (var x = 0; x < t.Length; x++)
                {
                    t[x] = new Rgba32(
                        (byte)Math.Round(t[x].R + ((s[x].R - t[x].R) * a)),
                        (byte)Math.Round(t[x].G + ((s[x].G - t[x].G) * a)),
                        (byte)Math.Round(t[x].B + ((s[x].B - t[x].B) * a)),
                        t[x].A);
                }
            }
        });
    }
}
