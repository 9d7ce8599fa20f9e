using System.Globalization;
using System.Text.Json.Nodes;
using Miaoya.Faces;
using Miaoya.Imaging;
using Miaoya.Recipes;
using Miaoya.WebUi;
using Miaoya.WebUi.Dto;
using SixLabors.ImageSharp;

namespace Miaoya.Pipeline;

/// <summary>
/// <c>inpaint</c> (V1, V2: the masked face on the template) and <c>img2img</c> (V2, V3: the whole image at low denoise,
/// skipped when the face's colour already matches): one img2img call with the recipe's ControlNet units, checked against
/// what was asked, with the face-vs-neck ΔE measured after it.
/// </summary>
internal sealed class GenerationStep : IPortraitStep
{
    private readonly bool _inpaint;

    private GenerationStep(bool inpaint) => _inpaint = inpaint;

    public static GenerationStep Inpaint { get; } = new(inpaint: true);

    public static GenerationStep WholeImage { get; } = new(inpaint: false);

    public string Name => _inpaint ? StepName.Inpaint : StepName.Img2Img;

    public StepBoxUse BoxUse => StepBoxUse.Renders;

    public async Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        if (_inpaint && run.HasPeople)
        {
            await InpaintPeopleAsync(run, record, cancellationToken);
            return;
        }

        if (_inpaint)
        {
            var (width, height) = run.TemplateSize;
            var response = await GenerateAsync(
                run,
                record,
                box => PayloadBuilder.Inpaint(run.Recipe, box, run.Template, run.Mask!, run.Prompt!, run.Request.Seed, width, height, run.IdentityImages, CandidateCount(run)),
                cancellationToken);
            run.Seed = response.Info?.Seed ?? run.Request.Seed;
            record.SetResult(new GenerationResult(DeltaE: Measure(run)));
            return;
        }

