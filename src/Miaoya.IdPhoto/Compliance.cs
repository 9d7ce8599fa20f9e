using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto;

/// <summary>
/// One rule of the verdict: what was measured, what the spec requires, whether it passed and, when it failed, how to fix
/// it. <see cref="Measured"/> and <see cref="Required"/> are the table's text; the numbers behind them are
/// <see cref="Value"/>, <see cref="Min"/>, <see cref="Max"/>, <see cref="Expected"/> and <see cref="Extra"/> (JSON).
/// </summary>
public sealed record ComplianceRule(string Id, bool Passed, string Measured, string Required, string? Detail = null)
{
    /// <summary>What to do about it: set on every rule that fails.</summary>
    public string? Hint { get; init; }

    /// <summary>The rule could not be measured here and does not count (e.g. the rim without a person matte).</summary>
    public bool Skipped { get; init; }

    /// <summary>The measured value: a number, an object of numbers (pixel size) or a word (format); null when not measured.</summary>
    public JsonNode? Value { get; init; }

    /// <summary>The unit of <see cref="Value"/>, <see cref="Min"/> and <see cref="Max"/>.</summary>
    public string? Unit { get; init; }

    /// <summary>The lowest allowed value, or null.</summary>
    public double? Min { get; init; }

    /// <summary>The highest allowed value, or null.</summary>
    public double? Max { get; init; }

    /// <summary>The exact value required (pixel size, DPI, face count), or null.</summary>
    public JsonNode? Expected { get; init; }

    /// <summary>The allowed words (formats, background colours), or null.</summary>
    public IReadOnlyList<string>? Allowed { get; init; }

    /// <summary>Further numbers of this rule (millimetres, sample counts, the nearest colour), merged into its JSON.</summary>
    public JsonObject? Extra { get; init; }

    /// <summary>The rule as a JSON object: numbers as numbers, <c>null</c> where there is none.</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["id"] = Id,
            ["passed"] = Passed,
            ["skipped"] = Skipped,
            ["value"] = Value?.DeepClone(),
            ["unit"] = Unit,
            ["min"] = Min,
            ["max"] = Max,
            ["expected"] = Expected?.DeepClone(),
            ["allowed"] = Allowed is null ? null : new JsonArray([.. Allowed.Select(a => (JsonNode?)JsonValue.Create(a))]),
        };
        if (Extra is not null)
        {
            foreach (var (key, value) in Extra)
            {
                o[key] = value?.DeepClone();
            }
        }

        o["text"] = $"{Measured} (required {Required})"; // the table's cells, for people; the numbers are above
        o["detail"] = Detail;
        o["hint"] = Hint;
        return o;
    }
}

/// <summary>The pass/fail verdict of one photo against one spec, as a table and as JSON.</summary>
public sealed record ComplianceReport(string File, string Spec, int Dpi, IReadOnlyList<ComplianceRule> Rules, bool Generated)
{
    /// <summary>The statement every report carries about generated and edited photos.</summary>
    public const string AuthorityNote =
        "Photos changed by AI generation are rejected by many issuing authorities (and some also reject retouched or background-replaced photos); check the authority's rules before submitting.";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Whether every rule passed (a skipped rule does not count).</summary>
    public bool Passed => Rules.All(r => r.Passed);

    /// <summary>The rule by id.</summary>
    public ComplianceRule this[string id] => Rules.First(r => r.Id == id);

