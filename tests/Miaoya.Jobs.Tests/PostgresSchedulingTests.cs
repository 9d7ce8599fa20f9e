using Miaoya.Jobs.Scheduling;
using Npgsql;
using Quartz;
using Xunit.Abstractions;
using static Miaoya.Jobs.Tests.SchedulingTestKit;

namespace Miaoya.Jobs.Tests;

/// <summary>
/// The step scheduler clustered on PostgreSQL, two nodes in one process (distinct instance ids, one schema); skipped like
/// the other PostgreSQL tests when MIAOYA_TEST_POSTGRES is unset.
/// </summary>
public sealed class PostgresSchedulingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan HostClockSkew = TimeSpan.FromSeconds(40);

    private readonly string _schema = PostgresTestDatabase.NewSchema();
    private readonly List<IScheduler> _nodes = [];

    [ContractFact]
    public async Task DatabaseClock_HostClock40sFast_ReadsTheDatabasesTime()
    {
        var host = new SkewedClock(HostClockSkew);
        await using var clock = await DatabaseClock.StartAsync(PostgresTestDatabase.RequireConnectionString(), host);

        var database = await DatabaseNowAsync();
        var ours = clock.GetUtcNow();

        Assert.InRange(ours - database, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
        Assert.InRange(clock.Offset, -HostClockSkew - TimeSpan.FromSeconds(1), -HostClockSkew + TimeSpan.FromSeconds(1));
        output.WriteLine($"offset {clock.Offset.TotalMilliseconds:0} ms; ours - database's = {(ours - database).TotalMilliseconds:0} ms");
    }

    [ContractFact]
    public async Task BoxLimitOfOne_TwoNodes_RunItsStepsOneAtATime_OnBothNodes()
    {
        // Arrange: 6 one-second steps on box "a" (1 at a time, counted across the cluster), all due; 3 threads per node.
        var log = new FiringLog();
        var nodes = new Dictionary<string, IScheduler>
        {
            ["A"] = await NodeAsync("A", log.Run(TimeSpan.FromSeconds(1)), threads: 3),
            ["B"] = await NodeAsync("B", log.Run(TimeSpan.FromSeconds(1)), threads: 3),
        };
        for (var i = 0; i < 6; i++)
        {
            await nodes["A"].ScheduleJob(ProbeJob($"s{i}"), Now($"s{i}", StepSchedulerFactory.BoxGroup("a")));
        }

        // Act: both nodes run. The node that finishes a step takes the next one at once (its own completion wakes it),
        // while the other polls every second and finds the box's one slot taken: a limit counted per node would let it
        // start a second step there. Halfway, the busy node stands by, and the other one must take over.
        await nodes["A"].Start();
        await nodes["B"].Start();
        await log.WaitUntilAsync(f => f.Count >= 3, TimeSpan.FromSeconds(20), "3 steps to end");
        var busy = log.Firings[0].Instance;
        await nodes[busy].Standby();
        await log.WaitUntilAsync(f => f.Count == 6, TimeSpan.FromSeconds(20), "6 steps to end");

        // Assert
        var firings = log.Firings.OrderBy(f => f.Started).ToList();
        output.WriteLine(string.Join("\n", firings.Select(f => $"{f.Job} on {f.Instance}: {f.Started.TotalSeconds:0.00}-{f.Ended!.Value.TotalSeconds:0.00} s")));
        Assert.Equal(1, log.MaxRunning);
        Assert.All(firings.Zip(firings.Skip(1)), pair => Assert.True(pair.First.Ended <= pair.Second.Started, $"{pair.First} overlaps {pair.Second}"));
        Assert.Equal(["A", "B"], firings.Select(f => f.Instance).Distinct().Order());
    }

    [ContractFact]
    public async Task Interrupt_OnNodeB_StopsTheStepRunningOnNodeA()
    {
        var log = new FiringLog();
        var stopped = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<IJobExecutionContext, CancellationToken, Task> longStep = async (context, cancellationToken) =>
        {
            log.Started(context);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(60), cancellationToken);
            }
            finally
            {
                stopped.TrySetResult(log.Elapsed);
            }
        };
        var a = await NodeAsync("A", longStep);
        var b = await NodeAsync("B", longStep);
        await a.ScheduleJob(ProbeJob("long"), Now("long"));
        await a.Start();
        await log.WaitUntilAsync(f => f.Count == 1, TimeSpan.FromSeconds(15), "A to start the step");
        await b.Start();

        var asked = log.Elapsed;
        Assert.True(await b.Interrupt(new JobKey("long", "steps")));
        var stoppedAt = await stopped.Task.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("A", Assert.Single(log.Firings).Instance);
        output.WriteLine($"interrupt from B took effect on A after {(stoppedAt - asked).TotalMilliseconds:0} ms");
    }

    [ContractFact]
    public async Task NodeWithAHostClock40sFast_OnTheDatabaseClock_DoesNotRecoverALiveNodesStep()
    {
        var (firings, _) = await RunLongStepThenStartSkewedNodeAsync(rawHostClock: false, watch: TimeSpan.FromSeconds(20));

        var only = Assert.Single(firings);
        Assert.Equal("A", only.Instance);
        Assert.False(only.Recovering);
    }

    [ContractFact]
    public async Task NodeWithAHostClock40sFast_OnItsOwnClock_RecoversALiveNodesStep_NegativeControl()
    {
        var (firings, bStarted) = await RunLongStepThenStartSkewedNodeAsync(rawHostClock: true, watch: TimeSpan.FromSeconds(20));

        // The hazard the database clock removes: B takes A (alive, checking in) for dead and its step is run a second time,
        // as a recovery firing, while the first still runs. Whichever node acquires the recovery trigger first runs it: B
        // most often, but under load A itself (still alive) may take it.
        Assert.Equal(2, firings.Count);
        var (first, second) = (firings[0], firings[1]);
        Assert.Equal(("A", false), (first.Instance, first.Recovering));
        Assert.True(second.Recovering, $"the second firing, on {second.Instance}, is a recovery");
        Assert.Contains(second.Instance, new[] { "A", "B" });
        Assert.True(first.Ended is null || second.Started < first.Ended, "the recovery firing started while the first one still ran");
        output.WriteLine($"B recovered A's live step {(second.Started - bStarted).TotalMilliseconds:0} ms after B started; " +
                         $"fire instance ids: A {first.FireInstanceId}, B (recovery) {second.FireInstanceId}");
    }

    /// <summary>A runs a long step that requests recovery; then B starts with its host clock 40 s fast; the firings seen in <paramref name="watch"/>.</summary>
    private async Task<(IReadOnlyList<Firing> Firings, TimeSpan BStarted)> RunLongStepThenStartSkewedNodeAsync(bool rawHostClock, TimeSpan watch)
    {
        var log = new FiringLog();
        Func<IJobExecutionContext, CancellationToken, Task> longStep = async (context, cancellationToken) =>
        {
            log.Started(context);
            await Task.Delay(TimeSpan.FromSeconds(60), cancellationToken);
        };
        var a = await NodeAsync("A", longStep);
        await a.ScheduleJob(ProbeJob("long"), Now("long"));
        await a.Start();
        await log.WaitUntilAsync(f => f.Count == 1, TimeSpan.FromSeconds(15), "A to start the step");

        var b = await NodeAsync("B", longStep, hostClock: new SkewedClock(HostClockSkew), rawHostClock: rawHostClock);
        await b.Start();
        var bStarted = log.Elapsed;
        if (rawHostClock)
        {
            await log.WaitUntilAsync(f => f.Count == 2, watch, "B to recover A's step");
        }
        else
        {
            await Task.Delay(watch);
        }

        return ([.. log.Firings.OrderBy(f => f.Started)], bStarted);
    }

    private async Task<IScheduler> NodeAsync(
        string id, Func<IJobExecutionContext, CancellationToken, Task> run, int threads = 2, TimeProvider? hostClock = null, bool rawHostClock = false)
    {
        var node = await StepSchedulerFactory.CreateAsync(
            new StepSchedulerSettings
            {
                Location = PostgresTestDatabase.RequireConnectionString(),
                PostgresSchema = _schema,
                InstanceId = id,
                Threads = threads,
                BoxLimits = new Dictionary<string, int> { ["a"] = 1 },
                HostClock = hostClock ?? TimeProvider.System,
                UseHostClockAsIs = rawHostClock,
            },
            new ProbeJobFactory(run));
        _nodes.Add(node);
        return node;
    }

    private static async Task<DateTimeOffset> DatabaseNowAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(PostgresTestDatabase.RequireConnectionString());
        await using var command = dataSource.CreateCommand("SELECT clock_timestamp()");
        return new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await command.ExecuteScalarAsync())!, DateTimeKind.Utc));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await ShutdownAllAsync([.. _nodes]);
        if (PostgresTestDatabase.ConnectionString is not null)
        {
            await PostgresTestDatabase.DropSchemaAsync(_schema);
        }
    }
}
