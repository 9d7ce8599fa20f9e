using System.Collections.Concurrent;
using System.Diagnostics;
using Miaoya.Pipeline;
using Miaoya.Recipes;
using Miaoya.WebUi;

namespace Miaoya.Tuning;

/// <summary>One box a sweep can send cells to.</summary>
public sealed record SweepBox(string Name, PortraitPipeline Pipeline);

/// <summary>A cell started, was skipped (finished earlier), succeeded or failed.</summary>
public sealed record SweepEvent(SweepCellRecord Cell, int Total, string Box, string What);

/// <summary>
/// Runs a sweep's cells through <see cref="PortraitPipeline"/>, one cell in flight per box. Each cell is an ordinary run
/// folder; a cell whose run finished earlier (manifest succeeded, final image intact) is skipped, and one that stopped
/// part-way is resumed from its run folder. <c>sweep.json</c> is saved whenever a cell starts or ends.
/// </summary>
public sealed class SweepRunner
{
    private readonly IReadOnlyList<SweepBox> _boxes;

    public SweepRunner(IReadOnlyList<SweepBox> boxes)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentOutOfRangeException.ThrowIfZero(boxes.Count);
        _boxes = boxes;
    }

    /// <summary>Runs every unfinished cell; returns the manifest (cells that failed say why).</summary>
    /// <exception cref="PipelineException">The template or the box's preflight failed: every cell would fail the same way.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the manifest is saved and running cells go back to pending.</exception>
    public async Task<SweepManifest> RunAsync(string folder, SweepManifest manifest, IProgress<SweepEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        manifest.Boxes = _boxes.Select(b => b.Name).ToArray();
        var queue = new ConcurrentQueue<SweepCellRecord>();
        foreach (var cell in manifest.Cells)
        {
            if (await IsFinishedAsync(folder, cell, cancellationToken))
            {
                progress?.Report(new SweepEvent(cell, manifest.Cells.Count, cell.Box ?? "", "skipped (finished earlier)"));
                continue;
            }

            cell.Status = CellStatus.Pending;
            cell.Error = null;
            queue.Enqueue(cell);
        }

        await manifest.SaveAsync(folder, CancellationToken.None);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var gate = new SemaphoreSlim(1, 1);
        PipelineException? fatal = null;
        var workers = _boxes.Select(box => Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested && queue.TryDequeue(out var cell))
                {
                    var failure = await RunCellAsync(folder, manifest, box, cell, gate, progress, stop.Token);
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
    private static async Task<PipelineException?> RunCellAsync(string folder, SweepManifest manifest, SweepBox box, SweepCellRecord cell, SemaphoreSlim gate, IProgress<SweepEvent>? progress, CancellationToken cancellationToken)
    {
        var definition = manifest.Definition;
        var runFolder = Path.Combine(folder, cell.Folder);
        cell.Status = CellStatus.Running;
        cell.Box = box.Name;
        await SaveAsync(folder, manifest, gate);
        progress?.Report(new SweepEvent(cell, manifest.Cells.Count, box.Name, "started"));
        var clock = Stopwatch.StartNew();
        try
        {
            RunResult run;
            if (new RunFolder(runFolder).HasManifest)
            {
                run = await box.Pipeline.ResumeAsync(runFolder, null, cancellationToken);
            }
            else
            {
                var overrides = SweepPlan.Overrides(definition.Sets, definition.Axes, new SweepCell(cell.Index, cell.Values.Select((v, a) => IndexOf(definition.Axes[a], v)).ToArray()));
                run = await box.Pipeline.RunAsync(
                    new RunRequest
                    {
                        Recipe = RecipeLoader.Load(definition.Recipe, overrides),
                        Overrides = overrides,
                        TemplatePath = definition.Template,
                        Lora = LoraChoice.Parse(definition.Lora),
                        TriggerWords = definition.Trigger,
                        Seed = definition.Seed,
                        OutputDirectory = runFolder,
                        FaceIndex = definition.FaceIndex,
                        FacePath = definition.Face,
                        ModelsDirectory = definition.Models,
                        Device = definition.Device,
                    },
                    null,
                    cancellationToken);
            }

            cell.Status = CellStatus.Succeeded;
            cell.Final = Path.GetRelativePath(folder, run.FinalImage).Replace('\\', '/');
            cell.DurationMs = clock.Elapsed.TotalMilliseconds;
            cell.Error = null;
            progress?.Report(new SweepEvent(cell, manifest.Cells.Count, box.Name, $"succeeded in {cell.DurationMs:0} ms"));
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cell.Status = CellStatus.Pending;
            return null;
        }
        catch (PipelineException e)
        {
            Fail(cell, e.Message, box, progress, manifest);
            return e.Step is "template" or "preflight" || e.RunFolder is null ? e : null;
        }
        catch (Exception e) when (e is WebUiException or RecipeException or ArgumentException or IOException)
        {
            Fail(cell, e.Message, box, progress, manifest);
            return null;
        }
        finally
        {
            await SaveAsync(folder, manifest, gate);
        }
    }

    private static void Fail(SweepCellRecord cell, string message, SweepBox box, IProgress<SweepEvent>? progress, SweepManifest manifest)
    {
        cell.Status = CellStatus.Failed;
        cell.Error = message;
        progress?.Report(new SweepEvent(cell, manifest.Cells.Count, box.Name, $"failed: {message}"));
    }

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
