using System.Text.Json.Nodes;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.ControlNet;
using Miaoya.WebUi.Dto;

namespace Miaoya.Pipeline;

/// <summary>Turns a recipe step into the exact img2img request for one probed box.</summary>
public static class PayloadBuilder
{
    /// <summary>
    /// The V1 <c>inpaint</c> request: template, mask, and the step's ControlNet units; with <paramref name="identity"/>
    /// (the person's aligned face crops) the recipe's identity unit(s) go first; <paramref name="candidates"/> images are
    /// rendered (<c>n_iter</c>: seeds seed, seed+1, …). With <paramref name="previous"/> (a several-person run's earlier
    /// person's result) that image is inpainted instead of the template; units that look at the template still get it.
    /// </summary>
    public static Img2ImgRequest Inpaint(
        Recipe recipe,
        WebUiCapabilities box,
        EncodedImage template,
        EncodedImage mask,
        ComposedPrompt prompt,
        long seed,
        int width,
        int height,
        IReadOnlyList<EncodedImage>? identity = null,
        int candidates = 1,
        EncodedImage? previous = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var settings = recipe.Inpaint ?? throw new ArgumentException($"recipe {recipe.Name} has no inpaint step.", nameof(recipe));
        return Build(recipe, StepName.Inpaint, settings, box, template, previous ?? template, mask, prompt, seed, width, height, identity, candidates);
    }