    /// <summary>A fixed-width table, one rule a line (a failed rule's fix on the line below it), then the verdict and the note.</summary>
    public string ToTable()
    {
        var w1 = Math.Max(4, Rules.Max(r => r.Id.Length));
        var w2 = Math.Max(8, Rules.Max(r => r.Measured.Length));
        var w3 = Math.Max(8, Rules.Max(r => r.Required.Length));
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{File} against {Spec} at {Dpi} dpi");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"rule".PadRight(w1)}  {"result",-6}  {"measured".PadRight(w2)}  {"required".PadRight(w3)}  detail");
        foreach (var r in Rules)
        {
            var result = r.Skipped ? "skip" : r.Passed ? "pass" : "FAIL";
            var line = string.Create(CultureInfo.InvariantCulture, $"{r.Id.PadRight(w1)}  {result,-6}  {r.Measured.PadRight(w2)}  {r.Required.PadRight(w3)}  {r.Detail}");
            sb.AppendLine(line.TrimEnd());
            if (!r.Passed && r.Hint is { } hint)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"{new string(' ', w1 + 2)}fix: {hint}");
            }
        }

        var failed = Rules.Count(r => !r.Passed);
        var skipped = Rules.Count(r => r.Skipped);
        var counted = skipped > 0 ? $"{Rules.Count - skipped} rules measured, {skipped} skipped" : $"{Rules.Count} rules";
        sb.AppendLine(Passed ? $"verdict: PASS ({counted})" : $"verdict: FAIL ({failed} of {Rules.Count} rules failed)");
        sb.AppendLine(Generated
            ? "mode: AI-generated (a generative step changed this photo). " + AuthorityNote
            : "mode: document-safe (crop, background and checks only; no generative step). " + AuthorityNote);
        return sb.ToString();
    }

    /// <summary>
    /// The report as one JSON object: <c>{file, spec, dpi, passed, failed, generated, mode, note, rules: [{id, passed,
    /// skipped, value, unit, min, max, expected, allowed, ..., text, detail, hint}]}</c>; numbers are JSON numbers, never
    /// strings. Indented, or on one line with <paramref name="indented"/> false.
    /// </summary>
    public string ToJson(bool indented = true) => ToJsonObject().ToJsonString(indented ? Indented : Compact);

    /// <summary>The report as a JSON object (see <see cref="ToJson"/>).</summary>
    public JsonObject ToJsonObject() => new()
    {
        ["file"] = File,
        ["spec"] = Spec,
        ["dpi"] = Dpi,
        ["passed"] = Passed,
        ["failed"] = new JsonArray([.. Rules.Where(r => !r.Passed).Select(r => (JsonNode?)JsonValue.Create(r.Id))]),
        ["generated"] = Generated,
        ["mode"] = Generated ? "ai-generated" : "document-safe",
        ["note"] = AuthorityNote,
        ["rules"] = new JsonArray([.. Rules.Select(r => (JsonNode?)r.ToJsonObject())]),
    };
}

/// <summary>Checks a finished photo against a spec, rule by rule.</summary>
public static class ComplianceChecker
{
    /// <summary>The rule ids in the order of every report.</summary>
    public static readonly IReadOnlyList<string> RuleIds =
    [
        "pixel_size", "dpi", "format", "file_size", "face_count", "head_height", "top_margin", "eye_line", "centring", "roll",
        "background_uniformity", "background_colour", "background_rim",
    ];

