using System.Diagnostics;
using System.Text.Json.Nodes;
using Miaoya.Jobs;
using Miaoya.MockWebUi;

namespace Miaoya.Runner.Tests;

public sealed class WorkerTests
{
    /// <summary>
    /// Defect 5 of the job-engine issue: with more slots than boxes, steps claimed at once sat "running" in the fleet's local
    /// queue. Now a step that takes a box's slot waits unstarted (pending) until it is placed on a box with a slot free, so a
    /// one-slot box has at most one such step running at any moment, and the jobs start in the order they were queued.
    /// </summary>
    [Fact]
    public async Task Steps_wait_unstarted_until_a_box_has_a_slot_so_a_one_slot_box_runs_one_at_a_time_in_queue_order()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1, latency: TimeSpan.FromMilliseconds(300), slots: 8);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face") with { Seed = i })).Id);
        }

        h.Servers[0].ResetRenderCounts();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var run = Task.Run(() => h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token));
        var mostRunning = 0;
        while (!run.IsCompleted)
        {
            var running = (await h.Store.ListJobsAsync(cancellationToken: timeout.Token))
                .SelectMany(j => j.Steps).Count(s => s.State == StepState.Running && s.Name is "interrogate" or "inpaint" or "img2img");
            mostRunning = Math.Max(mostRunning, running);
            await Task.Delay(10, timeout.Token);
        }

        await run;
        Assert.Equal(1, mostRunning);
        var jobs = await Task.WhenAll(ids.Select(id => h.Store.GetJobAsync(id)));
        Assert.All(jobs, j => Assert.Equal(JobState.Succeeded, j!.State));
        Assert.All(jobs, j => Assert.All(j!.Steps, s => Assert.Equal("box0", s.Name == "mask" ? "box0" : s.Box)));
        var interrogations = jobs.Select(j => j!.Steps.Single(s => s.Name == "interrogate").StartedAt!.Value).ToList();
        Assert.Equal(interrogations.Order(), interrogations); // first queued, first placed
        Assert.Equal(0, h.Servers[0].RenderCounts.OverlappingStarts);
    }

    /// <summary>
    /// Placement reads box health: nothing is placed on a quarantined box (no attempt is spent finding out), the
    /// quarantine is recorded in the store's shared <c>boxes</c> table for the other instances, and once the box is
    /// back steps are placed on it again.
    /// </summary>
    [Fact]
    public async Task Nothing_is_placed_on_a_quarantined_box_its_state_is_shared_and_it_gets_steps_again_once_back()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromMilliseconds(150));
        h.Servers[0].GoDown();
        await WaitAsync(() => h.Fleet!.Boxes().Single(b => b.Name == "box0").Quarantined);
        var down = await RunJobsAsync(h, 3);
        Assert.All(down, j => Assert.All(j.Steps.Where(s => s.Name != "mask"), s => Assert.Equal(("box1", 1), (s.Box, s.Attempts))));
        Assert.Equal("quarantined", await BoxHealthAsync(h, "box0"));

        h.Servers[0].ComeBack();
        await WaitAsync(() => h.Fleet!.Boxes().Single(b => b.Name == "box0").Admitted);
        var back = await RunJobsAsync(h, 4);
        Assert.Contains(back.SelectMany(j => j.Steps), s => s.Box == "box0");
        Assert.Equal("healthy", await BoxHealthAsync(h, "box0"));

        static async Task WaitAsync(Func<bool> condition)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!condition())
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        static async Task<JobRecord[]> RunJobsAsync(RunnerHarness h, int count)
        {
            await h.RestartAsync(); // a fresh engine for each run (RunUntilIdle stops it)
            var ids = new List<string>();
            for (var i = 0; i < count; i++)
            {
                ids.Add((await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face") with { Seed = i })).Id);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);
            var jobs = (await Task.WhenAll(ids.Select(id => h.Store.GetJobAsync(id))))!;
            Assert.All(jobs, j => Assert.Equal(JobState.Succeeded, j!.State));
            return jobs!;
        }

        static async Task<string?> BoxHealthAsync(RunnerHarness h, string box)
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={h.StoreLocation}");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT health FROM boxes WHERE name = $name";
            command.Parameters.AddWithValue("$name", box);
            return (string?)await command.ExecuteScalarAsync();
        }
    }

    [Fact]
    public async Task Cancelling_a_job_interrupts_the_box_running_its_step_and_no_other()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromSeconds(20));
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"));
        using var stop = new CancellationTokenSource();
        var engine = h.Engine.RunAsync(stop.Token);

        var running = await h.WaitForAsync(job.Id, j => j.Steps.Any(s => s.Name == "inpaint" && s.State == StepState.Running && s.Box is not null));
        var box = running.Steps.Single(s => s.Name == "inpaint").Box!;
        await h.Store.CancelJobAsync(job.Id, "test");

        await h.Engine.StopJobAsync(job.Id); // what DELETE does: the step stops here at once
        var cancelled = await h.WaitForAsync(job.Id, j => j.Steps.All(s => s.State != StepState.Running));
        await stop.CancelAsync();
        await engine;

        Assert.Equal(JobState.Cancelled, cancelled.State);
        var target = int.Parse(box["box".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(h.Servers[target].InterruptCount >= 1, $"{box} was not interrupted");
        Assert.Equal(0, h.Servers[1 - target].InterruptCount);
    }

    [Fact]
    public async Task A_step_taken_over_by_a_recovery_elsewhere_stops_here_and_reports_nothing()
    {
        // Defect 4: a worker went on after its step was given to another; now its ownership check stops it.
        await using var h = await RunnerHarness.StartAsync(boxes: 1, latency: TimeSpan.FromSeconds(30));
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"));
        using var stop = new CancellationTokenSource();
        var engine = h.Engine.RunAsync(stop.Token);
        var running = await h.WaitForAsync(job.Id, j => j.Steps.Any(s => s.Name == "inpaint" && s.State == StepState.Running && s.Box is not null));
        var index = running.Steps.Single(s => s.Name == "inpaint").Index;

        // What another node's recovery firing does when Quartz has declared this node dead.
        var taken = Stopwatch.StartNew();
        Assert.NotNull(await h.Store.StartStepAsync(job.Id, index, "elsewhere/1", takeOver: true));
        while (h.Engine.Running > 0)
        {
            Assert.True(taken.Elapsed < TimeSpan.FromSeconds(20), "the step taken over is still running here");
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await engine;
        var step = (await h.Store.GetJobAsync(job.Id))!.Steps.Single(s => s.Name == "inpaint");
        Assert.Equal(StepState.Running, step.State);
        Assert.Equal("elsewhere/1", step.Worker);
        Assert.Equal(2, step.Attempts);
        Assert.Empty(step.Outputs);
        Assert.DoesNotContain(await h.Store.ReadEventsAsync(job.Id), e => e.Kind is JobEventKind.StepFinished or JobEventKind.StepRetrying or JobEventKind.StepReturned && e.Step == "inpaint");
    }

    [Fact]
    public async Task A_job_no_box_can_run_fails_at_once_naming_what_is_missing()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 2);
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v2", lora: "nobody_we_know:0.8"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);

        var failed = (await h.Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Failed, failed.State);
        var inpaint = failed.Steps.Single(s => s.Name == "inpaint");
        Assert.Equal(1, inpaint.Attempts);
        Assert.Contains("nobody_we_know", failed.Error, StringComparison.Ordinal);
        Assert.Contains("box0", failed.Error, StringComparison.Ordinal);
        Assert.Contains("box1", failed.Error, StringComparison.Ordinal);
        Assert.Equal(0, h.GenerationCalls(0) + h.GenerationCalls(1));
    }

    [Fact]
    public async Task A_failed_call_is_tried_again_after_a_backoff_and_the_job_succeeds()
    {
        // One box without a fleet: the client never resends a generation call, so the 500 reaches the store's retry.
        await using var h = await RunnerHarness.StartAsync(boxes: 1, useFleet: false);
        h.Servers[0].AddFault(new MockFault("/sdapi/v1/img2img") { Times = 1 });
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);

        var done = (await h.Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        var inpaint = done.Steps.Single(s => s.Name == "inpaint");
        Assert.Equal(2, inpaint.Attempts);
        Assert.Equal(2, h.GenerationCalls(0));
        var events = await h.Store.ReadEventsAsync(job.Id);
        Assert.Contains(events, e => e.Kind == JobEventKind.StepRetrying && e.Step == "inpaint");
        Assert.Equal(1, done.Steps.Single(s => s.Name == "interrogate").Attempts);
    }

    [Theory]
    [InlineData(401, 2, JobState.Succeeded)]
    [InlineData(403, 2, JobState.Succeeded)]
    [InlineData(503, 2, JobState.Succeeded)]
    [InlineData(422, 1, JobState.Failed)]
    public async Task The_engine_agrees_with_the_fleet_on_whose_fault_a_status_is(int status, int attempts, JobState state)
    {
        // 401/403 are the box's credentials (the fleet quarantines the box and places the call elsewhere), so the worker
        // tries again too; a 422 is the request's, which no attempt mends. Both read Failures.OfStatus.
        await using var h = await RunnerHarness.StartAsync(boxes: 1, useFleet: false);
        h.Servers[0].AddFault(new MockFault("/sdapi/v1/img2img") { StatusCode = status, Times = 1 });
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);

        var done = (await h.Store.GetJobAsync(job.Id))!;
        Assert.Equal(state, done.State);
        Assert.Equal(attempts, done.Steps.Single(s => s.Name == "inpaint").Attempts);
    }

    [Fact]
    public async Task Stopping_the_engine_hands_its_step_back_with_an_event_and_the_restarted_instance_finishes_the_job_without_redoing_steps()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 1, latency: TimeSpan.FromSeconds(2));
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v2"));
        using (var stop = new CancellationTokenSource())
        {
            var first = h.Engine.RunAsync(stop.Token);
            await h.WaitForAsync(job.Id, j => j.Steps.Any(s => s.Name == "img2img" && s.State == StepState.Running && s.Box is not null));
            // The box is recorded as the call is placed, a moment before the request leaves: stop once the box renders it,
            // so the abandoned call is one the box had (and must be told to stop).
            await h.WaitForAsync(job.Id, _ => h.Servers[0].JobRunning);
            await stop.CancelAsync();
            await first;
        }

        var handedBack = (await h.Store.GetJobAsync(job.Id))!;
        var step = handedBack.Steps.Single(s => s.Name == "img2img");
        Assert.Equal(StepState.Pending, step.State);
        Assert.Equal(0, step.Attempts);
        Assert.True(h.Servers[0].InterruptCount >= 1, "the box was told to stop the abandoned call");
        // Defect 9: the hand-back is in the event log, so a stream reader sees why the attempt starts again.
        Assert.Contains(await h.Store.ReadEventsAsync(job.Id), e => e.Kind == JobEventKind.StepReturned && e.Step == "img2img");

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await h.RestartAsync();
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);
        var done = (await h.Store.GetJobAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.All(done.Steps, s => Assert.Equal(1, s.Attempts));
        // inpaint once; img2img twice (the abandoned call and the finished one).
        Assert.Equal(3, h.GenerationCalls(0));
    }

    [Fact]
    public async Task Progress_events_name_the_step_and_the_box_it_runs_on()
    {
        await using var h = await RunnerHarness.StartAsync(boxes: 2, latency: TimeSpan.FromSeconds(1.5));
        var job = await h.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await h.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(50), timeout.Token);

        var done = (await h.Store.GetJobAsync(job.Id))!;
        var box = done.Steps.Single(s => s.Name == "inpaint").Box;
        var progress = (await h.Store.ReadEventsAsync(job.Id))
            .Where(e => e.Kind == JobEventKind.StepProgress && e.Step == "inpaint")
            .Select(e => JsonNode.Parse(e.Data!)!)
            .ToList();
        Assert.NotEmpty(progress);
        Assert.All(progress.Where(p => p["box"] is not null), p => Assert.Equal(box, p["box"]!.GetValue<string>()));
        Assert.Contains(progress, p => p["fraction"]!.GetValue<double>() is > 0 and < 1);
    }

    [Theory]
    [InlineData("permanent", true)]
    [InlineData("transport", false)]
    [InlineData("server", false)]
    [InlineData("validation", true)]
    public void Only_errors_another_attempt_cannot_mend_are_permanent(string kind, bool permanent)
    {
        Exception error = kind switch
        {
            "permanent" => new Miaoya.WebUi.WebUiBoxesException("inpaint", new Dictionary<string, IReadOnlyList<Miaoya.WebUi.BoxProblem>> { ["box0"] = [new("--lora", "missing", IsInput: true)] }),
            "transport" => new Miaoya.Pipeline.PipelineException("step inpaint: dropped", new IOException("connection reset")),
            "server" => new Miaoya.Pipeline.PipelineException("step inpaint: 500", new TimeoutException()),
            _ => new Miaoya.Pipeline.PipelineException("bad", new Miaoya.Recipes.RecipeException("recipe.yaml: steps: must be > 0")),
        };
        Assert.Equal(permanent, Miaoya.Pipeline.RunFailures.IsPermanent(error));
    }
}
