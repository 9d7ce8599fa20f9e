using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Miaoya.MockWebUi;

/// <summary>
/// sd-webui-controlnet's run-time rules for a generation's units on the A1111 profiles that the identity units (issue 17) meet:
/// the SD-version check, several input images, the "only masked" crop, what insightface needs, and InstantID's unit order.
/// </summary>
/// <remarks>
/// All of them raise inside ControlNet's <c>process</c> callback (<c>controlnet_main_entry</c>, scripts/controlnet.py:853-1205 at
/// 56cec5b), which A1111's <c>ScriptRunner.process</c> wraps in <c>try/except Exception: errors.report("Error running process:
/// …")</c> (A1111 v1.10.1 and v1.8.0 modules/scripts.py:828-834 / :780-786). So the real box answers 200: the error goes to its
/// console, no unit is applied (the hooks are set after the per-unit loop), no detected map comes back, and the infotext still
/// names every unit (Infotext.write_infotext runs before the loop, :660). The mock does the same through
/// <see cref="ControlNetScriptException"/>; see Mikubill/sd-webui-controlnet#2358 for a real log of it.
/// </remarks>
internal static class IdentityUnits
{
    private const string InstantIdOrder = "InstantID control model should follow ipadapter model.";

    /// <summary>
    /// check_sd_version_compatible (controlnet.py:804-827, called per unit at :898): revision needs SDXL; a model whose name
    /// guesses another family than the loaded checkpoint's fails; an unguessable name passes with a warning.
    /// </summary>
    public static void CheckSdVersion(ControlUnit unit, SdVersion checkpoint)
    {
        if (unit.Module.Name.Contains("revision", StringComparison.OrdinalIgnoreCase) && checkpoint != SdVersion.SDXL)
        {
            throw new ControlNetScriptException("Exception", $"Preprocessor 'revision' only supports SDXL. Current SD base model is {Py(checkpoint)}.");
        }

        if (string.IsNullOrEmpty(unit.Model) || unit.Model.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var cnet = IdentityCatalog.GuessFromModelName(unit.Model);
        if (!IdentityCatalog.Compatible(checkpoint, cnet))
        {
            throw new ControlNetScriptException("Exception", $"ControlNet model {unit.Model}({Py(cnet)}) is not compatible with sd model({Py(checkpoint)})");
        }
    }

    /// <summary>
    /// get_control's input (controlnet.py:193-230): several images only where the preprocessor accepts them (a bare
    /// <c>assert</c>, :208); an identity preprocessor's image cropped by "only masked" inpaint (:749-800); then what its
    /// preprocessor needs: insightface, a face in each image (processor.py:652-657), and for PuLID the EVA-CLIP extension
    /// (scripts/preprocessor/pulid.py:148-156). Null for a single-image unit that is not an identity one (the caller's path).
    /// </summary>
    public static ResolvedControl? Inputs(ControlUnit unit, string model, ControlNetRun run, List<IDisposable> disposables)
    {
        if (unit.MalformedImage)
        {
            throw new ControlNetScriptException("AssertionError", ""); // assert len(init_image) == 2 (args.py:382)
        }

        var identity = IdentityCatalog.UsesInsightFace(unit.Module.Name);
        var cropped = false;
        List<Image<Rgba32>> inputs;
        if (unit.Images is { } many)
        {
            if (!IdentityCatalog.AcceptsMultipleInputs(unit.Module, run.Dialect))
            {
                throw new ControlNetScriptException("AssertionError", ""); // assert unit.accepts_multiple_inputs (:208)
            }

            inputs = [.. many.Select(b64 => Keep(ImageCodec.Decode(b64), disposables))];
        }
        else if (!identity)
        {
            return null;
        }
        else
        {
            var single = unit.Image is { Length: > 0 } b64 ? Keep(ImageCodec.Decode(b64), disposables)
                : run.InitImage ?? throw MockRouteException.Internal("ValueError", "controlnet is enabled but no input image is given");
            if (run.OnlyMasked is { } inpaint && unit.InpaintCropInputImage && !unit.Module.Name.Contains("reference", StringComparison.Ordinal))
            {
                single = Keep(CropToMask(single, unit.ResizeMode, inpaint), disposables);
                cropped = true;
            }

            inputs = [single];
        }

        if (identity)
        {
            // a cropped reference photo must still hold a whole face; InstantID's keypoints crop the template, the very
            // region being repainted, by design (the mock's judgement, see FaceLocator.HasFace)
            var wholeFaceOnly = cropped && IdentityCatalog.CarriesIdentity(unit.Module.Name);
            foreach (var image in inputs)
            {
                Preprocess(unit.Module.Name, image, run.Box, wholeFaceOnly);
            }
        }

        return new ResolvedControl(unit, model, inputs[0]) { Inputs = inputs };
    }

    /// <summary>
    /// The second loop over the units (controlnet.py:1144-1197): ≤1.1.447 converts pulid_mode of an IP-Adapter unit with
    /// PuLIDMode(…) (:1212 at 3d75bd08); an InstantID ControlNet must come right after an IP-Adapter unit (:1188-1195).
    /// </summary>
    public static void CheckOrder(IReadOnlyList<ResolvedControl> controls, UnitDialect dialect)
    {
        for (var i = 0; i < controls.Count; i++)
        {
            var c = controls[i];
            if (c.Unit.Forge is not null)
            {
                continue;
            }

            if (dialect == UnitDialect.Dataclass && IdentityCatalog.IsIpAdapterModel(c.Model) && c.Unit.PulidMode is not ("Fidelity" or "Extremely style"))
            {
                throw new ControlNetScriptException("ValueError", $"'{c.Unit.PulidMode}' is not a valid PuLIDMode");
            }

            if (IdentityCatalog.IsInstantIdControlNet(c.Model) && (i == 0 || !IdentityCatalog.IsIpAdapterModel(controls[i - 1].Model)))
            {
                throw new ControlNetScriptException("AssertionError", InstantIdOrder);
            }
        }
    }

    /// <summary>What an identity preprocessor checks on one image, in its order (see <see cref="Inputs"/>).</summary>
    public static void Preprocess(string module, Image<Rgba32> image, ControlNetBox box, bool wholeFaceOnly = false)
    {
        if (!box.HasInsightFace)
        {
            // `from insightface.app import FaceAnalysis` in InsightFaceModel.load_model (processor.py:686)
            throw new ControlNetScriptException("ModuleNotFoundError", "No module named 'insightface'");
        }

        if (!FaceLocator.HasFace(image, wholeFaceOnly))
        {
            throw new ControlNetScriptException("Exception", "Insightface: No face found in image."); // processor.py:656
        }

        if (module == IdentityCatalog.PuLid && !box.HasEvaClip)
        {
            throw new ControlNetScriptException("AssertionError", "EVA02-CLIP-L-14-336 preprocessor not found! Please install sd-webui-controlnet-evaclip");
        }
    }

    /// <summary>
    /// try_crop_image_with_a1111_mask (controlnet.py:749-800): the input resized to the mask's size with the unit's resize mode,
    /// cut to the mask's box (A1111 masking.get_crop_region with inpaint_full_res_padding, then expand_crop_region to the
    /// generation's aspect) and resized back to the generation size with "Resize and Fill".
    /// </summary>
    public static Image<Rgba32> CropToMask(Image<Rgba32> input, string resizeMode, OnlyMaskedInpaint inpaint)
    {
        var mode = resizeMode switch { "Just Resize" => 0, "Resize and Fill" => 2, _ => 1 };
        using var canvas = Painter.Resize(input, inpaint.Width, inpaint.Height, mode);
        var region = CropRegion(inpaint);
        if (region.Width <= 0 || region.Height <= 0)
        {
            return canvas.Clone();
        }

        using var cut = canvas.Clone(x => x.Crop(region));
        return Painter.Resize(cut, inpaint.Width, inpaint.Height, 2);
    }

    /// <summary>A1111 v1.10.1 modules/masking.py get_crop_region + expand_crop_region, on the generation-size mask.</summary>
    private static Rectangle CropRegion(OnlyMaskedInpaint m)
    {
        int w = m.Width, h = m.Height, x1 = w, y1 = h, x2 = 0, y2 = 0;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                if (m.Mask[(y * w) + x])
                {
                    (x1, y1, x2, y2) = (Math.Min(x1, x), Math.Min(y1, y), Math.Max(x2, x + 1), Math.Max(y2, y + 1));
                }
            }
        }

