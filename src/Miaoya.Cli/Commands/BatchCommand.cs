using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Miaoya.Fleet;
using Miaoya.Hosting;
using Miaoya.Imaging;
using Miaoya.Jobs;
using Miaoya.Jobs.Scheduling;
using Miaoya.Runner;
using Miaoya.Runner.Engine;

namespace Miaoya.Cli.Commands;

/// <summary>
/// <c>miaoya batch JOBS.yaml</c>: queues templates × identities × recipes as durable jobs (each entry has a fixed job id,
/// so running the same batch again resumes it instead of queuing duplicates), runs them on the job engine over a fleet
/// of WebUI boxes with a progress display, and prints a summary table.
/// </summary>
internal static class BatchCommand
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static Command Create()
    {
        var file = new Argument<FileInfo>("jobs") { Description = "The batch file (YAML): templates, identities, recipes, optional seed, overrides and boxes" };
        var webui = CliOptions.WebUis("A WebUI box (repeatable; replaces the file's boxes; default: the file's boxes, else the configuration's Fleet:Boxes, else its WebUi:BaseUrl, else http://127.0.0.1:7860)");
        var auth = CliOptions.Auth();
        var store = new Option<string?>("--store") { Description = "Job store: a SQLite file (default OUT/jobs.db) or a PostgreSQL connection string (\"Host=...;Database=...\")" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Batch folder (default out/batches/NAME): jobs/<id>/ per job and batch.json; the same folder resumes the batch" };
        var slots = new Option<int?>("--slots") { Description = "Steps run at once (default: 2 per box + 2)" };
        var models = new Option<DirectoryInfo?>("--models") { Description = "Folder with the face models: V3's insightface det_10g.onnx, w600k_r50.onnx, inswapper_128.onnx; candidates' face_recognition_sface_2021dec.onnx" };
        var device = new Option<string>("--device") { Description = "V3: cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every step and call" };
        var keepJobs = CliOptions.KeepJobsOption();
        var json = new Option<bool>("--json") { Description = "Print the finished batch as one JSON object (batch.json, the folder and the exit code) instead of progress and tables" };
        var templates = TemplateCli.LibraryOption();
        templates.Description = $"Where templates: items that are template names (not files) are found ({TemplateCli.LibraryDefault})";
        var command = new Command("batch", "Queue templates × identities × recipes as durable jobs, run them over the boxes and print a summary.")
        {
            file, webui, auth, store, output, slots, models, device, keepJobs, templates, verbose, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(slots) is < 1)
            {
                result.AddError("--slots: must be at least 1.");
            }
        });
        command.Options.Add(CliOptions.AuthFile());
        command.SetAction((result, cancellationToken) => WebUiSession.RunAsync(async () =>
        {
            BatchFile batch;
            try
            {
                batch = BatchFile.Load(result.GetValue(file)!.FullName, TemplateCli.Library(result.GetValue(templates)));
            }
            catch (BatchFileException e)
            {
                await Console.Error.WriteLineAsync($"error: the batch file has {e.Problems.Count} problem{(e.Problems.Count == 1 ? "" : "s")}:");
                foreach (var line in e.Message.Split(Environment.NewLine))
                {
                    await Console.Error.WriteLineAsync("  " + Limits.UserText.EscapeControl(line));
                }

                return 2;
            }

            var modelsFolder = result.GetValue(models);
            if (batch.Recipes.Any(r => r.Pipeline == Recipes.PipelineKind.V3) && modelsFolder is null)
            {
                await Console.Error.WriteLineAsync($"error: --models: required, recipe {batch.Recipes.First(r => r.Pipeline == Recipes.PipelineKind.V3).Label} swaps faces (V3) with insightface's models.");
                return 2;
            }

            var boxes = Boxes(result, result.GetValue(webui) is { Length: > 0 } given ? given : batch.Boxes.Count > 0 ? [.. batch.Boxes] : null);
            var folder = result.GetValue(output)?.FullName ?? Path.GetFullPath(Path.Combine("out", "batches", Path.GetFileNameWithoutExtension(batch.Path)));
            var runner = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(folder, "jobs"),
                AllowRecipePaths = true,
                ModelsDirectory = modelsFolder?.FullName,
                Device = result.GetValue(device)!,
                Slots = result.GetValue(slots) ?? (2 * boxes.Count) + 2,
            };
            var run = new BatchRun(batch, folder, boxes, result.GetValue(store) ?? Path.Combine(folder, "jobs.db"), runner, result.GetValue(verbose), CliOptions.KeepJobs(result));
            try
            {
                if (!result.GetValue(json))
                {
                    return await run.RunAsync(cancellationToken);
                }

                var exit = await CliJson.SilencedAsync(() => run.RunAsync(cancellationToken));
                var record = Path.Combine(folder, "batch.json");
                if (File.Exists(record) && JsonNode.Parse(await File.ReadAllTextAsync(record, CancellationToken.None)) is JsonObject summary)
                {
                    summary["folder"] = folder;
                    summary["gallery"] = Path.Combine(folder, BatchGallery.FileName);
                    summary["exit_code"] = exit;
                    Console.WriteLine(CliJson.Write(summary));
                }

                return exit;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Cancelled while probing the boxes or queuing: what was queued stays queued.
                await Console.Error.WriteLineAsync("cancelled before the jobs ran; the jobs queued so far are kept: run the same command again to go on.");
                return 130;
            }
        }));
        return command;
    }

    /// <summary>
    /// The boxes of a batch: <paramref name="given"/> (<c>--webui</c>, else the file's <c>boxes:</c>) with the command's
    /// credentials; else the configuration's <c>Fleet:Boxes</c>, each with its own; else the one box of a command without
    /// <c>--webui</c> (<c>WebUi:BaseUrl</c>, else <c>http://127.0.0.1:7860</c>).
    /// </summary>
    private static IReadOnlyList<BoxOptions> Boxes(ParseResult result, IReadOnlyList<Uri>? given)
    {
        if (given is null && CliApp.Configuration.FleetBoxes() is { Count: > 0 } configured)
        {
            return configured;
        }

        Uri?[] urls = given is null ? [null] : [.. given];
        return urls.Select(url => CliOptions.Endpoint(result, url))
            .Select(e => new BoxOptions { Url = e.BaseUrl, Username = e.Username, Password = e.Password })
            .ToArray();
    }

    /// <summary>One execution of a batch: store, fleet, submitter, engine, display, summary.</summary>
    private sealed class BatchRun(
        BatchFile batch, string folder, IReadOnlyList<BoxOptions> boxes, string storeLocation, JobRunnerOptions runner, bool verbose, TimeSpan? keepJobs)
    {
        private readonly Dictionary<string, BatchEntry> _entries = [];

        public async Task<int> RunAsync(CancellationToken cancellationToken)
        {
            PrivateFiles.CreateDirectory(folder);
            IJobStore store;
            try
            {
                store = await JobStore.OpenAsync(storeLocation, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"error: --store: cannot open the job store {JobStore.Redact(storeLocation)}: {e.Message}");
                return 2;
            }

            await using (store)
            {
                if (keepJobs is { } keep)
                {
                    // Before queuing: jobs of the store that finished longer ago than --keep-jobs go, with their folders (an
                    // entry of this batch among them is queued and run again below).
                    var pruned = await new JobRetention(store, keep, TimeProvider.System, JobRetention.DeleteJobFolderAsync).PruneAsync(cancellationToken);
                    if (pruned.Count > 0)
                    {
                        Console.WriteLine($"Deleted {Plural(pruned.Count, "job")} that finished more than {keep.TotalHours:0.#} h ago, with their folders (--keep-jobs)");
                    }
                }

                await using var provider = BuildServices(store);
                var fleet = provider.GetRequiredService<WebUiFleet>();
                await fleet.StartAsync(cancellationToken);
                if (await WebUiSession.NoBoxAnswersAsync(fleet))
                {
                    return 1;
                }

                var engine = provider.GetRequiredService<JobEngine>();
                try
                {
                    StepSchedulerFactory.ThrowIfAnotherRunner(storeLocation);
                    // Attached before anything is queued: each job's first step is scheduled with its rows.
                    await engine.AttachAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    await Console.Error.WriteLineAsync($"error: --store: cannot schedule steps in {JobStore.Redact(storeLocation)}: {e.Message}");
                    return 2;
                }

                var all = batch.Entries();
                var submitter = provider.GetRequiredService<JobSubmitter>();
                if (await CheckAsync(store, submitter, all, cancellationToken) is { Count: > 0 } problems)
                {
                    // Bad input is found before anything is queued: a template without the face, a LoRA no box lists, ...
                    await Console.Error.WriteLineAsync($"error: {Plural(problems.Count, "entry", "entries")} of {Path.GetFileName(batch.Path)} cannot run:");
                    foreach (var problem in problems.Take(Limits.InputLimits.Reports.MaxProblems))
                    {
                        await Console.Error.WriteLineAsync("  " + Limits.UserText.EscapeControl(problem));
                    }

                    if (problems.Count > Limits.InputLimits.Reports.MaxProblems)
                    {
                        await Console.Error.WriteLineAsync($"  ... and {problems.Count - Limits.InputLimits.Reports.MaxProblems} more");
                    }

                    return 2;
                }

                int queued, resumed;
                try
                {
                    (queued, resumed) = await SubmitAsync(store, submitter, all, cancellationToken);
                }
                catch (BatchSubmitException e)
                {
                    await Console.Error.WriteLineAsync($"error: {e.Message}");
                    return 2;
                }

                Console.WriteLine($"Batch {batch.Path}: {all.Count} jobs ({Plural(batch.Templates.Count, "template")} × {Plural(batch.Identities.Count, "identity", "identities")} × {Plural(batch.Recipes.Count, "recipe")})" +
                    $"{(resumed > 0 ? $", {resumed} already in the store" : "")}, {queued} queued now; {boxes.Count} box{(boxes.Count == 1 ? "" : "es")}, {runner.Slots} slots");
                Console.WriteLine($"Folder: {folder}   store: {JobStore.Redact(storeLocation)}");
                await WriteRecordAsync(store, CancellationToken.None);

                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var work = engine.RunAsync(stop.Token);
                var display = new BatchDisplay(fleet, all.Count);
                var cancelled = false;
                try
                {
                    while (true)
                    {
                        var jobs = await OurJobsAsync(store, cancellationToken);
                        display.Show(jobs);
                        if (jobs.Count == _entries.Count && jobs.All(j => j.IsFinished))
                        {
                            break;
                        }

                        if (work.IsFaulted)
                        {
                            // The engine stopped by itself (another process runs this store's jobs, the database went away).
                            await Console.Error.WriteLineAsync($"error: the jobs cannot run: {work.Exception?.GetBaseException().Message}");
                            return 1;
                        }

                        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // one read per job: keep it light beside the engine
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    cancelled = true;
                }
                finally
                {
                    await stop.CancelAsync();
                    if (!work.IsFaulted)
                    {
                        await work; // running steps are handed back: they run again when the batch is resumed
                    }

                    display.Finish();
                }

                var final = await OurJobsAsync(store, CancellationToken.None);
                await WriteRecordAsync(store, CancellationToken.None);
                PrintSummary(final, fleet.Status());
                if (cancelled)
                {
                    await Console.Error.WriteLineAsync("cancelled; running steps were handed back to the store and the boxes told to stop. Finished steps are kept: run the same command again to resume.");
                    return 130;
                }

                return final.All(j => j.State == JobState.Succeeded) ? 0 : 1;
            }
        }

        private ServiceProvider BuildServices(IJobStore store)
        {
            var services = WebUiSession.AddFleetPipeline(new ServiceCollection(), boxes, verbose);
            services.AddMiaoyaJobRunner(store, storeLocation, runner);
            return services.BuildServiceProvider();
        }

        /// <summary>Queues the entries the store does not hold yet (by their fixed job ids).</summary>
        /// <summary>
        /// Every entry not yet in the store, checked as its submission will be (without writing anything): the problems,
        /// one per line. The costly part (decoding a template, finding its face) runs once per template, recipe and face
        /// photo; what differs per identity (the LoRA) is cheap.
        /// </summary>
        private async Task<List<string>> CheckAsync(IJobStore store, JobSubmitter submitter, IReadOnlyList<BatchEntry> entries, CancellationToken cancellationToken)
        {
            var problems = new List<string>();
            var checkedInputs = new HashSet<(string, string, string, string?)>();
            foreach (var entry in entries)
            {
                if (await store.GetJobAsync(entry.JobId(folder), cancellationToken) is not null
                    || !checkedInputs.Add((entry.Template, entry.Recipe.Label, string.Join('\n', entry.Identity.Faces.Concat(entry.Identity.People.Select(p => p.ToString()))), entry.Identity.Lora)))
                {
                    continue;
                }

                try
                {
                    await submitter.CheckAsync(Submission(entry), cancellationToken);
                }
                catch (JobSubmissionException e)
                {
                    problems.Add($"{Describe(entry)}: {e.Field}: {e.Message}");
                }
                catch (Miaoya.Recipes.RecipeException e)
                {
                    // The library template's overrides do not suit this recipe.
                    problems.Add($"{Describe(entry)}: template {entry.FromLibrary?.Name}: {string.Join("; ", e.Problems)}");
                }
            }

            return problems;
        }

        private static JobSubmission Submission(BatchEntry entry) => new()
        {
            Recipe = entry.Recipe.Reference,
            Overrides = entry.FromLibrary is { } template
                ? Miaoya.Templates.TemplateRun.Overrides(template, o => Miaoya.Recipes.RecipeLoader.Load(entry.Recipe.Reference, o), entry.Recipe.Overrides)
                : entry.Recipe.Overrides,
            TemplatePath = entry.Template,
            FacePaths = entry.Recipe.UsesFaces ? entry.Identity.Faces : [],
            Lora = entry.Identity.Lora,
            TriggerWords = entry.Identity.Trigger,
            Identity = entry.Identity.Name,
            Seed = entry.Seed,
            People = entry.Identity.People
                .Select(p => new PersonSubmission(p.FaceIndex, p.Lora, entry.Recipe.UsesFaces ? p.Faces : []) { TriggerWords = p.Trigger })
                .ToArray(),
        };

        private async Task<(int Queued, int Resumed)> SubmitAsync(IJobStore store, JobSubmitter submitter, IReadOnlyList<BatchEntry> entries, CancellationToken cancellationToken)
        {
            var (queued, resumed) = (0, 0);
            foreach (var entry in entries)
            {
                var id = entry.JobId(folder);
                _entries[id] = entry;
                if (await store.GetJobAsync(id, cancellationToken) is not null)
                {
                    resumed++;
                    continue;
                }

                try
                {
                    await submitter.SubmitAsync(Submission(entry) with { JobId = id }, cancellationToken);
                    queued++;
                }
                catch (JobSubmissionException e)
                {
                    throw new BatchSubmitException($"{Path.GetFileName(batch.Path)}: {Describe(entry)}: {e.Field}: {e.Message}", e);
                }
            }

            return (queued, resumed);
        }

        private async Task<List<JobRecord>> OurJobsAsync(IJobStore store, CancellationToken cancellationToken)
        {
            var jobs = new List<JobRecord>(_entries.Count);
            foreach (var id in _entries.Keys)
            {
                if (await store.GetJobAsync(id, cancellationToken) is { } job)
                {
                    jobs.Add(job);
                }
            }

            return jobs;
        }

        /// <summary>
        /// <c>batch.json</c> and the gallery <c>index.html</c> in the batch folder: every entry with its job id, state, time,
        /// boxes and folder. Written once the jobs are queued and again when the batch ends (all done, some failed, or Ctrl+C).
        /// </summary>
        private async Task WriteRecordAsync(IJobStore store, CancellationToken cancellationToken)
        {
            var jobs = (await OurJobsAsync(store, cancellationToken)).ToDictionary(j => j.Id);
            var record = new BatchRecord(
                batch.Path,
                JobStore.Redact(storeLocation),
                _entries.Select(e =>
                {
                    var job = jobs.GetValueOrDefault(e.Key);
                    return new BatchRecordJob(
                        e.Key, e.Value.Template, e.Value.Identity.Name, e.Value.Recipe.Label, job?.State.ToString().ToLowerInvariant() ?? "missing",
                        job is null ? null : Seconds(job), job is null ? [] : Boxes(job), job?.Error, job?.OutputFolder,
                        job?.State == JobState.Succeeded ? Path.Combine(job.OutputFolder, "final.png") : null);
                }).OrderBy(j => _entries[j.Id].Index).ToArray());
            await AtomicFile.WriteAllBytesAsync(Path.Combine(folder, "batch.json"), JsonSerializer.SerializeToUtf8Bytes(record, Json), cancellationToken);
            var gallery = _entries.Select(e =>
            {
                var job = jobs.GetValueOrDefault(e.Key);
                var step = job?.Steps.FirstOrDefault(s => s.State is StepState.Failed or StepState.Cancelled);
                return new GalleryEntry(
                    e.Value.Index, e.Value.Template, e.Value.Identity.Name, e.Value.Recipe.Label, e.Value.Seed, job?.State.ToString().ToLowerInvariant() ?? "missing",
                    job is null ? null : Seconds(job), job?.OutputFolder, step?.Name, job?.Error ?? step?.LastError);
            }).ToArray();
            await BatchGallery.WriteAsync(folder, batch.Path, gallery, cancellationToken);
        }

        private void PrintSummary(List<JobRecord> jobs, IReadOnlyList<BoxStatus> boxStatus)
        {
            var rows = jobs.OrderBy(j => _entries[j.Id].Index).Select(j =>
            {
                var e = _entries[j.Id];
                var seconds = Seconds(j);
                return new[]
                {
                    (e.Index + 1).ToString(CultureInfo.InvariantCulture), Path.GetFileName(e.Template), e.Identity.Name, e.Recipe.Label,
                    j.State.ToString().ToLowerInvariant(), seconds is { } s ? s.ToString("0.0", CultureInfo.InvariantCulture) : "-", string.Join(",", Boxes(j)),
                };
            }).ToList();
            Console.WriteLine();
            WriteTable(["#", "template", "identity", "recipe", "state", "seconds", "boxes"], rows);
            var counts = jobs.GroupBy(j => j.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
            Console.WriteLine();
            Console.WriteLine($"Total: {jobs.Count} jobs: {string.Join(", ", counts)}");
            Console.WriteLine("Boxes: " + string.Join("; ", boxStatus.Select(b =>
                string.Create(CultureInfo.InvariantCulture, $"{b.Name} {b.Calls} calls, {b.Failures} failed, {b.ModelSwitches} model switches"))));
            foreach (var job in jobs.Where(j => j.State is JobState.Failed or JobState.Cancelled).OrderBy(j => _entries[j.Id].Index))
            {
                var step = job.Steps.FirstOrDefault(s => s.State is StepState.Failed or StepState.Cancelled);
                Console.WriteLine($"  {job.State.ToString().ToLowerInvariant()}: #{_entries[job.Id].Index + 1} {Describe(_entries[job.Id])}{(step is null ? "" : $", step {step.Name}")}: {(job.Error ?? step?.LastError ?? "(no error recorded)").ReplaceLineEndings(Environment.NewLine + "    ")}");
                Console.WriteLine($"          job {job.Id}, folder {job.OutputFolder}");
            }

            Console.WriteLine($"Outputs: {Path.Combine(folder, "jobs")}/<job id>/final.png (with manifest.json and each step's images); the list: {Path.Combine(folder, "batch.json")}; the gallery: {Path.Combine(folder, BatchGallery.FileName)}");
        }

        private static string Describe(BatchEntry e) => $"{Path.GetFileName(e.Template)} × {e.Identity.Name} × {e.Recipe.Label}";
    }

    private static string Plural(int count, string one, string? many = null) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many ?? one + "s")}");

    internal static double? Seconds(JobRecord job)
    {
        var started = job.Steps.Where(s => s.StartedAt is not null).Select(s => s.StartedAt!.Value).DefaultIfEmpty().Min();
        var finished = job.Steps.Where(s => s.FinishedAt is not null).Select(s => s.FinishedAt!.Value).DefaultIfEmpty().Max();
        return job.IsFinished && started != default && finished >= started ? Math.Round((finished - started).TotalSeconds, 1) : null;
    }

    internal static string[] Boxes(JobRecord job) => job.Steps.Select(s => s.Box).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

    internal static void WriteTable(string[] header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 || i == 5 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
        Console.WriteLine(Line(header));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            Console.WriteLine(Line(row));
        }
    }

    private sealed record BatchRecord(
        [property: JsonPropertyName("file")] string File,
        [property: JsonPropertyName("store")] string Store,
        [property: JsonPropertyName("jobs")] IReadOnlyList<BatchRecordJob> Jobs);

    private sealed record BatchRecordJob(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("template")] string Template,
        [property: JsonPropertyName("identity")] string Identity,
        [property: JsonPropertyName("recipe")] string Recipe,
        [property: JsonPropertyName("state")] string State,
        [property: JsonPropertyName("seconds")] double? Seconds,
        [property: JsonPropertyName("boxes")] IReadOnlyList<string> Boxes,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("folder")] string? Folder,
        [property: JsonPropertyName("final")] string? Final);
}

