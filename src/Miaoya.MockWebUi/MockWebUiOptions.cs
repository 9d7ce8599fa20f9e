namespace Miaoya.MockWebUi;

/// <summary>Which WebUI generation the mock imitates.</summary>
public enum MockWebUiProfile
{
    /// <summary>A1111 v1.10.1 + ControlNet 1.1.455 (pydantic units) + picobyte WD14 tagger. Name "webui-1.10".</summary>
    WebUi110,

    /// <summary>A1111 v1.8.0 + ControlNet 1.1.447 (dataclass units) + toriato WD14 tagger. Name "webui-1.8".</summary>
    WebUi18,

    /// <summary>
    /// lllyasviel/stable-diffusion-webui-forge at dfdcbab (A1111 1.10.1 base) with its built-in ControlNet
    /// (extensions-builtin/sd_forge_controlnet) + picobyte WD14 tagger. Name "forge".
    /// </summary>
    Forge,

    /// <summary>Panchovix/stable-diffusion-webui-reForge main at 3b56b26 with its built-in ControlNet + picobyte WD14 tagger. Name "reforge".</summary>
    ReForge,

    /// <summary>SD.Next (vladmandic/sdnext master 431bcc3, diffusers backend): no /controlnet/*, /sdapi/v1/control instead. Name "sdnext".</summary>
    SdNext,
}

/// <summary>Start-up settings of <see cref="MockWebUiServer"/>.</summary>
public sealed class MockWebUiOptions
{
    /// <summary>TCP port; 0 picks a free port.</summary>
    public int Port { get; set; }

    /// <summary>Server generation to imitate.</summary>
    public MockWebUiProfile Profile { get; set; } = MockWebUiProfile.WebUi110;

    /// <summary>Time every generation-type call (txt2img, img2img, interrogate, tagger, detect, rembg) takes at least, the mock's own image work included.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>
    /// Time a model switch takes (a request naming a checkpoint other than the loaded one, or a switch back), added to the
    /// call like A1111's load of the weights; <see cref="MockWebUiServer.ModelSwitches"/> counts them either way.
    /// </summary>
    public TimeSpan ModelSwitchLatency { get; set; }

    /// <summary>Fraction (0..1) of generation-type calls answered with HTTP 500 OutOfMemoryError.</summary>
    public double FailRate { get; set; }

    /// <summary>
    /// "user:pass" (comma-separated list allowed) like --api-auth; null disables auth. WireMock's admin API
    /// (<c>/__admin/requests</c>, which shows every request with its Authorization header) then needs the first pair too.
    /// </summary>
    public string? Auth { get; set; }

    /// <summary>
    /// The most request-body text WireMock's request log keeps (UTF-16 bytes); older entries are dropped first. Requests
    /// carry base64 images, so a count limit alone let a long session grow by gigabytes.
    /// </summary>
    public long MaxRequestLogBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Seed of the RNG used for fail-rate and fault decisions.</summary>
    public int? Seed { get; set; }

    /// <summary>Bind 0.0.0.0 instead of 127.0.0.1.</summary>
    public bool ListenOnAllInterfaces { get; set; }

    /// <summary>
    /// What this box lacks, for tests of doctor and preflight: <c>controlnet</c>, <c>tagger</c> or <c>rembg</c> (the
    /// extension's routes answer 404 and <c>/sdapi/v1/extensions</c> leaves it out), <c>evaclip</c> (no
    /// sd-webui-controlnet-evaclip: no <c>EVA02-CLIP-L-14-336</c> preprocessor, so PuLID fails), <c>insightface</c> (the
    /// Python package is missing: FaceID, InstantID and PuLID preprocessors fail), or the name of a checkpoint (model_name),
    /// LoRA, embedding or ControlNet model (without its [hash]) to leave out of the listings.
    /// </summary>
    public ISet<string> Without { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// A LoRA folder like the WebUI's models/Lora: its *.safetensors are scanned at start and again on
    /// POST /sdapi/v1/refresh-loras (not on every GET, as the real server), and GET /sdapi/v1/loras lists them after the
    /// built-in LoRAs. Null: the built-ins only.
    /// </summary>
    public string? LoraDirectory { get; set; }

    /// <summary>
    /// Optional stand-in for txt2img's painted image: called with (prompt, seed, width, height); a non-null result
    /// (disposed by the mock) is sent instead. Lets tests return a face where the real box would render one.
    /// </summary>
    public Func<string, long, int, int, SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>?>? Txt2ImgImage { get; set; }

    /// <summary>
    /// The box's ControlNet unit slots, its <c>control_net_unit_count</c> (1..10, 3 by default as on a real box; the option needs a
    /// restart, sd-webui-controlnet@56cec5b scripts/controlnet.py:1366-1367): <c>/controlnet/settings</c> and
    /// <c>/sdapi/v1/options</c> and <c>/sdapi/v1/script-info</c> report it, and units past it are never read (on Forge and
    /// reForge too, which have no <c>/controlnet/settings</c>).
    /// </summary>
    public int ControlNetUnitCount { get; set; } = 3;

    /// <summary>Names accepted by <see cref="ParseProfile"/>.</summary>
    public static IReadOnlyList<string> ProfileNames { get; } = ["webui-1.10", "webui-1.8", "forge", "reforge", "sdnext"];

    /// <summary>Parses "webui-1.10", "webui-1.8", "forge", "reforge" or "sdnext" (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not a known profile.</exception>
    public static MockWebUiProfile ParseProfile(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "WEBUI-1.10" => MockWebUiProfile.WebUi110,
            "WEBUI-1.8" => MockWebUiProfile.WebUi18,
            "FORGE" => MockWebUiProfile.Forge,
            "REFORGE" => MockWebUiProfile.ReForge,
            "SDNEXT" => MockWebUiProfile.SdNext,
            _ => throw new ArgumentException(
                $"Unknown mock WebUI profile '{name}'. Valid names: {string.Join(", ", ProfileNames)}.", nameof(name)),
        };
    }
}