    /// <summary>Pixels between the matte's edge and the rim band (JPEG's halved chroma smears colour over about two).</summary>
    internal const int RimGap = 2;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The verdict for the encoded photo <paramref name="bytes"/>: pixel size and DPI exact for <paramref name="dpi"/>
    /// (the spec's own when null), format and file size, exactly one face, head height, top margin, eye line,
    /// centring and roll from the face (crown and chin estimated as in finishing), and the background: its spread
    /// (95th percentile ΔE2000 of samples against their mean), its mean's distance to the nearest allowed colour, and the
    /// rim: the band of a few pixels just outside the person's <paramref name="matte"/> (255 = person) against that colour,
    /// where a halo of the old backdrop or a cut edge shows (skipped without a matte).
    /// <paramref name="maxKb"/> (a size target asked for) tightens the spec's file-size limit.
    /// The background region is the photo beside the head (further than 0.45 head heights from the centre line, down
    /// to just below the eyes) and above it (to 0.08 head heights above the crown, for hair).
    /// Every failed rule carries a <see cref="ComplianceRule.Hint"/> that says what to change.
    /// </summary>
    public static ComplianceReport Check(
        byte[] bytes, string fileName, IdSpec spec, IFaceDetector detector, int? dpi = null, bool generated = false, int? maxKb = null,
        Image<L8>? matte = null, string? matteSource = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(detector);
        if (maxKb is { } userLimit)
        {
            spec = spec with { MaxKb = spec.MaxKb is { } specLimit ? Math.Min(specLimit, userLimit) : userLimit };
        }

        var wantDpi = dpi ?? spec.Dpi;
        var rules = new List<ComplianceRule>();
        // Checked like every untrusted image (PNG, JPEG or WebP only, whole, within the pixel limits): InvalidImageDataException.
        var encoded = new EncodedImage(bytes);
        using var decoded = encoded.Decode();
        using var image = decoded.CloneAs<Rgb24>();
        var (pw, ph) = spec.PixelSize(wantDpi);
        var sizeOk = image.Width == pw && image.Height == ph;
        var otherDpi = IdSpec.SupportedDpis.FirstOrDefault(d => d != wantDpi && spec.PixelSize(d) == (image.Width, image.Height));
        rules.Add(new ComplianceRule("pixel_size", sizeOk, $"{image.Width}×{image.Height}", $"{pw}×{ph}", string.Create(Inv, $"{spec.WidthMm}×{spec.HeightMm} mm at {wantDpi} dpi"))
        {
            Value = Size(image.Width, image.Height),
            Expected = Size(pw, ph),
            Unit = "px",
            Hint = sizeOk ? null : string.Create(Inv,
                $"the photo is {image.Width}×{image.Height} px; {spec.Name} at {wantDpi} dpi is {pw}×{ph} px ({spec.WidthMm}×{spec.HeightMm} mm): make it with `miaoya idphoto PHOTO --spec {spec.Name} --dpi {wantDpi}`{(otherDpi != 0 ? $", or check it at the DPI it was made for (--dpi {otherDpi})" : ", or scale it to exactly that size without cutting off the head")}"),
        });

        var fileDpi = PhotoEncoder.ReadDpi(bytes);
        var dpiOk = fileDpi is { } fd && Math.Round(fd) == wantDpi;
        rules.Add(new ComplianceRule("dpi", dpiOk, fileDpi is { } f ? f.ToString("0.##", Inv) : "none", wantDpi.ToString(Inv),
            fileDpi is null ? "the file holds no DPI (JFIF density / pHYs); printers assume 72 or 96 and print the wrong size" : null)
        {
            Value = fileDpi is { } v ? JsonValue.Create(v) : null,
            Expected = JsonValue.Create(wantDpi),
            Unit = "dpi",
            Hint = dpiOk ? null : fileDpi is null
                ? string.Create(Inv, $"write {wantDpi} dpi into the file without resampling (miaoya idphoto does; in an editor: image size → resolution {wantDpi} pixels/inch, resample off), so it prints at {spec.WidthMm}×{spec.HeightMm} mm")
                : string.Create(Inv, $"the file says {fileDpi:0.##} dpi: set {wantDpi} dpi without resampling (miaoya idphoto writes it){(IdSpec.SupportedDpis.Contains((int)Math.Round(fileDpi.Value)) ? $", or check it at --dpi {Math.Round(fileDpi.Value):0} if it was made for that" : string.Empty)}"),
        });

        var formatName = encoded.Format.ToString().ToLowerInvariant();
        var formatOk = spec.Formats.Contains(formatName, StringComparer.Ordinal);
        rules.Add(new ComplianceRule("format", formatOk, formatName, string.Join("|", spec.Formats))
        {
            Value = JsonValue.Create(formatName),
            Allowed = spec.Formats,
            Hint = formatOk ? null : $"the file is {formatName}; {spec.Name} accepts {string.Join(" or ", spec.Formats)}: save it as {spec.Formats[0]} (miaoya idphoto --format {spec.Formats[0]})",
        });

        var kb = Math.Round(bytes.Length / 1024.0, 1);
        var tooSmall = spec.MinKb is { } min && kb < min;
        var tooBig = spec.MaxKb is { } max && kb > max;
        var sizeRequired = (spec.MinKb, spec.MaxKb) switch
        {
            (null, null) => "any",
            ({ } lo, null) => $"≥ {lo} KB",
            (null, { } hi) => $"≤ {hi} KB",
            ({ } lo, { } hi) => $"{lo}–{hi} KB",
        };
        rules.Add(new ComplianceRule("file_size", !tooSmall && !tooBig, kb.ToString("0.0 KB", Inv), sizeRequired)
        {
            Value = JsonValue.Create(kb),
            Unit = "KB",
            Min = spec.MinKb,
            Max = spec.MaxKb,
            Extra = new JsonObject { ["bytes"] = bytes.Length },
            Hint = tooBig
                ? string.Create(Inv, $"{kb:0.0} KB is above the {spec.MaxKb} KB limit: make it again with --kb {spec.MaxKb} (JPEG quality is searched for the best that fits){(formatName == "png" && spec.Formats.Contains("jpeg") ? ", as JPEG: PNG cannot be made smaller" : string.Empty)}")
                : tooSmall
                    ? string.Create(Inv, $"{kb:0.0} KB is below the {spec.MinKb} KB minimum: save it at a higher JPEG quality (leave out --kb) or from a sharper, larger photo")
                    : null,
        });

        var faces = detector.Detect(image, cancellationToken);
        var faceList = string.Join("; ", faces.Select(face => string.Create(Inv, $"box ({face.Box.X:0},{face.Box.Y:0},{face.Box.Width:0}×{face.Box.Height:0}) score {face.Score:0.00}")));
        rules.Add(new ComplianceRule("face_count", faces.Count == 1, faces.Count.ToString(Inv), "1", faces.Count == 1 ? null : faces.Count == 0 ? "no face found" : faceList)
        {
            Value = JsonValue.Create(faces.Count),
            Expected = JsonValue.Create(1),
            Hint = faces.Count switch
            {
                1 => null,
                0 => "no face found: use a photo of one person facing the camera, eyes open, face uncovered (no hair over the eyes, no dark glasses) and evenly lit",
                _ => $"{faces.Count} faces found: an ID photo shows one person; crop the photo to that person (or remove the others) and finish it again",
            },
        });
        if (faces.Count != 1)
        {
            foreach (var id in RuleIds.SkipWhile(id => id != "head_height"))
            {
                rules.Add(new ComplianceRule(id, false, "n/a", "-", "not measured: needs exactly one face") { Hint = "fix face_count first: this rule is measured on exactly one face" });
            }

            return new ComplianceReport(fileName, spec.Name, wantDpi, rules, generated);
        }

        var head = HeadGeometry.From(faces[0]);
        var h = (double)image.Height;
        string MmRange(FractionRange r) => string.Create(Inv, $"{r.Min * spec.HeightMm:0.0}–{r.Max * spec.HeightMm:0.0} mm");

        var headFraction = head.HeadHeight / h;
        rules.Add(Fraction("head_height", headFraction, spec.HeadHeight, spec.HeightMm, Mm(headFraction, spec.HeightMm)) with
        {
            Hint = spec.HeadHeight.Contains(headFraction) ? null : string.Create(Inv,
                $"the head is {headFraction * spec.HeightMm:0.0} mm from chin to crown, {spec.Name} wants {MmRange(spec.HeadHeight)} ({spec.HeadHeight}): ")
                + (headFraction < spec.HeadHeight.Min
                    ? "crop tighter, or use a photo where the head fills more of the frame (miaoya idphoto scales the head to the spec)"
                    : "crop looser, or use a photo with more room around the head and shoulders (miaoya idphoto scales the head to the spec)"),
        });
        var crownY = Math.Min(head.Crown.Y, head.Chin.Y);
        var top = crownY / h;
        rules.Add(Fraction("top_margin", top, spec.TopMargin, spec.HeightMm, Mm(top, spec.HeightMm)) with
        {
            Hint = spec.TopMargin.Contains(top) ? null : string.Create(Inv,
                $"the crown is {top * spec.HeightMm:0.0} mm below the top edge, {spec.Name} wants {MmRange(spec.TopMargin)}: ")
                + (top < spec.TopMargin.Min
                    ? "move the head down (leave more space above it), or use a photo with more room above the head"
                    : "move the head up (crop closer above it)"),
        });
        var eye = head.Eyes.Y / h;
        rules.Add(Fraction("eye_line", eye, spec.EyeLine, spec.HeightMm, "from the top edge") with
        {
            Hint = spec.EyeLine.Contains(eye) ? null : string.Create(Inv,
                $"the eyes are {eye * spec.HeightMm:0.0} mm below the top edge, {spec.Name} wants {MmRange(spec.EyeLine)}: ")
                + (eye < spec.EyeLine.Min ? "move the head down in the frame" : "move the head up in the frame")
                + (spec.HeadHeight.Contains(headFraction) ? string.Empty : ", and size the head first (head_height)"),
        });
        var offCentre = (head.Eyes.X - (image.Width / 2.0)) / image.Width;
        var centred = Math.Abs(offCentre) <= spec.CentreTolerance;
        rules.Add(new ComplianceRule("centring", centred, F(offCentre), string.Create(Inv, $"±{spec.CentreTolerance:0.###}"), "head centre − photo centre, over the width")
        {
            Value = JsonValue.Create(Math.Round(offCentre, 4)),
            Unit = "fraction of the width",
            Min = -spec.CentreTolerance,
            Max = spec.CentreTolerance,
            Extra = new JsonObject { ["mm"] = Math.Round(offCentre * spec.WidthMm, 2) },
            Hint = centred ? null : string.Create(Inv,
                $"the head is {Math.Abs(offCentre) * spec.WidthMm:0.0} mm {(offCentre < 0 ? "left" : "right")} of the centre, {spec.Name} allows ±{spec.CentreTolerance * spec.WidthMm:0.0} mm: crop more on the {(offCentre < 0 ? "right" : "left")} side (miaoya idphoto centres the head), or use a photo with room on both sides of the head"),
        });
        var rollOk = Math.Abs(head.RollDegrees) <= spec.MaxRollDegrees;
        rules.Add(new ComplianceRule("roll", rollOk, string.Create(Inv, $"{head.RollDegrees:0.0}°"), string.Create(Inv, $"±{spec.MaxRollDegrees:0.#}°"))
        {
            Value = JsonValue.Create(Math.Round(head.RollDegrees, 2)),
            Unit = "degrees",
            Min = -spec.MaxRollDegrees,
            Max = spec.MaxRollDegrees,
            Hint = rollOk ? null : string.Create(Inv,
                $"the head is tilted {Math.Abs(head.RollDegrees):0.0}° (at most {spec.MaxRollDegrees:0.#}°): hold the head level and look straight at the camera, or let miaoya idphoto level the eyes"),
        });

        var replace = $"replace it (`miaoya idphoto PHOTO --spec {spec.Name} --background {spec.Backgrounds[0]} --webui URL`)";
        var samples = BackgroundSamples(image, head);
        if (samples.Count < 20)
        {
            const string why = "the head fills the frame: there is too little background beside and above it to measure; use a photo with more room around the head (miaoya idphoto frames it for the spec)";
            rules.Add(new ComplianceRule("background_uniformity", false, "n/a", string.Create(Inv, $"≤ {spec.UniformityDeltaE:0.#}"), $"only {samples.Count} background samples beside and above the head: the head fills the frame")
            {
                Unit = "ΔE2000",
                Max = spec.UniformityDeltaE,
                Extra = new JsonObject { ["samples"] = samples.Count },
                Hint = why,
            });
            rules.Add(new ComplianceRule("background_colour", false, "n/a", string.Join("|", spec.Backgrounds), "not measured") { Allowed = spec.Backgrounds, Hint = why });
            rules.Add(new ComplianceRule("background_rim", false, "n/a", string.Create(Inv, $"≤ {spec.RimDeltaE:0.#}"), "not measured") { Unit = "ΔE2000", Max = spec.RimDeltaE, Hint = why });
            return new ComplianceReport(fileName, spec.Name, wantDpi, rules, generated);
        }

        var mean = new Lab(samples.Average(s => s.L), samples.Average(s => s.A), samples.Average(s => s.B));
        var spreads = samples.Select(s => Lab.DeltaE2000(s, mean)).Order().ToArray();
        var p95 = spreads[(int)Math.Floor(0.95 * (spreads.Length - 1))];
        var uniform = p95 <= spec.UniformityDeltaE;
        rules.Add(new ComplianceRule("background_uniformity", uniform, string.Create(Inv, $"ΔE {p95:0.0}"), string.Create(Inv, $"≤ {spec.UniformityDeltaE:0.#}"),
            string.Create(Inv, $"{samples.Count} samples, 95th percentile against their mean"))
        {
            Value = JsonValue.Create(Math.Round(p95, 2)),
            Unit = "ΔE2000",
            Max = spec.UniformityDeltaE,
            Extra = new JsonObject { ["samples"] = samples.Count },
            Hint = uniform ? null : string.Create(Inv,
                $"the background varies by ΔE {p95:0.0} (at most {spec.UniformityDeltaE:0.#}): shadows, objects or texture behind the person; photograph against a plain, evenly lit wall, or {replace}"),
        });
        var (name, _, distance) = spec.NearestBackground(mean);
        var colourOk = distance <= spec.BackgroundDeltaE;
        rules.Add(new ComplianceRule("background_colour", colourOk, string.Create(Inv, $"{LabText(mean)} (ΔE {distance:0.0} to {name})"),
            string.Create(Inv, $"{string.Join("|", spec.Backgrounds)} within ΔE {spec.BackgroundDeltaE:0.#}"))
        {
            Value = JsonValue.Create(Math.Round(distance, 2)),
            Unit = "ΔE2000",
            Max = spec.BackgroundDeltaE,
            Allowed = spec.Backgrounds,
            Extra = new JsonObject { ["nearest"] = name, ["lab"] = LabJson(mean) },
            Hint = colourOk ? null : string.Create(Inv,
                $"the background is ΔE {distance:0.0} from {name}, the nearest colour {spec.Name} allows ({string.Join(", ", spec.Backgrounds)}; at most ΔE {spec.BackgroundDeltaE:0.#}): {replace.Replace($"--background {spec.Backgrounds[0]}", $"--background {name}", StringComparison.Ordinal)}, or photograph against a {name} backdrop"),
        });
        rules.Add(Rim(image, matte, matteSource, spec, mean, colourOk ? name : "the background"));
        return new ComplianceReport(fileName, spec.Name, wantDpi, rules, generated);
    }

