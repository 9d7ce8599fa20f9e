using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>How a profile's ControlNet reads the units of <c>alwayson_scripts.controlnet.args</c>.</summary>
internal enum UnitDialect
{
    /// <summary>sd-webui-controlnet ≥1.1.448: pydantic unit, validation errors → 500 ValidationError.</summary>
    Pydantic,

    /// <summary>sd-webui-controlnet ≤1.1.447: dataclass unit, ints accepted for the enums.</summary>
    Dataclass,

    /// <summary>Forge's built-in ControlNet: <c>ControlNetUnit.from_dict</c> keeps its own fields only, no validation.</summary>
    Forge,

    /// <summary>reForge's built-in ControlNet: Forge's, with enums converted in <c>from_dict</c> and the image wrapped.</summary>
    ReForge,
}

/// <summary>Sampler names the profile takes.</summary>
internal enum SamplerDialect
{
    /// <summary>A1111 ≤1.8: composite names ("DPM++ 2M Karras"); no <c>/sdapi/v1/schedulers</c>.</summary>
    Composite,

    /// <summary>A1111 ≥1.9: sampler + scheduler fields, <c>/sdapi/v1/schedulers</c>.</summary>
    Split,

    /// <summary>
    /// SD.Next's diffusers samplers (<see cref="SdNextCatalog.Samplers"/>): plain names without aliases or options, an unknown
    /// one 404, no <c>/sdapi/v1/schedulers</c>.
    /// </summary>
    Diffusers,
}

/// <summary>Which WD14 tagger extension the box has installed.</summary>
internal enum TaggerFlavor
{
    /// <summary>picobyte/stable-diffusion-webui-wd14-tagger e72d984.</summary>
    Picobyte,

    /// <summary>toriato/stable-diffusion-webui-wd14-tagger 99bf7d8.</summary>
    Toriato,
}

/// <summary>The bodies a profile's FastAPI app gives its errors.</summary>
internal enum ErrorDialect
{
    /// <summary>
    /// A1111's api_middleware: every exception, HTTPException included, as {"error","detail","body","errors"}
    /// (A1111 v1.10.1 modules/api/api.py:167-196; reForge@3b56b26:modules/api/api.py:167-196, installed at :210).
    /// </summary>
    A1111,

    /// <summary>
    /// Forge: api_middleware is commented out (forge@dfdcbab:modules/api/api.py:210), so an HTTPException is FastAPI's
    /// {"detail": …}; any other exception goes to webui.py's handler, {"error","detail","body","message"}
    /// (forge@dfdcbab:webui.py:30-38, registered for Exception at :53 and :116).
    /// </summary>
    Forge,

    /// <summary>
    /// SD.Next: {"error","code","detail","body","errors"} (vladmandic/sdnext@431bcc3 modules/api/middleware.py:64-96); its
    /// routes build these bodies themselves (<see cref="SdNextErrors"/>), so an exception is answered with its body as is.
    /// </summary>
    SdNext,
}

/// <summary>The code base a profile's API comes from.</summary>
internal enum ServerFamily
{
    /// <summary>AUTOMATIC1111's WebUI and the forks that keep its API (Forge, reForge).</summary>
    A1111,

    /// <summary>
    /// SD.Next (vladmandic/sdnext): <c>/sdapi/v1/version</c> and <c>/sdapi/v1/control</c>, its own txt2img/img2img validation,
    /// options set semantics and answer, scripts and extensions, no latent-upscale-modes or realesrgan-models.
    /// </summary>
    SdNext,
}

