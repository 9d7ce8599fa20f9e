using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Miaoya.Faces;
using Miaoya.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Miaoya.IdPhoto;

/// <summary>One rule of the verdict: what was measured, what the spec requires, and whether it passed.</summary>
public sealed record ComplianceRule(string Id, bool Passed, string Measured, string Required, string? Detail = null);

/// <summary>The pass/fail verdict of one photo against one spec, as a table and as JSON.</summary>
public sealed record ComplianceReport(string File, string Spec, int Dpi, IReadOnlyList<ComplianceRule> Rules, bool Generated)
{
    /// <summary>The statement every report carries about generated and edited photos.</summary>
    public const string AuthorityNote =
        "Photos changed by AI generation are rejected by many issuing authorities (and some also reject retouched or background-replaced photos); check the authority's rules before submitting.";

    /// <summary>Whether every rule passed.</summary>
    public bool Passed => Rules.All(r => r.Passed);

    /// <summary>The rule by id.</summary>
    public ComplianceRule this[string id] => Rules.First(r => r.Id == id);

    /// <summary>A fixed-width table, one rule a line, then the verdict and the note.</summary>
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
            var line = string.Create(CultureInfo.InvariantCulture, $"{r.Id.PadRight(w1)}  {(r.Passed ? "pass" : "FAIL"),-6}  {r.Measured.PadRight(w2)}  {r.Required.PadRight(w3)}  {r.Detail}");
            sb.AppendLine(line.TrimEnd());
        }

        var failed = Rules.Count(r => !r.Passed);
        sb.AppendLine(Passed ? $"verdict: PASS ({Rules.Count} rules)" : $"verdict: FAIL ({failed} of {Rules.Count} rules failed)");
        sb.AppendLine(Generated
            ? "mode: AI-generated (a generative step changed this photo). " + AuthorityNote
            : "mode: document-safe (crop, background and checks only; no generative step). " + AuthorityNote);
        return sb.ToString();
    }

    /// <summary>The report as indented JSON.</summary>
    public string ToJson()
    {
        var rules = new JsonArray();
        foreach (var r in Rules)
        {
            rules.Add(new JsonObject { ["id"] = r.Id, ["passed"] = r.Passed, ["measured"] = r.Measured, ["required"] = r.Required, ["detail"] = r.Detail });
        }

        var root = new JsonObject
        {
            ["file"] = File,
            ["spec"] = Spec,
            ["dpi"] = Dpi,
            ["passed"] = Passed,
            ["generated"] = Generated,
            ["mode"] = Generated ? "ai-generated" : "document-safe",
            ["note"] = AuthorityNote,
            ["rules"] = rules,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}

/// <summary>Checks a finished photo against a spec, rule by rule.</summary>
public static class ComplianceChecker
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The verdict for the encoded photo <paramref name="bytes"/>: pixel size and DPI exact for <paramref name="dpi"/>
    /// (the spec's own when null), format and file size, exactly one face, head height, top margin, eye line,
    /// centring and roll from the face (crown and chin estimated as in finishing), and the background: its spread
    /// (95th percentile ΔE2000 of samples against their mean) and its mean's distance to the nearest allowed colour.
    /// <paramref name="maxKb"/> (a size target asked for) tightens the spec's file-size limit.
    /// The background region is the photo beside the head (further than 0.45 head heights from the centre line, down
    /// to just below the eyes) and above it (to 0.08 head heights above the crown, for hair).
    /// </summary>
    public static ComplianceReport Check(byte[] bytes, string fileName, IdSpec spec, IFaceDetector detector, int? dpi = null, bool generated = false, int? maxKb = null, CancellationToken cancellationToken = default)
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
        rules.Add(new("pixel_size", image.Width == pw && image.Height == ph, $"{image.Width}×{image.Height}", $"{pw}×{ph}",
            string.Create(Inv, $"{spec.WidthMm}×{spec.HeightMm} mm at {wantDpi} dpi")));

        var fileDpi = PhotoEncoder.ReadDpi(bytes);
        rules.Add(new("dpi", fileDpi is { } fd && Math.Round(fd) == wantDpi, fileDpi is { } f ? f.ToString("0.##", Inv) : "none", wantDpi.ToString(Inv),
            fileDpi is null ? "the file holds no DPI (JFIF density / pHYs); printers assume 72 or 96 and print the wrong size" : null));

        var formatName = encoded.Format.ToString().ToLowerInvariant();
        rules.Add(new("format", spec.Formats.Contains(formatName, StringComparer.Ordinal), formatName, string.Join("|", spec.Formats)));
        var kb = bytes.Length / 1024.0;
        var sizeOk = (spec.MinKb is not { } min || kb >= min) && (spec.MaxKb is not { } max || kb <= max);
        var sizeRequired = (spec.MinKb, spec.MaxKb) switch
        {
            (null, null) => "any",
            ({ } lo, null) => $"≥ {lo} KB",
            (null, { } hi) => $"≤ {hi} KB",
            ({ } lo, { } hi) => $"{lo}–{hi} KB",
        };
        rules.Add(new("file_size", sizeOk, kb.ToString("0.0 KB", Inv), sizeRequired));

        var faces = detector.Detect(image, cancellationToken);
        var faceList = string.Join("; ", faces.Select(f => string.Create(Inv, $"box ({f.Box.X:0},{f.Box.Y:0},{f.Box.Width:0}×{f.Box.Height:0}) score {f.Score:0.00}")));
        rules.Add(new("face_count", faces.Count == 1, faces.Count.ToString(Inv), "1", faces.Count == 1 ? null : faces.Count == 0 ? "no face found" : faceList));
        if (faces.Count != 1)
        {
            foreach (var id in (string[])["head_height", "top_margin", "eye_line", "centring", "roll", "background_uniformity", "background_colour"])
            {
                rules.Add(new(id, false, "n/a", "-", "not measured: needs exactly one face"));
            }

            return new ComplianceReport(fileName, spec.Name, wantDpi, rules, generated);
        }

        var head = HeadGeometry.From(faces[0]);
        var h = (double)image.Height;
        var headFraction = head.HeadHeight / h;
        rules.Add(new("head_height", spec.HeadHeight.Contains(headFraction), F(headFraction), spec.HeadHeight.ToString(), Mm(headFraction, spec.HeightMm)));
        var crownY = Math.Min(head.Crown.Y, head.Chin.Y);
        var top = crownY / h;
        rules.Add(new("top_margin", spec.TopMargin.Contains(top), F(top), spec.TopMargin.ToString(), Mm(top, spec.HeightMm)));
        var eye = head.Eyes.Y / h;
        rules.Add(new("eye_line", spec.EyeLine.Contains(eye), F(eye), spec.EyeLine.ToString(), "from the top edge"));
        var offCentre = (head.Eyes.X - (image.Width / 2.0)) / image.Width;
        rules.Add(new("centring", Math.Abs(offCentre) <= spec.CentreTolerance, F(offCentre), string.Create(Inv, $"±{spec.CentreTolerance:0.###}"), "head centre − photo centre, over the width"));
        rules.Add(new("roll", Math.Abs(head.RollDegrees) <= spec.MaxRollDegrees, string.Create(Inv, $"{head.RollDegrees:0.0}°"), string.Create(Inv, $"±{spec.MaxRollDegrees:0.#}°")));

        var samples = BackgroundSamples(image, head);
        if (samples.Count < 20)
        {
            rules.Add(new("background_uniformity", false, "n/a", string.Create(Inv, $"≤ {spec.UniformityDeltaE:0.#}"), $"only {samples.Count} background samples beside and above the head: the head fills the frame"));
            rules.Add(new("background_colour", false, "n/a", string.Join("|", spec.Backgrounds), "not measured"));
        }
        else
        {
            var mean = new Lab(samples.Average(s => s.L), samples.Average(s => s.A), samples.Average(s => s.B));
            var spreads = samples.Select(s => Lab.DeltaE2000(s, mean)).Order().ToArray();
            var p95 = spreads[(int)Math.Floor(0.95 * (spreads.Length - 1))];
            rules.Add(new("background_uniformity", p95 <= spec.UniformityDeltaE, string.Create(Inv, $"ΔE {p95:0.0}"), string.Create(Inv, $"≤ {spec.UniformityDeltaE:0.#}"),
                string.Create(Inv, $"{samples.Count} samples, 95th percentile against their mean")));
            var (name, distance) = spec.Backgrounds
                .Select(b => BackgroundColours.TryParseColour(b, out var c) ? (b, Lab.DeltaE2000(mean, Lab.FromRgb(c.R, c.G, c.B))) : (b, double.MaxValue))
                .MinBy(x => x.Item2);
            rules.Add(new("background_colour", distance <= spec.BackgroundDeltaE, string.Create(Inv, $"{LabText(mean)} (ΔE {distance:0.0} to {name})"),
                string.Create(Inv, $"{string.Join("|", spec.Backgrounds)} within ΔE {spec.BackgroundDeltaE:0.#}")));
        }

        return new ComplianceReport(fileName, spec.Name, wantDpi, rules, generated);
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

    private static string LabText(Lab lab) => string.Create(Inv, $"Lab {lab.L:0}/{lab.A:0}/{lab.B:0}");

    private static string F(double v) => v.ToString("0.000", Inv);

    private static string Mm(double fraction, double mm) => string.Create(Inv, $"{fraction * mm:0.0} mm");
}
