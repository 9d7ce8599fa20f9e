using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// What a run folder runs, whatever made it: its name (in messages and logs), its job steps in order, the step after
/// which <c>final.png</c> is written, and the ID-photo finish settings of its <c>finish</c> step. A portrait run takes all
/// of it from its recipe; an ID-photo run (<see cref="IdPhotoRun"/>) is the <c>finish</c> step alone, on an uploaded photo.
/// </summary>
/// <param name="Name">The recipe's name, or <see cref="IdPhotoRun.Kind"/>.</param>
/// <param name="Steps">The job's steps, in order (<see cref="PortraitPipeline.JobSteps"/>).</param>
/// <param name="LastRecipeStep">The step whose image becomes <c>final.png</c>; null when no step renders one (an ID-photo run).</param>
/// <param name="Finish">The <c>finish</c> step's settings; null when the run has no such step.</param>
/// <param name="Generated">Whether the photo the <c>finish</c> step works on was made by a generative step (the verdict says so).</param>
internal sealed record RunPlan(string Name, IReadOnlyList<string> Steps, string? LastRecipeStep, FinishSettings? Finish, bool Generated)
{
    /// <summary>A portrait recipe's run: its steps, then <c>finish</c> on the rendered image when it has a finish section.</summary>
    public static RunPlan Of(Recipe recipe) => new(recipe.Name, StepRunner.JobSteps(recipe), recipe.StepNames[^1], recipe.Finish, Generated: true);

    /// <summary>An ID-photo run: the <c>finish</c> step alone, on the uploaded photo (document-safe: nothing generative).</summary>
    public static RunPlan IdPhoto(FinishSettings finish) => new(IdPhotoRun.Kind, [StepName.Finish], null, finish, Generated: false);
}