    /// <summary>The V2 <c>img2img</c> request: the whole inpainted image at low denoise, no mask (identity and candidates as for <see cref="Inpaint"/>).</summary>
    public static Img2ImgRequest WholeImage(
        Recipe recipe,
        WebUiCapabilities box,
        EncodedImage template,
        EncodedImage previous,
        ComposedPrompt prompt,
        long seed,
        int width,
        int height,
        IReadOnlyList<EncodedImage>? identity = null,
        int candidates = 1)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var settings = recipe.Img2Img ?? throw new ArgumentException($"recipe {recipe.Name} has no img2img step.", nameof(recipe));
        return Build(recipe, StepName.Img2Img, settings, box, template, previous, mask: null, prompt, seed, width, height, identity, candidates);
    }

    /// <summary>
    /// The <c>detail</c> request: an inpaint of the face's square crop scaled to <paramref name="size"/>, with the section's
    /// ControlNet units on the template's crop (<c>image: template</c>) or the current image's (<c>previous</c>), and the
    /// identity units when <c>identity.steps</c> names detail.
    /// </summary>
    public static Img2ImgRequest Detail(
        Recipe recipe,
        WebUiCapabilities box,
        EncodedImage templateCrop,
        EncodedImage currentCrop,
        EncodedImage mask,
        ComposedPrompt prompt,
        long seed,
        int size,
        IReadOnlyList<EncodedImage>? identity = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var settings = recipe.Detail ?? throw new ArgumentException($"recipe {recipe.Name} has no detail step.", nameof(recipe));
        return Build(recipe, StepName.Detail, settings.Generation, box, templateCrop, currentCrop, mask, prompt, seed, size, size, identity, 1);
    }

    /// <summary>The <c>restore</c> request: the restorer at its visibility (CodeFormer with its weight) on <paramref name="region"/>, no upscaler.</summary>
    public static ExtrasSingleImageRequest Restore(RestoreSettings settings, EncodedImage region)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var codeFormer = settings.Model == FaceRestorerKind.CodeFormer;
        return new ExtrasSingleImageRequest(region)
        {
            GfpganVisibility = codeFormer ? 0 : settings.Visibility,
            CodeformerVisibility = codeFormer ? settings.Visibility : 0,
            CodeformerWeight = codeFormer ? settings.CodeFormerWeight : 0,
            UpscalingResize = 1,
            Upscaler1 = "None",
        };
    }

    /// <summary>The <c>upscale</c> request: the recipe's upscaler, one factor for both sides (resize_mode 0 keeps the aspect ratio).</summary>
    public static ExtrasSingleImageRequest Upscale(UpscaleSettings settings, EncodedImage image, double scale)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new ExtrasSingleImageRequest(image) { ResizeMode = 0, UpscalingResize = scale, Upscaler1 = settings.Upscaler };
    }

    private static Img2ImgRequest Build(
        Recipe recipe,
        string stepName,
        GenerationSettings step,
        WebUiCapabilities box,
        EncodedImage template,
        EncodedImage previous,
        EncodedImage? mask,
        ComposedPrompt prompt,
        long seed,
        int width,
        int height,
        IReadOnlyList<EncodedImage>? identity,
        int candidates)
    {
        var (sampler, scheduler) = ResolveSamplerOrKeep(box, step.Sampler, step.Scheduler);
        var identityUnits = IdentityUnits.For(recipe, stepName, box, identity, template, previous);
        var units = identityUnits
            .Concat(step.ControlNet.Where(u => u.Enabled).Select(u => Unit(u, box, u.Image == UnitImageSource.Template ? template : previous)))
            .ToArray();
        return new Img2ImgRequest
        {
            Prompt = identityUnits.Count > 0 ? IdentityUnits.WithCompanionLora(prompt.Prompt, recipe.Identity!) : prompt.Prompt,
            NIter = candidates,
            NegativePrompt = prompt.NegativePrompt,
            Seed = seed,
            SamplerName = sampler,
            Scheduler = scheduler,
            Steps = step.Steps,
            CfgScale = step.CfgScale,
            Width = step.Width ?? width,
            Height = step.Height ?? height,
            DenoisingStrength = step.DenoisingStrength,

            // Per request, never through POST /options (which would switch the box for everyone).
            // save_init_img: false: A1111 writes every init image (the person's portrait) to outdir_init_images when that
            // option is on, whatever save_images says (processing.py StableDiffusionProcessingImg2Img.init,
            // "if opts.save_init_img"). It is a core option (shared_options.py), so opts.set accepts it; an unregistered key
            // would 500 with KeyError (options.py Options.set: self.data_labels[key]), which is why ControlNet's
            // control_net_detectmap_autosaving is not sent: that key exists only where the extension registered its
            // settings (scripts/controlnet.py on_ui_settings), and `miaoya doctor` warns when it is on.
            OverrideSettings = new Dictionary<string, JsonNode?>
            {
                ["sd_model_checkpoint"] = box.FindCheckpoint(recipe.BaseModel)?.Title ?? recipe.BaseModel,
                ["save_init_img"] = false,
            },

            // Sticky model: A1111 v1.10.1 process_images (modules/processing.py:819-857) loads the
            // override's checkpoint and, with restore_afterwards true, afterwards sets the sd_model_checkpoint option back
            // with setattr (no reload): the model stays loaded but GET /options names the old one, and the next request
            // without a checkpoint override (another client, the UI) loads the old one again. False keeps the option and
            // the loaded model in step, so the fleet's view of the loaded checkpoint (from /options) is true and boxes
            // switch only when a call needs another checkpoint. With restore true, save_init_img would be set back too.
            OverrideSettingsRestoreAfterwards = false,
            InitImages = [previous],
            Mask = mask,
            MaskBlur = step.MaskBlur,
            InpaintingFill = step.InpaintingFill switch
            {
                InpaintingFillKind.Fill => InpaintingFill.Fill,
                InpaintingFillKind.LatentNoise => InpaintingFill.LatentNoise,
                InpaintingFillKind.LatentNothing => InpaintingFill.LatentNothing,
                _ => InpaintingFill.Original,
            },
            InpaintFullRes = step.InpaintArea == InpaintArea.OnlyMasked,
            InpaintFullResPadding = step.InpaintPadding,
            AlwaysOnScripts = units.Length == 0 ? null : new AlwaysOnScripts { ControlNet = new ControlNetScriptArgs(units) },
        };
    }

    /// <summary>The sampler in the box's dialect; an unknown name is kept as written so the name check reports it with suggestions.</summary>
    private static (string, string?) ResolveSamplerOrKeep(WebUiCapabilities box, string sampler, string? scheduler)
    {
        try
        {
            return box.ResolveSampler(sampler, scheduler);
        }
        catch (WebUiRequestException)
        {
            return (sampler, scheduler);
        }
    }

    /// <summary>A recipe's control mode as the unit sends it.</summary>
    internal static ControlNetControlMode ControlMode(ControlModeKind mode) => mode switch
    {
        ControlModeKind.Prompt => ControlNetControlMode.MyPromptIsMoreImportant,
        ControlModeKind.ControlNet => ControlNetControlMode.ControlNetIsMoreImportant,
        _ => ControlNetControlMode.Balanced,
    };

    /// <summary>
    /// One unit in the form every ControlNet API reads: the module by its UI label and the model by its exact listed
    /// <c>name [hash]</c>, both taken from the box's own lists (Forge accepts nothing else); names the box lacks stay as written
    /// so the name check reports them with suggestions.
    /// </summary>
    private static ControlNetUnit Unit(ControlNetUnitSettings u, WebUiCapabilities box, EncodedImage image) => new()
    {
        Module = box.ResolveControlNetModule(u.Module) ?? u.Module,
        Model = box.ResolveControlNetModel(u.Model) ?? u.Model,
        Weight = u.Weight,
        Image = image,
        GuidanceStart = u.GuidanceStart,
        GuidanceEnd = u.GuidanceEnd,
        ProcessorRes = u.ProcessorRes,
        ThresholdA = u.ThresholdA,
        ThresholdB = u.ThresholdB,
        PixelPerfect = u.PixelPerfect,
        ControlMode = ControlMode(u.ControlMode),
        ResizeMode = u.ResizeMode switch
        {
            ResizeModeKind.JustResize => ControlNetResizeMode.JustResize,
            ResizeModeKind.ResizeAndFill => ControlNetResizeMode.ResizeAndFill,
            _ => ControlNetResizeMode.CropAndResize,
        },

        // Keep the maps: the response check counts one per unit to prove each unit ran.
        SaveDetectedMap = true,
    };
}
