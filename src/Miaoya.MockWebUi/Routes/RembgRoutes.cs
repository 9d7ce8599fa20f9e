using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>The rembg extension's <c>POST /rembg</c>: open (no <c>--api-auth</c>), a job on the queue, 404 when the box lacks rembg.</summary>
internal sealed class RembgRoutes(MockState state, JobQueue jobs)
{
    public void AddTo(RouteTable routes) =>
        routes.Post("/rembg", request => jobs.RunAsync("rembg", 1, () => Rembg(request.BodyObject())), RouteAccess.Open, "rembg");

    /// <summary>POST /rembg (AUTOMATIC1111/stable-diffusion-webui-rembg scripts/api.py:19-45).</summary>
    private MockHttpResult Rembg(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        var f = PydanticFields.Parse(body,
        [
            new("input_image", FieldKind.Str, ""),
            new("model", FieldKind.Str, "u2net"),
            new("return_mask", FieldKind.Bool, false),
            new("alpha_matting", FieldKind.Bool, false),
            new("alpha_matting_foreground_threshold", FieldKind.Int, 240),
            new("alpha_matting_background_threshold", FieldKind.Int, 10),
            new("alpha_matting_erode_size", FieldKind.Int, 10),
        ], issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        var model = f.GetStr("model");
        if (string.IsNullOrEmpty(model) || model == "None")
        {
            return MockHttpResult.Null(); // rembg api.py:30-31 returns nothing
        }

        using var input = ImageCodec.Decode(f.GetStr("input_image") ?? "");
        if (!Catalog.RembgModels.Contains(model, StringComparer.Ordinal))
        {
            throw MockRouteException.Internal("ValueError", $"No session class found for model '{model}'");
        }

        using var output = Painter.RemoveBackground(input, f.GetBool("return_mask", false));
        // encode_pil_to_base64 → follows samples_format like every A1111 image (api.py:102-132)
        return MockHttpResult.Json(new JsonObject { ["image"] = ImageCodec.Encode(output, state.OptionString("samples_format", "png"), keepAlpha: true) });
    }
}
