namespace Miaoya.Pipeline;

/// <summary>The one map from a step's name to its code.</summary>
internal static class PortraitSteps
{
    private static readonly Dictionary<string, IPortraitStep> ByName = new IPortraitStep[]
    {
        new InterrogateStep(),
        new IdentityStep(),
        new MaskStep(),
        new FaceSwapStep(),
        GenerationStep.Inpaint,
        GenerationStep.WholeImage,
        new SelectStep(),
        new DetailStep(),
        new RestoreStep(),
        new UpscaleStep(),
        new FinishStep(),
    }.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>The step called <paramref name="name"/>.</summary>
    /// <exception cref="PipelineException">No step has that name.</exception>
    public static IPortraitStep Get(string name, Recipes.Recipe recipe) => Get(name, $"recipe {recipe.Name}");

    /// <summary>The step called <paramref name="name"/> of the run described as <paramref name="runName"/> (in the message).</summary>
    /// <exception cref="PipelineException">No step has that name.</exception>
    public static IPortraitStep Get(string name, string runName) =>
        ByName.TryGetValue(name, out var step)
            ? step
            : throw new PipelineException($"{runName}: unknown step \"{name}\".") { Step = name };

    /// <summary>The step called <paramref name="name"/>, or null.</summary>
    public static IPortraitStep? TryGet(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Every step's name (tests: names are unique and each has its code).</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;
}