    /// <summary>
    /// The rim rule: the band from <see cref="RimGap"/> to <see cref="RimGap"/> + <see cref="RimWidth"/> pixels outside the
    /// person (matte ≥ 128), where the matte says background (≤ 25), against the target colour, the background's own
    /// (the mean of the background region, which background_colour holds to the spec's colours; so a wrong colour fails
    /// that rule, not this one): its 90th percentile ΔE2000.
    /// </summary>
    private static ComplianceRule Rim(Image<Rgb24> image, Image<L8>? matte, string? matteSource, IdSpec spec, Lab targetLab, string targetName)
    {
        var required = string.Create(Inv, $"≤ {spec.RimDeltaE:0.#}");
        if (matte is null)
        {
            return new ComplianceRule("background_rim", true, "n/a", required, "not measured: no person matte (idphoto writes mask.png beside the photo; check finds it there, or give --mask)")
            {
                Skipped = true,
                Unit = "ΔE2000",
                Max = spec.RimDeltaE,
            };
        }

        if (matte.Width != image.Width || matte.Height != image.Height)
        {
            return new ComplianceRule("background_rim", false, "n/a", required, $"the matte is {matte.Width}×{matte.Height}, the photo {image.Width}×{image.Height}")
            {
                Unit = "ΔE2000",
                Max = spec.RimDeltaE,
                Hint = "give the matte made for this photo (the mask.png that idphoto wrote beside it)",
            };
        }

        var band = RimSamples(image, matte);
        if (band.Count < 20)
        {
            return new ComplianceRule("background_rim", true, "n/a", required, $"not measured: only {band.Count} pixels just outside the matte")
            {
                Skipped = true,
                Unit = "ΔE2000",
                Max = spec.RimDeltaE,
                Extra = new JsonObject { ["samples"] = band.Count },
            };
        }

        var distances = band.Select(s => Lab.DeltaE2000(s, targetLab)).Order().ToArray();
        var p90 = distances[(int)Math.Floor(0.9 * (distances.Length - 1))];
        var over = distances.Count(d => d > spec.RimDeltaE) / (double)distances.Length;
        var ok = p90 <= spec.RimDeltaE;
        return new ComplianceRule("background_rim", ok, string.Create(Inv, $"ΔE {p90:0.0} to {targetName}"), required,
            string.Create(Inv, $"{distances.Length} pixels {RimGap}–{RimGap + RimWidth(image.Width)} px outside the matte{(matteSource is null ? string.Empty : $" ({matteSource})")}, 90th percentile; {over:P0} over"))
        {
            Value = JsonValue.Create(Math.Round(p90, 2)),
            Unit = "ΔE2000",
            Max = spec.RimDeltaE,
            Extra = new JsonObject { ["samples"] = distances.Length, ["share_over"] = Math.Round(over, 4), ["target"] = targetName, ["target_lab"] = LabJson(targetLab), ["matte"] = matteSource },
            Hint = ok ? null : string.Create(Inv,
                $"the band just outside the person is ΔE {p90:0.0} from {targetName} (at most {spec.RimDeltaE:0.#}; {over:P0} of it over): a halo of the old backdrop or a cut edge around the hair or shoulders. Replace the background again from the original photo with miaoya idphoto (it refines the matte's edge and takes the old backdrop's colour out of soft edges), photograph against a plain backdrop that contrasts with the hair, or retouch the edge"),
        };
    }