        if (x2 <= x1 || y2 <= y1)
        {
            return Rectangle.Empty;
        }

        (x1, y1, x2, y2) = (Math.Max(x1 - m.Padding, 0), Math.Max(y1 - m.Padding, 0), Math.Min(x2 + m.Padding, w), Math.Min(y2 + m.Padding, h));
        var ratioCrop = (double)(x2 - x1) / (y2 - y1);
        var ratioProcessing = (double)w / h;
        if (ratioCrop > ratioProcessing)
        {
            (y1, y2) = Expand(y1, y2, (int)(((x2 - x1) / ratioProcessing) - (y2 - y1)), h);
        }
        else
        {
            (x1, x2) = Expand(x1, x2, (int)(((y2 - y1) * ratioProcessing) - (x2 - x1)), w);
        }

        return Rectangle.FromLTRB(x1, y1, x2, y2);

        static (int Lo, int Hi) Expand(int lo, int hi, int diff, int size)
        {
            lo -= diff / 2;
            hi += diff - (diff / 2);
            if (hi >= size)
            {
                lo -= hi - size;
                hi = size;
            }

            if (lo < 0)
            {
                hi -= lo;
                lo = 0;
            }

            return (lo, Math.Min(hi, size));
        }
    }

    private static Image<Rgba32> Keep(Image<Rgba32> image, List<IDisposable> disposables)
    {
        disposables.Add(image);
        return image;
    }

    private static string Py(SdVersion v) => "StableDiffusionVersion." + v;
}

