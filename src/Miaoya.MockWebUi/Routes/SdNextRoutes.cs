using System.Globalization;
using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// SD.Next's own routes (vladmandic/sdnext@431bcc3 modules/api/api.py:45, 61): <c>GET /sdapi/v1/version</c> and
/// <c>POST /sdapi/v1/control</c>, its native control pipeline, which the mock answers like txt2img.
/// </summary>
internal sealed class SdNextRoutes(MockState state, JobQueue jobs, MockRandom random)
{
    private static readonly string[] UnitTypes = ["t2i adapter", "controlnet", "xs", "lite", "reference", "ip"]; // modules/control/unit.py:15

    // ReqControl (modules/api/control.py:21-35): control_run's parameters (modules/control/run.py:224-242) the mock reads, and
    // the additional fields. pydantic v1, extra keys ignored (control_run has *args, no **kwargs: models.py:412-420).
    private static readonly FieldSpec[] ControlFields =
    [
        new("inputs", FieldKind.StrList, new JsonArray()),
        new("inits", FieldKind.StrList, new JsonArray()),
        new("mask", FieldKind.Str),
        new("unit_type", FieldKind.Str),
        new("prompt", FieldKind.Str, ""),
        new("negative_prompt", FieldKind.Str, ""),
        new("styles", FieldKind.StrList, new JsonArray()),
        new("steps", FieldKind.Int, 20),
        new("seed", FieldKind.Int, -1),
        new("cfg_scale", FieldKind.Float, 6.0),
        new("denoising_strength", FieldKind.Float, 0.3),
        new("batch_count", FieldKind.Int, 1),
        new("batch_size", FieldKind.Int, 1),
        new("width_before", FieldKind.Int, 512),
        new("height_before", FieldKind.Int, 512),
        new("sampler_name", FieldKind.Str, "UniPC"),
        new("script_name", FieldKind.Str),
        new("script_args", FieldKind.List, new JsonArray()),
        new("send_images", FieldKind.Bool, true),
        new("save_images", FieldKind.Bool, false),
        new("alwayson_scripts", FieldKind.Dict, new JsonObject()),
        new("extra", FieldKind.Dict, new JsonObject()),
    ];

    // ItemControl (control.py:12-18)
    private static readonly FieldSpec[] ControlItem =
    [
        new("process", FieldKind.Str, ""),
        new("model", FieldKind.Str, ""),
        new("strength", FieldKind.Float, 1.0),
        new("start", FieldKind.Float, 0.0),
        new("end", FieldKind.Float, 1.0),
        new("override", FieldKind.Str),
    ];

    public void AddTo(RouteTable routes)
    {
        routes.Get("/sdapi/v1/version", _ => Task.FromResult(MockHttpResult.Json(SdNextCatalog.Version())));
        routes.Post("/sdapi/v1/control", request =>
        {
            var (fields, units) = Validate(request.BodyObject());
            return jobs.RunAsync("control", (int)Math.Max(1, fields.GetInt("steps", 20)), () => Render(fields, units));
        });
    }

    private static (Dictionary<string, JsonNode?> Fields, JsonArray Units) Validate(JsonObject body)
    {
        var issues = new List<ValidationIssue>();
        var fields = PydanticFields.Parse(body, ControlFields, issues);
        var units = new JsonArray();
        if (body["control"] is { } control)
        {
            if (control is not JsonArray list)
            {
                issues.Add(new ValidationIssue(["body", "control"], "value is not a valid list", "type_error.list"));
            }
            else
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is not JsonObject item)
                    {
                        issues.Add(new ValidationIssue(["body", "control", i], "value is not a valid dict", "type_error.dict"));
                        continue;
                    }

                    var parsed = new JsonObject();
                    foreach (var spec in ControlItem)
                    {
                        parsed[spec.Name] = item.TryGetPropertyValue(spec.Name, out var raw)
                            ? PydanticFields.Coerce(raw, spec.Kind, ["body", "control", i, spec.Name], issues)?.DeepClone()
                            : spec.DefaultClone();
                    }

                    units.Add(parsed);
                }
            }
        }

        SdNextIdentityFields.Validate(body, "face", issues);
        if (issues.Count > 0)
        {
            throw MockRouteException.Validation(issues);
        }

        return (fields, units);
    }

    /// <summary>
    /// post_control (control.py:150-196): batch_count × batch_size images; <c>processed</c> holds the last processed
    /// (preprocessed) input when a known unit_type has units and an input; alwayson_scripts are dropped (sanitize_args, where
    /// SD.Next's own code marks scripts through the control API as not supported yet); params echoes the request with <c>units</c> = the control items.
    /// </summary>
    private MockHttpResult Render(Dictionary<string, JsonNode?> f, JsonArray units)
    {
        var width = (int)Math.Clamp(f.GetInt("width_before", 512), 8, 4096);
        var height = (int)Math.Clamp(f.GetInt("height_before", 512), 8, 4096);
        var total = (int)(Math.Clamp(f.GetInt("batch_count", 1), 1, 64) * Math.Clamp(f.GetInt("batch_size", 1), 1, 64));
        var seed = f.GetInt("seed", -1);
        if (seed == -1)
        {
            seed = (long)(random.NextDouble() * 4294967294);
        }

        var prompt = f.GetStr("prompt") ?? "";
        var format = state.OptionString("samples_format", "jpg");
        var send = f.GetBool("send_images", true);
        var images = new JsonArray();
        var processed = new JsonArray();
        for (var i = 0; i < total && send; i++)
        {
            using var image = Painter.Generate(seed + i, prompt, width, height);
            images.Add(ImageCodec.Encode(image, format));
        }

        var unitType = f.GetStr("unit_type");
        if (send && units.Count > 0 && unitType is not null && UnitTypes.Contains(unitType, StringComparer.Ordinal)
            && f["inputs"] is JsonArray { Count: > 0 } inputs)
        {
            using var input = ImageCodec.Decode(inputs[^1]!.GetValue<string>());
            using var map = Painter.DetectedMap(input, "Depth", width, height);
            processed.Add(ImageCodec.Encode(map, format));
        }

        var parameters = new JsonObject();
        foreach (var (key, value) in f)
        {
            parameters[key] = value?.DeepClone();
        }

        parameters["units"] = units;
        var info = string.Create(CultureInfo.InvariantCulture,
            $"{prompt}\nSteps: {f.GetInt("steps", 20)}, Seed: {seed}, Size: {width}x{height}, CFG scale: {f.GetFloat("cfg_scale", 6.0)}, App: SD.Next, Version: {SdNextCatalog.Commit[..7]}");
        return MockHttpResult.Json(new JsonObject { ["images"] = images, ["processed"] = processed, ["params"] = parameters, ["info"] = info });
    }
}
