using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Miaoya.Fleet;
using Miaoya.Jobs;
using Miaoya.MockWebUi;
using Miaoya.Pipeline;
using Miaoya.Runner.Engine;
using Npgsql;
using WireMock.Logging;

namespace Miaoya.Runner.Tests;

/// <summary>
/// Two orchestrator instances (each its own fleet, pipeline, store connection and job engine) clustered on one PostgreSQL
/// database and the same boxes: every step runs exactly once (one firing, one attempt, one render on the boxes) and every
/// job succeeds.
/// </summary>
public sealed class TwoInstanceTests : IDisposable
{
    private const int Jobs = 8;

    private readonly string _folder = Directory.CreateTempSubdirectory("miaoya-two-instances-").FullName;
    private readonly ConcurrentDictionary<(int Job, string Step), int> _renders = new();
    private int _interrogations;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [PostgresFact]
    public async Task TwoClusteredInstancesOnOnePostgres_NeverRunTheSameStep_AndEveryJobSucceeds()
    {
        var connection = PostgresTest.RequireConnectionString();
        var schema = "miaoya_test_" + Guid.NewGuid().ToString("N")[..16];
        using var boxA = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(200) });
        using var boxB = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(200) });
        boxA.WireMock.LogEntriesChanged += Count;
        boxB.WireMock.LogEntriesChanged += Count;
        try
        {
            await using var one = await Instance.StartAsync("instance-1", connection, schema, _folder, boxA, boxB);
            await using var two = await Instance.StartAsync("instance-2", connection, schema, _folder, boxA, boxB);
            var ids = new List<string>();
            for (var i = 0; i < Jobs; i++)
            {
                var submitter = i % 2 == 0 ? one.Submitter : two.Submitter;
                ids.Add((await submitter.SubmitAsync(RunnerHarness.Submission() with
                {
                    TriggerWords = [$"who_{i}"],
                    Identity = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Overrides = ["img2img.skip_if_delta_e_below=0"],
                })).Id);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await Task.WhenAll(
                Task.Run(() => one.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(100), timeout.Token)),
                Task.Run(() => two.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(100), timeout.Token)));

            var jobs = await one.Store.ListJobsAsync();
            Assert.Equal(ids.Order(), jobs.Select(j => j.Id).Order());
            var workers = new HashSet<string>();
            foreach (var job in jobs)
            {
                Assert.Equal(JobState.Succeeded, job.State);
                var n = int.Parse(JsonDocument.Parse(job.InputsJson).RootElement.GetProperty("identity").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                foreach (var step in job.Steps)
                {
                    Assert.Equal(StepState.Succeeded, step.State);
                    Assert.Equal(1, step.Attempts);
                    workers.Add(step.Worker![..step.Worker!.IndexOf('/', StringComparison.Ordinal)]); // instance/firing
                    if (step.Name is "inpaint" or "img2img")
                    {
                        Assert.Equal(1, _renders.GetValueOrDefault((n, step.Name)));
                    }
                }

                var events = await one.Store.ReadEventsAsync(job.Id);
                Assert.Equal(job.Steps.Select(s => s.Name), events.Where(e => e.Kind == JobEventKind.StepStarted).Select(e => e.Step));
                Assert.Equal(job.Steps.Select(s => s.Name), events.Where(e => e.Kind == JobEventKind.StepFinished).Select(e => e.Step));
            }

            // Steps ran on the cluster's instances only. Which one runs a placed step is the one that placed it (its move wakes
            // its own scheduler), usually the one whose step just freed the box: in a short run one instance may run them all.
            Assert.NotEmpty(workers);
            Assert.Subset(new HashSet<string> { "instance-1", "instance-2" }, workers);
            Assert.Equal(2 * Jobs, _renders.Values.Sum());
            Assert.DoesNotContain(_renders.Keys, k => k.Job < 0);
            Assert.Equal(Jobs, Volatile.Read(ref _interrogations));
        }
        finally
        {
            await using var dataSource = NpgsqlDataSource.Create(connection);
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Defect 3 of the job-engine issue: two instances, each with its own fleet limiting the box to one call, sent it two at
    /// once. Placed steps book the box across the cluster, so the mock's overlap counter stays at 0; without placement (the
    /// control) the same run overlaps.
    /// </summary>
    [PostgresFact]
    public async Task A_one_slot_box_never_renders_two_steps_at_once_across_two_instances()
    {
        var placed = await RunOnOneSlotBoxAsync(placeOnBoxes: true);
        Assert.Equal(0, placed.OverlappingStarts);
        Assert.Equal(1, placed.MaxInFlight);
        Assert.Equal(3 * Jobs, placed.Started); // interrogate, inpaint, img2img of each job, once

        var unplaced = await RunOnOneSlotBoxAsync(placeOnBoxes: false);
        Assert.True(unplaced.OverlappingStarts > 0, $"the control run should overlap on the box: {unplaced}");
    }

    private async Task<MockRenderCounts> RunOnOneSlotBoxAsync(bool placeOnBoxes)
    {
        var connection = PostgresTest.RequireConnectionString();
        var schema = "miaoya_test_" + Guid.NewGuid().ToString("N")[..16];
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromMilliseconds(250) });
        try
        {
            await using var one = await Instance.StartAsync("instance-1", connection, schema, _folder, null, placeOnBoxes, box);
            await using var two = await Instance.StartAsync("instance-2", connection, schema, _folder, null, placeOnBoxes, box);
            for (var i = 0; i < Jobs; i++)
            {
                await (i % 2 == 0 ? one : two).Submitter.SubmitAsync(RunnerHarness.Submission() with { Overrides = ["img2img.skip_if_delta_e_below=0"] });
            }

            box.ResetRenderCounts();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await Task.WhenAll(
                Task.Run(() => one.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(100), timeout.Token)),
                Task.Run(() => two.Engine.RunUntilIdleAsync(TimeSpan.FromMilliseconds(100), timeout.Token)));
            Assert.All(await one.Store.ListJobsAsync(), j => Assert.Equal(JobState.Succeeded, j.State));
            return box.RenderCounts;
        }
        finally
        {
            await using var dataSource = NpgsqlDataSource.Create(connection);
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [PostgresFact]
    public async Task Cancelling_on_one_instance_stops_the_step_running_on_the_other()
    {
        var connection = PostgresTest.RequireConnectionString();
        var schema = "miaoya_test_" + Guid.NewGuid().ToString("N")[..16];
        using var box = MockWebUiServer.Start(new MockWebUiOptions { Latency = TimeSpan.FromSeconds(60) });
        try
        {
            // The runner checks ownership rarely, so only Quartz's cluster-wide interrupt can stop it in time.
            await using var runner = await Instance.StartAsync("runner", connection, schema, _folder, o => o with { OwnershipCheckInterval = TimeSpan.FromMinutes(5) }, box);
            await using var api = await Instance.StartAsync("api", connection, schema, _folder, box);
            var id = (await api.Submitter.SubmitAsync(RunnerHarness.Submission("v1-face"))).Id;
            using var stop = new CancellationTokenSource();
            var running = runner.Engine.RunAsync(stop.Token);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (!(await api.Store.GetJobAsync(id, timeout.Token))!.Steps.Any(s => s.Name == "inpaint" && s.State == StepState.Running && s.Box is not null))
            {
                await Task.Delay(100, timeout.Token);
            }

            var cancelled = System.Diagnostics.Stopwatch.StartNew();
            await api.Store.CancelJobAsync(id, "test", timeout.Token);
            await api.Engine.StopJobAsync(id, timeout.Token); // DELETE's call: Quartz's interrupt reaches the other node
            while (runner.Engine.Running > 0)
            {
                Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(30), "the step on the other instance still runs");
                await Task.Delay(50, timeout.Token);
            }

            Assert.True(box.InterruptCount >= 1, "the box was told to stop");
            await stop.CancelAsync();
            await running;
            var job = (await api.Store.GetJobAsync(id, timeout.Token))!;
            Assert.Equal(JobState.Cancelled, job.State);
            Assert.Empty(job.Steps.Single(s => s.Name == "inpaint").Outputs);
        }
        finally
        {
            await using var dataSource = NpgsqlDataSource.Create(connection);
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Counts renders per (job, step) from the trigger word <c>who_N</c> in the prompt, and tagger calls.</summary>
    private void Count(object? sender, NotifyCollectionChangedEventArgs e)
    {
        foreach (var entry in e.NewItems?.OfType<ILogEntry>() ?? [])
        {
            if (entry.RequestMessage?.Path == "/tagger/v1/interrogate")
            {
                Interlocked.Increment(ref _interrogations);
            }

            if (entry.RequestMessage?.Path != "/sdapi/v1/img2img" || entry.RequestMessage.Body is not { } body)
            {
                continue;
            }

            using var json = JsonDocument.Parse(body);
            var prompt = json.RootElement.GetProperty("prompt").GetString() ?? "";
            var step = json.RootElement.TryGetProperty("mask", out var mask) && mask.ValueKind == JsonValueKind.String ? "inpaint" : "img2img";
            var job = Enumerable.Range(0, Jobs).Where(i => prompt.Contains($"who_{i}", StringComparison.Ordinal)).DefaultIfEmpty(-1).First();
            _renders.AddOrUpdate((job, step), 1, (_, c) => c + 1);
        }
    }

    /// <summary>One orchestrator instance: its own fleet over the shared boxes, its own PostgreSQL connection, its own engine.</summary>
    private sealed class Instance : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        private Instance(ServiceProvider provider, IJobStore store, JobRunnerOptions options, string connection, string schema, bool placeOnBoxes)
        {
            _provider = provider;
            Store = store;
            Submitter = new JobSubmitter(store, options);
            Engine = new JobEngine(
                store, connection, provider.GetRequiredService<PortraitPipeline>(), options, NullLoggerFactory.Instance, postgresSchema: schema,
                boxes: placeOnBoxes ? provider.GetRequiredService<WebUiFleet>() : null);
        }

        public IJobStore Store { get; }

        public JobSubmitter Submitter { get; }

        public JobEngine Engine { get; }

        public static Task<Instance> StartAsync(string name, string connection, string schema, string folder, params MockWebUiServer[] boxes) =>
            StartAsync(name, connection, schema, folder, null, boxes);

        public static Task<Instance> StartAsync(
            string name, string connection, string schema, string folder, Func<JobRunnerOptions, JobRunnerOptions>? configure, params MockWebUiServer[] boxes) =>
            StartAsync(name, connection, schema, folder, configure, placeOnBoxes: true, boxes);

        // placeOnBoxes false: the engine is not given the fleet's boxes, as before steps were placed across instances (a negative control).
        public static async Task<Instance> StartAsync(
            string name, string connection, string schema, string folder, Func<JobRunnerOptions, JobRunnerOptions>? configure, bool placeOnBoxes, params MockWebUiServer[] boxes)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddWebUiFleet(o =>
            {
                for (var i = 0; i < boxes.Length; i++)
                {
                    o.Boxes.Add(new BoxOptions { Name = $"box{i}", Url = boxes[i].Url });
                }

                o.HealthInterval = TimeSpan.FromMilliseconds(200);
            });
            services.AddPortraitPipeline(o => o.ControlRetryDelay = TimeSpan.FromMilliseconds(10));
            var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<WebUiFleet>().StartAsync();
            var store = await JobStore.OpenAsync(connection, postgresSchema: schema);
            var options = new JobRunnerOptions
            {
                JobsDirectory = Path.Combine(folder, "jobs"),
                Slots = 3,
                WorkerName = name,
            };
            options = configure?.Invoke(options) ?? options;
            var instance = new Instance(provider, store, options, connection, schema, placeOnBoxes);
            await instance.Engine.AttachAsync();
            return instance;
        }

        public async ValueTask DisposeAsync()
        {
            await Engine.DisposeAsync();
            await _provider.DisposeAsync();
            await Store.DisposeAsync();
        }
    }
}

/// <summary>
/// A test that needs the PostgreSQL of MIAOYA_TEST_POSTGRES: skipped with the reason when it is not set, unless
/// MIAOYA_REQUIRE_POSTGRES=1 (as .ci/run sets), which makes a missing database a failure.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresTest.ConnectionString is null && !PostgresTest.Required)
        {
            Skip = $"needs PostgreSQL: set {PostgresTest.ConnectionVariable} to an Npgsql connection string (as .ci/run does); {PostgresTest.RequireVariable}=1 makes this a failure.";
        }
    }
}

internal static class PostgresTest
{
    public const string ConnectionVariable = "MIAOYA_TEST_POSTGRES";

    public const string RequireVariable = "MIAOYA_REQUIRE_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : null;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static string RequireConnectionString() => ConnectionString ?? throw new InvalidOperationException(
        $"{RequireVariable}=1 but {ConnectionVariable} is not set: this test needs a PostgreSQL database (see .ci/run).");
}
