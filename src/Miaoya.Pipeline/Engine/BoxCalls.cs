using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Pipeline;

/// <summary>How steps reach a box: what a call needs, placing it on a box, recording where it ran.</summary>
internal static class BoxCalls
{
    /// <summary>
    /// The box check before the first step: some box can run the whole recipe (each call is placed and checked again).
    /// The box that answered is recorded as the run's server. When the person's LoRA is all that a box lacks, the input is
    /// at fault (<c>--lora</c>), not the boxes.
    /// </summary>
    public static async Task PreflightAsync(RunContext run, CancellationToken cancellationToken)
    {
        var recipe = run.Recipe;
        try
        {
            var box = await run.Services.Boxes.RunAsync(
                new BoxNeeds { Purpose = recipe.Name, IsGeneration = false, Check = caps => Problems(Check(recipe, caps, Loras(run.Request), run.HasPeople, step: null)) },
                (box, _) => Task.FromResult(box),
                cancellationToken);
            RecordServer(run, box);
        }
        catch (WebUiBoxesException e)
        {
            throw new PipelineException(e.Message, e) { Step = "preflight", InputField = e.InputOnly ? (run.HasPeople ? "person" : "lora") : null };
        }
    }

    /// <summary>What a step's call needs from a box: the recipe's models for that step (Preflight), and its checkpoint when it renders.</summary>
    public static BoxNeeds Needs(RunContext run, string step, bool generation) => new()
    {
        Purpose = step,
        IsGeneration = generation,
        Checkpoint = generation ? run.Recipe.BaseModel : null, // an ID-photo run's one call (rembg) renders nothing
        Check = caps => Problems(run.HasRecipe ? Check(run.Recipe, caps, Loras(run.Request), run.HasPeople, step) : IdPhotoRun.Check(caps)),
        Box = generation ? run.PlacedBox : null,
    };

    /// <summary>What placing <paramref name="step"/> of a run of <paramref name="recipe"/> on a box needs, as its call will; null when it takes no slot.</summary>
    public static BoxNeeds? PlacementNeeds(Recipe recipe, IReadOnlyList<LoraChoice?> loras, bool people, IPortraitStep step) => step.BoxUse switch
    {
        StepBoxUse.None => null,
        var use => new BoxNeeds
        {
            Purpose = step.Name,
            IsGeneration = true,
            Checkpoint = use == StepBoxUse.Renders ? recipe.BaseModel : null,
            Check = caps => Problems(Check(recipe, caps, loras, people, step.Name)),
        },
    };

    /// <summary>The run's LoRAs: the one person's, or each person's of a several-person run (null: a person without one).</summary>
    private static LoraChoice?[] Loras(RunRequest request) =>
        request.People.Count > 0 ? request.People.Select(p => p.Lora).ToArray() : [request.Lora];

    /// <summary>
    /// What the box lacks for the recipe and every LoRA of the run, each problem once; with several people a missing
    /// LoRA is named by its <c>--person</c> option (still the run's input, not the box's fault).
    /// </summary>
    private static PreflightProblem[] Check(Recipe recipe, WebUiCapabilities caps, IReadOnlyList<LoraChoice?> loras, bool people, string? step)
    {
        var all = (loras.Count == 0 ? [null] : loras)
            .SelectMany(lora => step is null ? Preflight.Check(recipe, caps, lora) : Preflight.Check(recipe, caps, lora, step));
        if (people)
        {
            all = all.Select(p => p.Requirement is { Kind: RequirementKind.Lora, Where: "--lora" } r ? p with { Requirement = r with { Where = PersonLoraField } } : p);
        }

        return all.DistinctBy(p => p.ToString()).ToArray();
    }

    /// <summary>The field a several-person run's missing LoRA is reported under.</summary>
    internal const string PersonLoraField = "--person";

    private static BoxProblem[] Problems(IReadOnlyList<PreflightProblem> problems) => [.. problems.Select(p => p.ToBoxProblem())];

    /// <summary>One remote call of a step, on whichever box the boxes pick; the box is recorded in the step's record.</summary>
    public static async Task<T> RunAsync<T>(RunContext run, StepRecord record, BoxNeeds needs, Func<WebUiBox, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await run.Services.Boxes.RunAsync(needs, (box, ct) =>
            {
                record.Box = box.Name;
                RecordServer(run, box);
                run.Progress?.Report(new PipelineProgress(needs.Purpose, 0, null, $"on {box.Name}", box.Name));
                return call(box, ct);
            }, cancellationToken);
        }
        catch (WebUiBoxesException e)
        {
            throw new PipelineException(e.Message, e) { Step = needs.Purpose };
        }
    }

    private static void RecordServer(RunContext run, WebUiBox box)
    {
        var caps = box.Capabilities;
        run.Manifest.Server ??= new ManifestServer(caps.BaseUrl.ToString(), caps.WebUiVersion, caps.SamplerDialect.ToString(), caps.ControlNetApiVersion, caps.TaggerFlavor.ToString(), caps.Backend.DisplayName());
    }
}
