namespace Miaoya.Pipeline;

/// <summary>
/// One step of a portrait run. A step reads what earlier steps left in the <see cref="RunContext"/>, does its work (on
/// this machine or through <see cref="BoxCalls"/> on a box), writes its files through the run folder and its typed result
/// into its <see cref="StepRecord"/>, and leaves what later steps need in the context. <see cref="StepRunner"/> owns
/// everything around it: the record's state, timing, the one catch policy, progress and the manifest.
/// </summary>
internal interface IPortraitStep
{
    /// <summary>The step's name in recipes, manifests and jobs (<see cref="Recipes.StepName"/>).</summary>
    string Name { get; }

    /// <summary>
    /// Whether the step takes one of a box's generation slots (its call runs under A1111's queue lock): a job step that
    /// does is placed on one box, and booked there across every instance, before it starts.
    /// </summary>
    StepBoxUse BoxUse { get; }

    Task RunAsync(RunContext run, StepRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Puts back into <paramref name="run"/> what later steps need, from a finished record and its output files (already
    /// checked against their sha256), so that a resumed run or a job's next step goes on without redoing this one.
    /// </summary>
    void Restore(RunContext run, StepRecord record, IReadOnlyList<Imaging.EncodedImage> outputs);
}

/// <summary>How a step uses a box's generation slots (<see cref="IPortraitStep.BoxUse"/>).</summary>
internal enum StepBoxUse
{
    /// <summary>No slot: it works on this machine, or its calls take none (ControlNet detect, rembg).</summary>
    None,

    /// <summary>One slot, rendering with the recipe's checkpoint (inpaint, img2img).</summary>
    Renders,

    /// <summary>One slot, with no checkpoint of its own (the WD14 tagger, which runs under the queue lock).</summary>
    Occupies,
}
