using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Miaoya.Imaging;
using Miaoya.Recipes;

namespace Miaoya.Pipeline;

/// <summary>
/// Runs steps: the record's state and timing, the one catch policy, progress, the manifest after every step, and what
/// happens after the recipe's last step (<c>final.png</c>) and the job's last step (the run succeeded). Whole runs
/// (<c>run</c>, <c>demo</c>, <c>sweep</c>) and single job steps (<c>serve</c>, <c>batch</c>) both go through it.
/// </summary>
internal sealed class StepRunner(PipelineServices services)
{
    public const string FinalFileName = "final.png";

    /// <summary>The steps of a job running <paramref name="recipe"/>, in order: the recipe's steps, then <c>finish</c> when it has one.</summary>
    public static IReadOnlyList<string> JobSteps(Recipe recipe) =>
        recipe.Finish is null ? recipe.StepNames : [.. recipe.StepNames, StepName.Finish];

    /// <summary>Every step not done yet (finished ones are restored), after a preflight on the boxes; the run ends succeeded.</summary>
    public async Task RunAllAsync(RunContext run, CancellationToken cancellationToken)
    {
        await GuardAsync(run, async () =>
        {
            if (run.HasRecipe)
            {
                // An ID-photo run's one call (rembg) is checked when it is placed.
                run.Progress?.Report(new PipelineProgress("preflight", 0, null, "probing"));
                await BoxCalls.PreflightAsync(run, cancellationToken);
            }

            foreach (var step in run.Plan.Steps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (await TryRestoreAsync(run, step, cancellationToken))
                {
                    run.Progress?.Report(new PipelineProgress(step, 1, null, "done earlier"));
                }
                else
                {
                    await RunAsync(run, step, cancellationToken);
                }

                if (step == run.Plan.LastRecipeStep)
                {
                    run.Manifest.Final = await run.Folder.WriteAsync(FinalFileName, FinalImage(run), cancellationToken);
                }
            }

            run.Manifest.Succeed();
            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
        }, cancellationToken);
    }

    /// <summary>
    /// One step of a job: the earlier steps are restored (their outputs must be intact), a step already done is not
    /// redone, <c>final.png</c> follows the recipe's last step, and the run succeeds with the job's last step.
    /// </summary>
    public async Task<StepResult> RunOneAsync(RunContext run, string step, CancellationToken cancellationToken)
    {
        var steps = run.Plan.Steps;
        var index = steps.ToList().IndexOf(step);
        if (index < 0)
        {
            throw new PipelineException($"{run.Label} has no step \"{step}\" (its steps: {string.Join(", ", steps)}).") { Step = step, RunFolder = run.Folder.Path };
        }

        foreach (var earlier in steps.Take(index))
        {
            if (!await TryRestoreAsync(run, earlier, cancellationToken))
            {
                throw new PipelineException($"step {step} needs step {earlier}'s outputs in {run.Folder.Path}, which are missing or changed.") { Step = step, RunFolder = run.Folder.Path };
            }
        }

        var last = step == run.Plan.LastRecipeStep;
        if (await TryRestoreAsync(run, step, cancellationToken))
        {
            run.Progress?.Report(new PipelineProgress(step, 1, null, "done earlier"));
            return new StepResult(run.Manifest.Step(step)!, last ? run.Manifest.Final : null);
        }

        run.Manifest.Start();
        await GuardAsync(run, async () =>
        {
            await RunAsync(run, step, cancellationToken);
            if (last)
            {
                run.Manifest.Final = await run.Folder.WriteAsync(FinalFileName, FinalImage(run), cancellationToken);
            }

            if (index == steps.Count - 1)
            {
                run.Manifest.Succeed();
            }

            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
        }, cancellationToken);
        return new StepResult(run.Manifest.Step(step)!, last ? run.Manifest.Final : null);
    }

    /// <summary>One step: its record restarted, the step run, the record's outcome and the manifest saved whatever happens.</summary>
    private async Task RunAsync(RunContext run, string name, CancellationToken cancellationToken)
    {
        var step = PortraitSteps.Get(name, run.Label);
        var record = run.Manifest.Step(name);
        if (record is null)
        {
            record = new StepRecord { Name = name };
            run.Manifest.Steps.Add(record);
        }

        record.Start(services.Time.GetUtcNow());
        var clock = Stopwatch.StartNew();
        run.Progress?.Report(new PipelineProgress(name, 0, null));
        try
        {
            await step.RunAsync(run, record, cancellationToken);
            record.Succeed(Elapsed(clock));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            record.Cancel(Elapsed(clock));
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            record.Fail(e.Message, Elapsed(clock));
            throw;
        }
        finally
        {
            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
        }

        services.Logger.LogInformation("Step {Step} of {Recipe}: {Status} in {Ms} ms", name, run.Plan.Name, record.Status, record.DurationMs);
        run.Progress?.Report(new PipelineProgress(name, 1, null, record.Status == StepStatus.Skipped ? "skipped" : null));
    }

    /// <summary>A finished step whose output files are intact is not redone: what later steps need comes back from its record.</summary>
    private async Task<bool> TryRestoreAsync(RunContext run, string name, CancellationToken cancellationToken)
    {
        if (run.Manifest.Step(name) is not { Status: StepStatus.Succeeded or StepStatus.Skipped } record)
        {
            return false;
        }

        var files = new List<EncodedImage>();
        foreach (var output in record.Outputs)
        {
            if (await run.Folder.ReadVerifiedAsync(output, cancellationToken) is not { } file)
            {
                services.Logger.LogWarning("Step {Step}: {File} is missing or changed; running the step again", name, output.File);
                return false;
            }

            files.Add(file);
        }

        PortraitSteps.Get(name, run.Label).Restore(run, record, files);
        return true;
    }

    /// <summary>
    /// The one catch policy of a run: cancelled → the manifest says so; a failure of a step, a box, an input or a file →
    /// the manifest says which and why, and a <see cref="PipelineException"/> names the step and the run folder (to resume).
    /// </summary>
    private static async Task GuardAsync(RunContext run, Func<Task> body, CancellationToken cancellationToken)
    {
        try
        {
            await body();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            run.Manifest.Cancel();
            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
            throw;
        }
        catch (Exception e) when (RunFailures.IsRunFailure(e))
        {
            var step = (e as PipelineException)?.Step ?? run.Manifest.Steps.LastOrDefault(s => s.Status == StepStatus.Failed)?.Name;
            run.Manifest.Fail(e.Message);
            await run.Folder.SaveManifestAsync(run.Manifest, CancellationToken.None);
            throw e as PipelineException is { RunFolder: not null } known
                ? known
                : new PipelineException(step is null ? e.Message : $"step {step}: {e.Message}", e)
                {
                    Step = step,
                    RunFolder = run.Folder.Path,
                    InputField = (e as PipelineException)?.InputField,
                };
        }
    }

    /// <summary>The last image as PNG, carrying the box's infotext as the WebUI's "parameters" chunk.</summary>
    private static EncodedImage FinalImage(RunContext run)
    {
        var current = run.Current ?? run.Template;
        if (current.Format != ImageFileFormat.Png)
        {
            using var decoded = current.Decode();
            current = EncodedImage.FromPng(decoded);
        }

        return run.Infotext is { } text ? PngText.With(current, PngText.ParametersKeyword, text) : current;
    }

    private static double Elapsed(Stopwatch clock) => Math.Round(clock.Elapsed.TotalMilliseconds, 1);
}
