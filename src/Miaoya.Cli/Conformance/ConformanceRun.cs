using System.Text;
using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;
using Miaoya.WebUi.Tagger;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.Cli.Conformance;

/// <summary>
/// The cheap real calls of <c>miaoya conformance</c> and the rules each answer must follow for the client to work: probe
/// (lists, backend, sampler dialect), a 64×64 2-step txt2img (PNG of the asked size, info with the seed, the sampler kept),
/// an unknown sampler (what the box does with one), a ControlNet softedge unit (ran: <c>ControlNet 0</c> in the infotext
/// and its detected map appended), the tagger and rembg when present.
/// </summary>
internal sealed class ConformanceRun(WebUiClient client, HttpClient raw)
{
    private const long Seed = 20261205;
    private const int Size = 64;

    private readonly List<ConformanceCheck> _checks = [];

    public IReadOnlyList<ConformanceCheck> Checks => _checks;

    public WebUiCapabilities? Capabilities { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var capabilities = await ProbeAsync(cancellationToken);
        if (capabilities is null)
        {
            return;
        }

        Capabilities = capabilities;
        var sampler = capabilities.Samplers.Any(s => s.Name == "Euler a") ? "Euler a" : capabilities.Samplers[0].Name;
        await Txt2ImgAsync(sampler, cancellationToken);
        await UnknownSamplerAsync(cancellationToken);
        await ControlNetAsync(capabilities, sampler, cancellationToken);
        await TaggerAsync(capabilities, cancellationToken);
        await RembgAsync(capabilities, cancellationToken);
    }

    private void Add(string id, string title, CheckStatus status, string detail) => _checks.Add(new ConformanceCheck(id, title, status, detail));

    private void Rule(string id, string title, bool ok, string detail) => Add(id, title, ok ? CheckStatus.Pass : CheckStatus.Fail, detail);

