using System.Collections.Concurrent;
using System.Diagnostics;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Tuning;

/// <summary>A cell started, was skipped (finished earlier), succeeded or failed, or one of its run's steps progressed.</summary>
/// <param name="Cell">The cell.</param>
/// <param name="Total">Cells in the sweep.</param>
/// <param name="Box">The box the cell's call went to, when known.</param>
/// <param name="What">What happened, for a console line.</param>
/// <param name="Step">Set while the cell's run reports a step's progress (null for a cell's start, end or skip).</param>
public sealed record SweepEvent(SweepCellRecord Cell, int Total, string Box, string What, PipelineProgress? Step = null);

/// <summary>
/// Runs a sweep's cells through one <see cref="PortraitPipeline"/>, <paramref name="parallel"/> cells at a time. The
/// pipeline's calls go wherever its <see cref="IWebUiBoxes"/> places them: on a fleet, a sweep is one more source of calls,
/// so the fleet's health checks, quarantine, retries on another box and checkpoint affinity apply to its cells as to jobs.
/// Each cell is an ordinary run folder; a cell whose run finished earlier (manifest succeeded, final image intact) is
/// skipped, and one that stopped part-way is resumed from its run folder. <c>sweep.json</c> is saved whenever a cell
/// starts or ends. With <paramref name="likeness"/>, each cell's final image is scored against the person as the cell
/// finishes (and a finished cell without a score is scored when it is skipped).
/// </summary>
/// <param name="pipeline">The pipeline, over the boxes the sweep may use.</param>
/// <param name="boxes">The boxes' names, recorded in <c>sweep.json</c>.</param>
/// <param name="parallel">Cells in flight at once (the boxes' generation slots, so that none idles).</param>
/// <param name="likeness">The person's reference and scorer, for sweeps with face photos; the caller disposes it.</param>
public sealed class SweepRunner(PortraitPipeline pipeline, IReadOnlyList<string> boxes, int parallel, SweepLikeness? likeness = null)
{
    private readonly PortraitPipeline _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
    private readonly IReadOnlyList<string> _boxes = boxes ?? throw new ArgumentNullException(nameof(boxes));
    private readonly int _parallel = parallel > 0 ? parallel : throw new ArgumentOutOfRangeException(nameof(parallel), parallel, "at least one cell must run");