/// <summary>What ControlNet's units run with: the img2img init image, the loaded checkpoint's family, the box, the unit dialect, "only masked".</summary>
internal sealed record ControlNetRun(Image<Rgba32>? InitImage, SdVersion Checkpoint, ControlNetBox Box, UnitDialect Dialect, OnlyMaskedInpaint? OnlyMasked);

/// <summary>An img2img with a mask and inpaint_full_res: the mask at the generation size and inpaint_full_res_padding.</summary>
internal sealed record OnlyMaskedInpaint(bool[] Mask, int Width, int Height, int Padding);

/// <summary>
/// An exception inside ControlNet's <c>process</c> callback, which A1111 only reports on its console (see
/// <see cref="IdentityUnits"/>): the generation goes on without ControlNet.
/// </summary>
internal sealed class ControlNetScriptException : Exception
{
    public ControlNetScriptException()
    {
    }

    public ControlNetScriptException(string message) : base(message)
    {
    }

    public ControlNetScriptException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public ControlNetScriptException(string pythonType, string message) : base(message) => PythonType = pythonType;

    /// <summary>The Python exception's class ("AssertionError", …).</summary>
    public string PythonType { get; } = "Exception";

    /// <summary>The traceback's last line, as Python prints it ("AssertionError" alone for an empty message).</summary>
    public string LastLine => Message.Length == 0 ? PythonType : $"{PythonType}: {Message}";

    /// <summary>
    /// What the box's console shows (errors.report, A1111 v1.10.1 modules/errors.py:38-49): the "***" line, then the indented
    /// traceback, whose last line the mock keeps.
    /// </summary>
    public string ConsoleText =>
        "*** Error running process: /stable-diffusion-webui/extensions/sd-webui-controlnet/scripts/controlnet.py\n    " + LastLine;
}