/// <summary>What tells one imitated server from another, in one place instead of profile comparisons in each route.</summary>
/// <param name="Version">info.version and the infotext's "Version:".</param>
/// <param name="Units">How ControlNet units are read.</param>
/// <param name="Samplers">Sampler naming.</param>
/// <param name="Tagger">The WD14 tagger installed.</param>
/// <param name="Errors">Error bodies.</param>
/// <param name="ControlNetVersion">What <c>GET /controlnet/version</c> answers; null: no such route (404).</param>
/// <param name="HasSdVae"><c>GET /sdapi/v1/sd-vae</c> exists.</param>
/// <param name="HasSdModules"><c>GET /sdapi/v1/sd-modules</c> exists (Forge's VAE / text-encoder list).</param>
internal sealed record ProfileTraits(
    string Version,
    UnitDialect Units,
    SamplerDialect Samplers,
    TaggerFlavor Tagger,
    ErrorDialect Errors,
    int? ControlNetVersion,
    bool HasSdVae,
    bool HasSdModules)
{
    /// <summary>True on Forge and reForge: the built-in ControlNet (lib_controlnet) instead of sd-webui-controlnet.</summary>
    public bool ForgeControlNet => Units is UnitDialect.Forge or UnitDialect.ReForge;

    /// <summary>Samplers of the split dialect, in /sdapi/v1/samplers order: name, aliases, default scheduler.</summary>
    public IReadOnlyList<(string Name, string[] Aliases, string? DefaultScheduler)> SplitSamplers { get; init; } = Catalog.Samplers110;

    /// <summary>Schedulers of the split dialect, in /sdapi/v1/schedulers order.</summary>
    public IReadOnlyList<(string Name, string Label, string[]? Aliases, double? Rho, bool NeedInner)> Schedulers { get; init; } = Catalog.Schedulers;

    /// <summary>The code base of the server's API (A1111 and its forks, or SD.Next).</summary>
    public ServerFamily Family { get; init; } = ServerFamily.A1111;

    /// <summary>Any <c>/controlnet/*</c> route exists (an extension or a built-in ControlNet); false: all 404.</summary>
    public bool HasControlNet { get; init; } = true;

    /// <summary>
    /// The folder under Profiles/ with the profile's generated data: <c>webui-options.json</c> (every option at its default)
    /// and, for sd-webui-controlnet, <c>controlnet-preprocessors.json</c>. Forge and reForge are A1111 1.10.1-based and share
    /// webui-1.10's options (plus <see cref="ExtraOptions"/>); their ControlNet lists come from Profiles/Forge*.cs instead.
    /// </summary>
    public string DataFolder { get; init; } = "webui-1.10";

    /// <summary>The profile's settings beyond those of <see cref="DataFolder"/>'s options (see <see cref="MockState"/>).</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraOptions { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The traits of <paramref name="profile"/>.</summary>
    public static ProfileTraits For(MockWebUiProfile profile) => profile switch
    {
        // {"version":3} from CN 1.1.448 (pydantic unit), 2 before (CN api.py:50-52; external_code.py:26-27)
        MockWebUiProfile.WebUi110 => new("v1.10.1", UnitDialect.Pydantic, SamplerDialect.Split, TaggerFlavor.Picobyte, ErrorDialect.A1111, 3, true, false),
        MockWebUiProfile.WebUi18 => new("v1.8.0", UnitDialect.Dataclass, SamplerDialect.Composite, TaggerFlavor.Toriato, ErrorDialect.A1111, 2, true, false)
        {
            DataFolder = "webui-1.8",
        },
        MockWebUiProfile.Forge => ForgeProfiles.Forge,
        MockWebUiProfile.ReForge => ForgeProfiles.ReForge,
        MockWebUiProfile.SdNext => SdNextTraits,
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "Unknown mock WebUI profile."),
    };

    /// <summary>
    /// vladmandic/sdnext@431bcc3 (diffusers backend): the infotext's version is the short commit, no ControlNet extension
    /// (no /controlnet/*; .gitmodules has none), its diffusers samplers, its error bodies and its 482 options
    /// (Profiles/sdnext/webui-options.json); sd-vae kept; the tagger routes answer as toriato's, as before.
    /// </summary>
    private static readonly ProfileTraits SdNextTraits = new(
        SdNextCatalog.Commit[..7], UnitDialect.Pydantic, SamplerDialect.Diffusers, TaggerFlavor.Toriato, ErrorDialect.SdNext,
        ControlNetVersion: null, HasSdVae: true, HasSdModules: false)
    {
        Family = ServerFamily.SdNext,
        HasControlNet = false,
        DataFolder = "sdnext",
    };
}