    /// <summary>Runs every unfinished cell; returns the manifest (cells that failed say why).</summary>
    /// <exception cref="PipelineException">The template or the box's preflight failed: every cell would fail the same way.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the manifest is saved and running cells go back to pending.</exception>
    public async Task<SweepManifest> RunAsync(string folder, SweepManifest manifest, IProgress<SweepEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        manifest.Boxes = [.. _boxes];
        var queue = new ConcurrentQueue<SweepCellRecord>();
        foreach (var cell in manifest.Cells)
        {
            if (await IsFinishedAsync(folder, cell, cancellationToken))
            {
                if (cell.Likeness is null && likeness is not null)
                {
                    cell.Likeness = await ScoreAsync(folder, cell, cancellationToken);
                }

                progress?.Report(new SweepEvent(cell, manifest.Cells.Count, cell.Box ?? "", $"skipped (finished earlier){Describe(cell.Likeness)}"));
                continue;
            }

            cell.Status = CellStatus.Pending;
            cell.Error = null;
            cell.Likeness = null;
            queue.Enqueue(cell);
        }

        await manifest.SaveAsync(folder, CancellationToken.None);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var gate = new SemaphoreSlim(1, 1);
        PipelineException? fatal = null;
        var workers = Enumerable.Range(0, Math.Min(_parallel, Math.Max(1, queue.Count))).Select(_ => Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested && queue.TryDequeue(out var cell))
                {
                    var failure = await RunCellAsync(folder, manifest, cell, gate, progress, stop.Token);
                    if (failure is not null)
                    {
                        fatal ??= failure;
                        await stop.CancelAsync();
                    }
                }
            },
            CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
        await manifest.SaveAsync(folder, CancellationToken.None);
        cancellationToken.ThrowIfCancellationRequested();
        return fatal is not null ? throw fatal : manifest;
    }

    /// <summary>Runs one cell; returns an exception only when it means the whole sweep cannot go on.</summary>
    private async Task<PipelineException?> RunCellAsync(string folder, SweepManifest manifest, SweepCellRecord cell, SemaphoreSlim gate, IProgress<SweepEvent>? progress, CancellationToken cancellationToken)
    {
        var definition = manifest.Definition;
        var runFolder = Path.Combine(folder, cell.Folder);
        cell.Status = CellStatus.Running;
        cell.Box = null;
        await SaveAsync(folder, manifest, gate);
        progress?.Report(new SweepEvent(cell, manifest.Cells.Count, "", "started"));
        var clock = Stopwatch.StartNew();
        try
        {
            RunResult run;
            if (new RunFolder(runFolder).HasManifest)
            {
                run = await _pipeline.ResumeAsync(runFolder, StepProgress(cell, manifest, progress), cancellationToken);
            }
            else
            {
                var overrides = SweepPlan.Overrides(definition.Sets, definition.Axes, new SweepCell(cell.Index, cell.Values.Select((v, a) => IndexOf(definition.Axes[a], v)).ToArray()));
                run = await _pipeline.RunAsync(
                    new RunRequest
                    {
                        Recipe = RecipeLoader.Load(definition.Recipe, overrides),
                        Overrides = overrides,
                        TemplatePath = definition.Template,
                        Lora = definition.Lora is null ? null : LoraChoice.Parse(definition.Lora),
                        TriggerWords = definition.Trigger,
                        Seed = definition.Seed,
                        OutputDirectory = runFolder,
                        FaceIndex = definition.FaceIndex,
                        FacePaths = definition.Faces,
                        People = definition.People.Select(p => p.ToRequest()).ToArray(),
                        ModelsDirectory = definition.Models,
                        Device = definition.Device,
                    },
                    StepProgress(cell, manifest, progress),
                    cancellationToken);
            }

            cell.Status = CellStatus.Succeeded;
            cell.Box = RenderedOn(run.Manifest);
            cell.Final = Path.GetRelativePath(folder, run.FinalImage).Replace('\\', '/');
            cell.DurationMs = clock.Elapsed.TotalMilliseconds;
            cell.Error = null;
            if (likeness is not null)
            {
                cell.Likeness = await ScoreAsync(folder, cell, cancellationToken);
            }

            progress?.Report(new SweepEvent(cell, manifest.Cells.Count, cell.Box ?? "", $"succeeded in {cell.DurationMs:0} ms{Describe(cell.Likeness)}"));
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cell.Status = CellStatus.Pending;
            return null;
        }
        catch (PipelineException e)
        {
            Fail(cell, e.Message, progress, manifest);
            return e.Step is "template" or "preflight" || e.RunFolder is null ? e : null;
        }
        catch (Exception e) when (e is ArgumentException || RunFailures.IsRunFailure(e))
        {
            Fail(cell, e.Message, progress, manifest);
            return null;
        }
        finally
        {
            await SaveAsync(folder, manifest, gate);
        }
    }

    /// <summary>The cell's run's step progress as sweep events (reported on the calling thread, in order).</summary>
    private static CellSteps? StepProgress(SweepCellRecord cell, SweepManifest manifest, IProgress<SweepEvent>? progress) =>
        progress is null ? null : new CellSteps(cell, manifest.Cells.Count, progress);

    /// <summary>The cell's final image scored against the person; null when it cannot be decoded.</summary>
    private async Task<CellLikeness?> ScoreAsync(string folder, SweepCellRecord cell, CancellationToken cancellationToken)
    {
        try
        {
            return await likeness!.ScoreAsync(Path.Combine(folder, cell.Final!), cancellationToken);
        }
        catch (Miaoya.Imaging.InvalidImageDataException)
        {
            return null;
        }
    }

    /// <summary>", similarity 0.712 (ratio 0.81)" for the console; empty without a score.</summary>
    private static string Describe(CellLikeness? score) => score switch
    {
        null => "",
        { Similarity: null } => $", no face found to score ({score.FacesFound} faces)",
        { Similarity: { } s, Ratio: { } r } => string.Create(System.Globalization.CultureInfo.InvariantCulture, $", similarity {s:0.000} (ratio {r:0.00})"),
        { Similarity: { } s } => string.Create(System.Globalization.CultureInfo.InvariantCulture, $", similarity {s:0.000}"),
    };

    private static void Fail(SweepCellRecord cell, string message, IProgress<SweepEvent>? progress, SweepManifest manifest)
    {
        cell.Status = CellStatus.Failed;
        cell.Error = message;
        progress?.Report(new SweepEvent(cell, manifest.Cells.Count, "", $"failed: {message}"));
    }

    /// <summary>The box of the run's last step that ran on one (its generation), from the run's manifest.</summary>
    private static string? RenderedOn(RunManifest run) => run.Steps.LastOrDefault(s => s.Box is not null)?.Box;

    private static async Task SaveAsync(string folder, SweepManifest manifest, SemaphoreSlim gate)
    {
        // Never cancelled: a cell's outcome must reach sweep.json even while the sweep is being stopped.
        await gate.WaitAsync(CancellationToken.None);
        try
        {
            await manifest.SaveAsync(folder, CancellationToken.None);
        }
        finally
        {
            gate.Release();
        }
    }

    private static int IndexOf(SweepAxis axis, string value)
    {
        var index = axis.Values.ToList().IndexOf(value);
        return index >= 0 ? index : throw new SweepException($"sweep.json: cell value {value} is not among {axis.Path}'s values.");
    }

    /// <summary>A cell counts as finished when its run's manifest says so and the final image is intact.</summary>
    private static async Task<bool> IsFinishedAsync(string folder, SweepCellRecord cell, CancellationToken cancellationToken)
    {
        var run = new RunFolder(Path.Combine(folder, cell.Folder));
        if (cell.Status != CellStatus.Succeeded || !run.HasManifest)
        {
            return false;
        }

        try
        {
            var manifest = await run.LoadManifestAsync(cancellationToken);
            return manifest.Status == RunStatus.Succeeded && manifest.Final is { } final && await run.ReadVerifiedAsync(final, cancellationToken) is not null;
        }
        catch (PipelineException)
        {
            return false;
        }
    }
}

/// <summary>Forwards one cell's <see cref="PipelineProgress"/> as <see cref="SweepEvent"/>s.</summary>
internal sealed class CellSteps(SweepCellRecord cell, int total, IProgress<SweepEvent> sweep) : IProgress<PipelineProgress>
{
    public void Report(PipelineProgress value) =>
        sweep.Report(new SweepEvent(cell, total, value.Box ?? "", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value.Step} {value.Fraction * 100:0}%"), value));
}