        var settings = run.Recipe.Img2Img!;
        var before = run.DeltaEOf(StepName.Inpaint) ?? run.DeltaEOf(StepName.FaceSwap);
        if (settings.SkipIfDeltaEBelow is { } threshold && before is { } measured && measured < threshold)
        {
            record.Skip();
            record.SetResult(new GenerationResult(
                DeltaEBefore: before,
                SkippedBecause: string.Create(CultureInfo.InvariantCulture, $"face-vs-neck ΔE {measured:0.##} after inpaint is under skip_if_delta_e_below {threshold}{(run.HasPeople ? " on every person's face" : "")}")));
            return;
        }

        var (w, h) = run.Current!.ReadSize();
        var current = run.Current;
        await GenerateAsync(
            run,
            record,
            box => PayloadBuilder.WholeImage(run.Recipe, box, run.Template, current, run.Prompt!, run.Seed ?? run.Request.Seed, w, h, run.HasPeople ? null : run.IdentityImages, CandidateCount(run)),
            cancellationToken);
        if (run.HasPeople)
        {
            var people = MeasurePeople(run);
            record.SetResult(new GenerationResult(DeltaEBefore: before, DeltaEAfter: people.Max(p => p.DeltaE), People: people, Note: WholeImageNote));
            return;
        }

        record.SetResult(new GenerationResult(DeltaEBefore: before, DeltaEAfter: Measure(run)));
    }

    public void Restore(RunContext run, StepRecord record, IReadOnlyList<EncodedImage> outputs)
    {
        if (record.Status == StepStatus.Succeeded)
        {
            run.Current = outputs[0];
            run.Seed = record.Response?["seed"]?.GetValue<long>();
            run.Infotext = record.Response?["infotext"]?.GetValue<string>();
            var count = CandidateCount(run);
            if (run.Recipe.Candidates is not null && run.Recipe.CandidateStep == Name)
            {
                var seeds = record.Response?["all_seeds"]?.AsArray().Select(s => s!.GetValue<long>()).ToArray() ?? [];
                run.Candidates = outputs.Take(count).Select((image, i) => (image, seeds.ElementAtOrDefault(i))).ToArray();
            }
        }
    }

    /// <summary>Why a several-person run's whole-image pass has no person in its prompt or units (the manifest says so).</summary>
    internal const string WholeImageNote =
        "several people: this pass renders the whole image, every face at once, so it carries no person's LoRA and no identity unit; each person's face was rendered by inpaint (and detail) with their own.";

    /// <summary>
    /// Several people: one inpaint call per person, each starting from the one before's result, with only that person's
    /// face masked, only their LoRA in the prompt and only their identity unit. Per-face passes rather than one call with
    /// regional masks: A1111 activates every <c>&lt;lora:…&gt;</c> of the prompt for the whole image (the extra-networks
    /// syntax has no region), so two people's LoRAs in one call would both shape both faces — a per-unit region mask
    /// could at most keep an identity unit to one face, never a LoRA. One call per person keeps both apart on every
    /// backend. The inpaint mask confines each call's changes to that person's face, so a face already rendered keeps its
    /// pixels. Each call costs a render; they run one after another, as calls on one box's queue would anyway.
    /// </summary>
    private async Task InpaintPeopleAsync(RunContext run, StepRecord record, CancellationToken cancellationToken)
    {
        var (width, height) = run.TemplateSize;
        var current = run.Template;
        var requests = new JsonArray();
        var responses = new JsonArray();
        foreach (var person in run.People)
        {
            var previous = current;
            var response = await RenderAsync(
                run,
                record,
                Name,
                box => PayloadBuilder.Inpaint(run.Recipe, box, run.Template, person.Mask!, person.Prompt!, run.Request.Seed, width, height, person.IdentityImages, 1, previous),
                cancellationToken);
            requests.Add(new JsonObject { ["face_index"] = person.FaceIndex, ["request"] = record.Request!.DeepClone() });
            responses.Add(new JsonObject { ["face_index"] = person.FaceIndex, ["response"] = record.Response!.DeepClone() });
            var image = response.GeneratedImages[0];
            record.Outputs.Add(await run.Folder.WriteAsync($"{Name}-{person.Tag}{image.FileExtension}", image, cancellationToken));
            for (var i = response.GeneratedImages.Count + (response.Info?.IndexOfFirstImage ?? 0); i < response.Images.Count; i++)
            {
                var map = response.Images[i];
                record.Outputs.Add(await run.Folder.WriteAsync($"{Name}-{person.Tag}-controlnet-{i - response.GeneratedImages.Count}{map.FileExtension}", map, cancellationToken));
            }

            current = image;
            run.Seed = response.Info?.Seed ?? run.Request.Seed;
            run.Infotext = response.Info?.Infotexts is { Count: > 0 } texts ? texts[0] : null;
        }

        // inpaint.png (the last person's result, every face done) comes first: a resume and the next step read it.
        record.Outputs.Insert(0, await run.Folder.WriteAsync($"{Name}{current.FileExtension}", current, cancellationToken));
        run.Current = current;
        var last = (JsonObject)record.Response!.DeepClone();
        last["people"] = responses;
        record.Response = last;
        record.Request = new JsonObject { ["people"] = requests };
        var people = MeasurePeople(run);
        record.SetResult(new GenerationResult(DeltaE: people.Max(p => p.DeltaE), People: people, Note: "several people: one call per person, each with only that person's face masked, LoRA and identity unit."));
    }

    /// <summary>Each person's face-vs-neck ΔE on the current image (the img2img skip rule takes the worst).</summary>
    private static PersonFace[] MeasurePeople(RunContext run)
    {
        using var image = FaceImages.Load(run.Current!);
        var scale = image.Width / (float)run.TemplateSize.Width;
        return run.People.Select(p => new PersonFace(
            p.FaceIndex,
            FaceRecord.From(p.Face!),
            DeltaE: Math.Round(SkinTone.Measure(image, scale == 1f ? p.Face! : Scale(p.Face!, scale)).DeltaE, 2))).ToArray();
    }

    /// <summary>How many candidates this step renders: the recipe's <c>candidates.count</c> on its candidate step, else 1.</summary>
    private int CandidateCount(RunContext run) =>
        run.Recipe.Candidates is { } candidates && run.Recipe.CandidateStep == Name ? candidates.Count : 1;

    private async Task<GenerationResponse> GenerateAsync(RunContext run, StepRecord record, Func<WebUiCapabilities, Img2ImgRequest> build, CancellationToken cancellationToken)
    {
        var response = await RenderAsync(run, record, Name, build, cancellationToken);
        var info = response.Info;
        var generated = response.GeneratedImages;
        var image = generated[0];
        record.Outputs.Add(await run.Folder.WriteAsync($"{Name}{image.FileExtension}", image, cancellationToken));
        var candidates = CandidateCount(run);
        if (run.Recipe.Candidates is not null && run.Recipe.CandidateStep == Name)
        {
            // Candidate 1 is the step's own image; the others follow it, before the ControlNet maps.
            for (var c = 1; c < Math.Min(candidates, generated.Count); c++)
            {
                record.Outputs.Add(await run.Folder.WriteAsync($"{Name}-candidate-{c + 1}{generated[c].FileExtension}", generated[c], cancellationToken));
            }

            run.Candidates = generated.Take(candidates).Select((g, c) => (g, info?.AllSeeds?.ElementAtOrDefault(c) ?? (info?.Seed ?? 0) + c)).ToArray();
        }

        for (var i = generated.Count + (info?.IndexOfFirstImage ?? 0); i < response.Images.Count; i++)
        {
            var map = response.Images[i];
            record.Outputs.Add(await run.Folder.WriteAsync($"{Name}-controlnet-{i - generated.Count}{map.FileExtension}", map, cancellationToken));
        }

        run.Current = image;
        run.Infotext = info?.Infotexts is { Count: > 0 } infotexts ? infotexts[0] : null;
        return response;
    }

    /// <summary>
    /// One img2img call of step <paramref name="step"/> on a box that can run it: the request recorded in the manifest
    /// before it is sent, progress while it renders, what the box answered recorded in the step's record, and the answer
    /// checked against what was asked (a box that quietly did something else fails the step).
    /// </summary>
    internal static async Task<GenerationResponse> RenderAsync(RunContext run, StepRecord record, string step, Func<WebUiCapabilities, Img2ImgRequest> build, CancellationToken cancellationToken)
    {
        var (request, response, expected) = await BoxCalls.RunAsync(run, record, BoxCalls.Needs(run, step, generation: true), async (box, ct) =>
        {
            var request = build(box.Capabilities);
            record.Request = ManifestRequests.Of(run, request);
            await run.Folder.SaveManifestAsync(run.Manifest, ct);
            var response = await BoxProgress.WhileAsync(run, step, box.Client, () => box.Client.Img2ImgAsync(request, ct), ct);
            box.Rendered(response);
            return (request, response, box.Capabilities.FindCheckpoint(run.Recipe.BaseModel)!);
        }, cancellationToken);
        var problems = ResponseChecks.Check(request, response, expected.ModelName, run.Recipe.Identity is { } identity && identity.Steps.Contains(step) ? identity : null);
        var info = response.Info;
        record.Response = new JsonObject
        {
            ["seed"] = info?.Seed,
            ["all_seeds"] = info?.AllSeeds is { } seeds ? new JsonArray(seeds.Select(s => (JsonNode)s).ToArray()) : null,
            ["sd_model_name"] = info?.SdModelName,
            ["sd_model_hash"] = info?.SdModelHash,
            ["sampler_name"] = info?.SamplerName,
            ["version"] = info?.Version,
            ["infotext"] = info?.Infotexts is { Count: > 0 } texts ? texts[0] : null,
            ["images"] = response.Images.Count,
        };
        if (problems.Count > 0)
        {
            throw new PipelineException($"{record.Box} did not do what was asked: {string.Join(" ", problems)}") { Step = step };
        }

        return response;
    }

    /// <summary>Face-vs-neck ΔE of the current image, with the face found on the template (null without a face).</summary>
    private static double? Measure(RunContext run)
    {
        if (run.Face is not { } face || run.Current is null)
        {
            return null;
        }

        using var image = FaceImages.Load(run.Current);
        var scale = image.Width / (float)run.TemplateSize.Width;
        var scaled = scale == 1f ? face : Scale(face, scale);
        return Math.Round(SkinTone.Measure(image, scaled).DeltaE, 2);
    }

    private static DetectedFace Scale(DetectedFace face, float s) => new(
        new RectangleF(face.Box.X * s, face.Box.Y * s, face.Box.Width * s, face.Box.Height * s),
        face.Landmarks.Select(p => new PointF(p.X * s, p.Y * s)).ToArray(),
        face.Score);
}