    private async Task<WebUiCapabilities?> ProbeAsync(CancellationToken cancellationToken)
    {
        WebUiCapabilities c;
        try
        {
            c = await client.ProbeAsync(cancellationToken);
        }
        catch (WebUiException e)
        {
            Add("probe", "The probe reads the box's lists", CheckStatus.Fail, e.Message);
            return null;
        }

        Rule("probe", "The probe reads the box's lists", c.Samplers.Count > 0 && c.Checkpoints.Count > 0,
            $"{c.WebUiVersion}: {c.Samplers.Count} samplers, {c.Schedulers.Count} schedulers, {c.Checkpoints.Count} checkpoints, {c.Loras.Count} LoRAs, "
            + $"ControlNet {(c.HasControlNet ? $"{c.ControlNetModels.Count(m => m != "None")} models" : "absent")}, tagger {(c.HasTagger ? c.TaggerFlavor.ToString() : "absent")}, rembg {(c.HasRembg ? "present" : "absent")}");
        Rule("probe.backend", "The backend is one the client drives", c.Backend is WebUiBackend.A1111 or WebUiBackend.Forge or WebUiBackend.ReForge or WebUiBackend.SdNext,
            $"detected {c.Backend.DisplayName()}{(c.BackendVersion is { } v ? " " + v : "")}");
        var composite = c.Samplers.Any(s => s.Name.EndsWith(" Karras", StringComparison.Ordinal));
        Rule("probe.sampler-dialect", "Sampler names match the dialect the probe chose",
            c.SamplerDialect == SamplerDialect.Combined ? c.Schedulers.Count == 0 : c.Schedulers.Count > 0,
            $"{c.SamplerDialect}: {c.Schedulers.Count} schedulers listed, {(composite ? "composite names such as \"… Karras\" listed" : "no composite \"… Karras\" names")}");
        return c;
    }

    private async Task Txt2ImgAsync(string sampler, CancellationToken cancellationToken)
    {
        GenerationResponse response;
        try
        {
            response = await client.Txt2ImgAsync(Request(sampler), cancellationToken);
        }
        catch (WebUiException e)
        {
            Add("txt2img", "A 64×64 txt2img answers", CheckStatus.Fail, e.Message);
            return;
        }

        var images = response.GeneratedImages;
        var first = images.Count > 0 ? images[0] : null;
        var size = first is null ? default : SafeSize(first);
        Rule("txt2img.image", "Images come back as base64 PNG of the asked size", images.Count == 1 && first!.Format == ImageFileFormat.Png && size == (Size, Size),
            images.Count == 1 ? $"{first!.Format}, {size.Width}×{size.Height} (asked PNG {Size}×{Size})" : $"{images.Count} generated images (asked 1)");
        var info = response.Info;
        Rule("txt2img.info", "info parses and carries the seed", info is not null && info.Seed == Seed && info.AllSeeds is { Count: 1 },
            info is null ? "no info" : $"seed {info.Seed} (sent {Seed}), all_seeds [{string.Join(", ", info.AllSeeds ?? [])}], steps {info.Steps}, {info.Width}×{info.Height}");
        Rule("txt2img.sampler", "The sampler sent is the sampler used", info?.SamplerName == sampler,
            $"sent \"{sampler}\", info says \"{info?.SamplerName}\"");
    }

    /// <summary>Sent raw (the client refuses it before sending): does the box refuse an unknown sampler or silently use another?</summary>
    private async Task UnknownSamplerAsync(CancellationToken cancellationToken)
    {
        var refused = false;
        try
        {
            await client.Txt2ImgAsync(Request("Euler Sideways"), cancellationToken);
        }
        catch (WebUiRequestException)
        {
            refused = true;
        }

        if (!refused)
        {
            Add("sampler.unknown.client", "The client refuses an unknown sampler before sending", CheckStatus.Fail, "the client sent a sampler the box does not list");
            return;
        }

        var body = new JsonObject { ["prompt"] = "miaoya conformance", ["seed"] = Seed, ["steps"] = 1, ["width"] = Size, ["height"] = Size, ["sampler_name"] = "Euler Sideways" };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var answer = await raw.PostAsync(new Uri("sdapi/v1/txt2img", UriKind.Relative), content, cancellationToken);
        var text = await answer.Content.ReadAsStringAsync(cancellationToken);
        string detail;
        if (!answer.IsSuccessStatusCode)
        {
            detail = $"the box answers {(int)answer.StatusCode} ({Shorten(text)}); the client refuses it before sending";
        }
        else
        {
            var used = JsonNode.Parse(JsonNode.Parse(text)?["info"]?.GetValue<string>() ?? "{}")?["sampler_name"]?.GetValue<string>();
            detail = $"the box renders anyway with \"{used}\" (a silent substitution): the client's own check is what keeps a recipe's sampler";
        }

        Add("sampler.unknown", "An unknown sampler is refused (by the client before sending; the box's behaviour noted)", CheckStatus.Pass, detail);
    }

    private async Task ControlNetAsync(WebUiCapabilities c, string sampler, CancellationToken cancellationToken)
    {
        const string Id = "controlnet.unit";
        const string Title = "A ControlNet unit (softedge_pidinet) runs and appends its detected map";
        if (!c.HasControlNet)
        {
            Add(Id, Title, CheckStatus.Skip, c.ControlNetAbsence ?? "the box has no ControlNet");
            return;
        }

        // An SD1.5 softedge model: the check renders with the box's loaded (SD1.5) checkpoint, and an SDXL model there would
        // fail as an SD-version mismatch, which is not what this check is about.
        var model = c.ControlNetModels
            .Where(m => m.Contains("softedge", StringComparison.OrdinalIgnoreCase) && Recipes.ModelFamilies.Guess(m) != Recipes.ModelFamily.Sdxl)
            .Order(StringComparer.Ordinal).FirstOrDefault();
        var module = c.ResolveControlNetModule("softedge_pidinet");
        if (model is null || module is null)
        {
            Add(Id, Title, CheckStatus.Skip, model is null
                ? $"no softedge model on the box (it lists {string.Join(", ", c.ControlNetModels.Where(m => m != "None").DefaultIfEmpty("none"))})"
                : "the box has no softedge_pidinet preprocessor");
            return;
        }

        var request = Request(sampler) with
        {
            AlwaysOnScripts = new AlwaysOnScripts
            {
                ControlNet = new ControlNetScriptArgs([new ControlNetUnit { Module = module, Model = model, Image = ControlImage(), ProcessorRes = Size }]),
            },
        };
        GenerationResponse response;
        try
        {
            response = await client.Txt2ImgAsync(request, cancellationToken);
        }
        catch (WebUiException e)
        {
            Add(Id, Title, CheckStatus.Fail, $"module \"{module}\", model \"{model}\": {e.Message}");
            return;
        }

        var ran = response.Info?.ExtraGenerationParams?.ContainsKey("ControlNet 0") == true;
        var maps = response.Images.Count - response.GeneratedImages.Count;
        Rule(Id, Title, ran && maps == 1,
            $"module \"{module}\", model \"{model}\": {(ran ? "'ControlNet 0' in extra_generation_params" : "no 'ControlNet 0' in extra_generation_params (the unit did not run)")}, {maps} detected map(s) appended (expected 1)");
    }

    private async Task TaggerAsync(WebUiCapabilities c, CancellationToken cancellationToken)
    {
        const string Id = "tagger";
        const string Title = "The tagger answers ratings and tags above the threshold";
        if (!c.HasTagger)
        {
            Add(Id, Title, CheckStatus.Skip, "no tagger (/tagger/v1/interrogators does not answer)");
            return;
        }

        var model = c.TaggerModels.Order(StringComparer.Ordinal).First();
        try
        {
            var result = await client.TaggerInterrogateAsync(new TaggerInterrogateRequest(ControlImage(), model, 0.35), cancellationToken);
            var below = result.Tags.Where(t => t.Value < 0.35).Select(t => t.Key).ToArray();
            Rule(Id, Title, result.Ratings.Count > 0 && below.Length == 0,
                $"model {model}, {result.Flavor} shape: {result.Ratings.Count} ratings, {result.Tags.Count} tags{(below.Length > 0 ? $", under the threshold: {string.Join(", ", below)}" : "")}");
        }
        catch (WebUiException e)
        {
            Add(Id, Title, CheckStatus.Fail, $"model {model}: {e.Message}");
        }
    }

    private async Task RembgAsync(WebUiCapabilities c, CancellationToken cancellationToken)
    {
        const string Id = "rembg";
        const string Title = "rembg answers a PNG of the same size";
        if (!c.HasRembg)
        {
            Add(Id, Title, CheckStatus.Skip, "no rembg extension");
            return;
        }

        try
        {
            var response = await client.RembgAsync(new RembgRequest(ControlImage()), cancellationToken);
            var size = SafeSize(response.Image);
            Rule(Id, Title, response.Image.Format == ImageFileFormat.Png && size == (Size, Size), $"{response.Image.Format}, {size.Width}×{size.Height}");
        }
        catch (WebUiException e)
        {
            Add(Id, Title, CheckStatus.Fail, e.Message);
        }
    }

    private static Txt2ImgRequest Request(string sampler) =>
        new() { Prompt = "miaoya conformance, a red apple", Seed = Seed, SamplerName = sampler, Steps = 2, Width = Size, Height = Size, CfgScale = 7 };

    private static (int Width, int Height) SafeSize(EncodedImage image)
    {
        try
        {
            return image.ReadSize();
        }
        catch (InvalidImageDataException)
        {
            return (0, 0);
        }
    }

    /// <summary>A 64×64 PNG with edges (a light square on dark), made here so the run needs no file.</summary>
    private static EncodedImage ControlImage()
    {
        using var image = new Image<Rgba32>(Size, Size, new Rgba32(30, 30, 30));
        image.ProcessPixelRows(rows =>
        {
            for (var y = 16; y < 48; y++)
            {
                rows.GetRowSpan(y)[16..48].Fill(new Rgba32(220, 200, 180));
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return new EncodedImage(stream.ToArray());
    }

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..157] + "...";
}