    /// <summary>How wide the rim band is: a few pixels, about 1.5 % of the width (4 px at 295, 9 at 600).</summary>
    internal static int RimWidth(int width) => Math.Max(4, (int)Math.Round(width * 0.015));

    /// <summary>Lab samples of the rim band described on <see cref="Rim"/> (skipping the outermost 2 pixels, as the background samples do).</summary>
    internal static List<Lab> RimSamples(Image<Rgb24> image, Image<L8> matte)
    {
        var (w, h) = (image.Width, image.Height);
        var alpha = new byte[w * h];
        matte.CopyPixelDataTo(alpha);
        var distance = Matting.DistanceTo(alpha, w, h, a => a >= 128);
        var pixels = new Rgb24[w * h];
        image.CopyPixelDataTo(pixels);
        var samples = new List<Lab>();
        var (near, far) = (RimGap, RimGap + RimWidth(w));
        const int edge = 2;
        for (var y = edge; y < h - edge; y++)
        {
            for (var x = edge; x < w - edge; x++)
            {
                var i = (y * w) + x;
                var d = distance[i];
                if (d >= near && d <= far && alpha[i] <= 25)
                {
                    var p = pixels[i];
                    samples.Add(Lab.FromRgb(p.R, p.G, p.B));
                }
            }
        }

        return samples;
    }