/// <summary>An entry of the batch was refused by the submitter (bad template, face or recipe input): exit 2.</summary>
internal sealed class BatchSubmitException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The batch's live view: on a terminal a block redrawn in place (progress bar with jobs, steps and ETA; one line per box
/// with calls per minute over the last minute, calls in flight and health); when redirected, a line whenever a job ends
/// and at most every 10 s otherwise.
/// </summary>
/// <remarks>
/// Not Spectre.Console's live display (weighed for issue 18): the in-place redraw here is two escape codes (cursor up N,
/// clear to end of line) over lines this class already formats, and the redirected path, which CI logs and the tests
/// read, must stay plain lines either way. Spectre would add a markup parser in front of every line that carries user
/// text (template names, paths, box errors with '[' and ']'), each needing escaping, for no less code.
/// </remarks>
internal sealed class BatchDisplay(WebUiFleet fleet, int total)
{
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private readonly DateTimeOffset _start = DateTimeOffset.UtcNow;
    private readonly Queue<(DateTimeOffset At, long[] Calls)> _samples = new();
    private int _drawnLines;
    private int _stepsAtStart = -1;
    private int _lastDone = -1;
    private DateTimeOffset _lastLine;

    public void Show(IReadOnlyList<JobRecord> jobs)
    {
        var now = DateTimeOffset.UtcNow;
        var done = jobs.Count(j => j.IsFinished);
        var failed = jobs.Count(j => j.State is JobState.Failed or JobState.Cancelled);
        var stepsTotal = jobs.Sum(j => j.Steps.Count);
        var stepsDone = jobs.Sum(j => j.Steps.Count(s => s.State is StepState.Succeeded or StepState.Failed or StepState.Cancelled));
        if (_stepsAtStart < 0)
        {
            _stepsAtStart = stepsDone;
        }

        var elapsed = now - _start;
        var rate = (stepsDone - _stepsAtStart) / Math.Max(1e-3, elapsed.TotalSeconds);
        var eta = rate > 0 && stepsDone < stepsTotal ? TimeSpan.FromSeconds((stepsTotal - stepsDone) / rate) : (TimeSpan?)null;
        var status = fleet.Status();
        _samples.Enqueue((now, status.Select(b => b.Calls).ToArray()));
        while (_samples.Count > 2 && now - _samples.Peek().At > TimeSpan.FromSeconds(60))
        {
            _samples.Dequeue();
        }

        var (oldAt, oldCalls) = _samples.Peek();
        var minutes = Math.Max(1.0 / 60, (now - oldAt).TotalMinutes);
        var width = 30;
        var filled = total == 0 ? width : done * width / total;
        var bar = string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', width - filled)}] {done}/{total} jobs{(failed > 0 ? $" ({failed} failed)" : "")}, steps {stepsDone}/{stepsTotal}, {Duration.Clock(elapsed)} elapsed{(eta is { } e ? $", ETA {Duration.Clock(e)}" : "")}");
        var boxLines = status.Select((b, i) => string.Create(CultureInfo.InvariantCulture,
            $"  {b.Name,-22} {b.Health.ToString().ToLowerInvariant(),-11} {(b.Calls - (i < oldCalls.Length ? oldCalls[i] : 0)) / minutes,6:0.0} calls/min  in flight {b.InFlight}  calls {b.Calls}{(b.Failures > 0 ? $"  failed {b.Failures}" : "")}  switches {b.ModelSwitches}")).ToList();
        if (_interactive)
        {
            var text = new StringBuilder();
            if (_drawnLines > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"\u001b[{_drawnLines}A");
            }

            foreach (var line in boxLines.Prepend(bar))
            {
                text.Append(line).Append("\u001b[K").Append('\n');
            }

            Console.Write(text.ToString());
            _drawnLines = boxLines.Count + 1;
        }
        else if (done != _lastDone || now - _lastLine >= TimeSpan.FromSeconds(10))
        {
            Console.WriteLine(bar);
            if (done == total || now - _lastLine >= TimeSpan.FromSeconds(10))
            {
                foreach (var line in boxLines)
                {
                    Console.WriteLine(line);
                }
            }

            _lastLine = now;
        }

        _lastDone = done;
    }

    public void Finish() => _drawnLines = 0;
}