    /// <summary>Lab samples (every 2nd pixel) of the background region described on <see cref="Check"/>.</summary>
    internal static List<Lab> BackgroundSamples(Image<Rgb24> image, HeadGeometry head)
    {
        var headH = head.HeadHeight;
        var cx = head.Eyes.X;
        var crown = Math.Min(head.Crown.Y, head.Chin.Y);
        var topLimit = crown - (0.08f * headH);
        var sideLimit = head.Eyes.Y + (0.15f * headH);
        var side = 0.45f * headH;
        var samples = new List<Lab>();
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        var edge = 2; // skip the outermost pixels (JPEG edge blocks, scanner borders)
        for (var y = edge; y < image.Height - edge; y += 2)
        {
            if (y >= sideLimit)
            {
                break;
            }

            var row = pixels.AsSpan(y * image.Width, image.Width);
            for (var x = edge; x < image.Width - edge; x += 2)
            {
                if (y < topLimit || Math.Abs(x - cx) > side)
                {
                    var p = row[x];
                    samples.Add(Lab.FromRgb(p.R, p.G, p.B));
                }
            }
        }

        return samples;
    }

    private static ComplianceRule Fraction(string id, double value, FractionRange range, double heightMm, string detail) =>
        new(id, range.Contains(value), F(value), range.ToString(), detail)
        {
            Value = JsonValue.Create(Math.Round(value, 4)),
            Unit = "fraction of the height",
            Min = range.Min,
            Max = range.Max,
            Extra = new JsonObject
            {
                ["mm"] = Math.Round(value * heightMm, 2),
                ["min_mm"] = Math.Round(range.Min * heightMm, 2),
                ["max_mm"] = Math.Round(range.Max * heightMm, 2),
            },
        };

    private static JsonObject Size(int width, int height) => new() { ["width"] = width, ["height"] = height };

    private static JsonObject LabJson(Lab lab) => new() { ["l"] = Math.Round(lab.L, 2), ["a"] = Math.Round(lab.A, 2), ["b"] = Math.Round(lab.B, 2) };

    private static string LabText(Lab lab) => string.Create(Inv, $"Lab {lab.L:0}/{lab.A:0}/{lab.B:0}");

    private static string F(double v) => v.ToString("0.000", Inv);

    private static string Mm(double fraction, double mm) => string.Create(Inv, $"{fraction * mm:0.0} mm");
}
