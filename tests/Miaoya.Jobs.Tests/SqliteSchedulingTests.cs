using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Miaoya.Jobs.Scheduling;
using Quartz;
using static Miaoya.Jobs.Tests.SchedulingTestKit;

namespace Miaoya.Jobs.Tests;

/// <summary>The step scheduler on a SQLite file: our transaction and Quartz's lock in one order, one runner per file.</summary>
public sealed class SqliteSchedulingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("miaoya-sched-").FullName;

    private string Database => Path.Combine(_directory, "jobs.db");

    [Fact]
    public async Task EnlistedScheduleJob_InOurImmediateTransaction_WhileTheSchedulerFires_NeverDeadlocks()
    {
        // Arrange: our own table, and a started scheduler kept busy firing what we schedule.
        await ExecuteAsync("CREATE TABLE IF NOT EXISTS ours (id TEXT PRIMARY KEY)");
        var log = new FiringLog();
        var scheduler = await StepSchedulerFactory.CreateAsync(Sqlite(Database), new ProbeJobFactory(log.Run(TimeSpan.FromMilliseconds(20))));
        try
        {
            await scheduler.Start();
            var gate = SqliteWriteGate.For(Database);
            var slowest = TimeSpan.Zero;

            // Act: 50 transactions, each our row and 3 steps, as the job store will write them.
            for (var i = 0; i < 50; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await WriteRowAndStepsAsync(scheduler, gate, $"t{i}", steps: 3, commit: true);
                var took = Stopwatch.GetElapsedTime(started);
                slowest = took > slowest ? took : slowest;
            }

            // Assert: none waited out SQLite's 30 s busy timeout (the deadlock), and every step ran.
            Assert.True(slowest < TimeSpan.FromSeconds(5), $"slowest transaction took {slowest}");
            await log.WaitUntilAsync(f => f.Count == 150, TimeSpan.FromSeconds(25), "150 steps to run");
            Assert.Equal(50, await CountAsync("SELECT COUNT(*) FROM ours"));
        }
        finally
        {
            await ShutdownAllAsync(scheduler);
        }
    }

    [Fact]
    public async Task EnlistedScheduleJob_RolledBack_LeavesNeitherOurRowNorTheTrigger()
    {
        await ExecuteAsync("CREATE TABLE IF NOT EXISTS ours (id TEXT PRIMARY KEY)");
        var scheduler = await StepSchedulerFactory.CreateAsync(Sqlite(Database), new ProbeJobFactory((_, _) => Task.CompletedTask));
        try
        {
            await scheduler.Start();

            await WriteRowAndStepsAsync(scheduler, SqliteWriteGate.For(Database), "gone", steps: 2, commit: false);

            Assert.Equal(0, await CountAsync("SELECT COUNT(*) FROM ours"));
            Assert.False(await scheduler.Exists(new TriggerKey("gone/0", "steps")));
            Assert.False(await scheduler.Exists(new JobKey("gone/1", "steps")));
        }
        finally
        {
            await ShutdownAllAsync(scheduler);
        }
    }

    [Fact]
    public async Task HoldForThisFlow_WithoutTheGate_Throws()
    {
        var gate = SqliteWriteGate.For(Path.Combine(_directory, "other.db"));
        Assert.Throws<InvalidOperationException>(() => gate.HoldForThisFlow());
        await using (await gate.EnterAsync())
        {
            using (gate.HoldForThisFlow())
            {
                Assert.True(gate.IsHeldByThisFlow);
                Assert.True(await Task.Run(() => gate.IsHeldByThisFlow)); // tasks this flow starts are in it too
            }

            Assert.False(gate.IsHeldByThisFlow);
        }

        Assert.Same(gate, SqliteWriteGate.For(Path.Combine(_directory, ".", "other.db")));
    }

    [Fact]
    public async Task Start_SecondSchedulerOnTheSameFile_FailsAtOnceNamingTheOwner_WhileSchedulingNeedsNoGuard()
    {
        var runner = await StepSchedulerFactory.CreateAsync(Sqlite(Database), new ProbeJobFactory((_, _) => Task.CompletedTask));
        var second = await StepSchedulerFactory.CreateAsync(Sqlite(Database), new ProbeJobFactory((_, _) => Task.CompletedTask));
        try
        {
            await runner.Start();

            var started = Stopwatch.GetTimestamp();
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.Start());
            Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(2));
            Assert.Equal(
                $"another Miaoya instance (pid {Environment.ProcessId}) runs jobs from {Database}; use PostgreSQL (--store Host=…) to run several instances",
                error.Message);

            // A scheduler that is never started schedules all the same.
            var later = TriggerBuilder.Create().WithIdentity("only-scheduled", "steps").StartAt(DateTimeOffset.UtcNow.AddHours(1)).Build();
            await second.ScheduleJob(ProbeJob("only-scheduled"), later);
            Assert.True(await runner.Exists(new JobKey("only-scheduled", "steps")));

            // Once the runner is down, the guard is free again.
            await runner.Shutdown(waitForJobsToComplete: false);
            await second.Start();
        }
        finally
        {
            await ShutdownAllAsync(runner, second);
        }
    }

    [Fact]
    public void Validate_BadSettings_NamesEveryField()
    {
        var settings = new StepSchedulerSettings
        {
            Location = Database,
            PostgresSchema = "s",
            Threads = 0,
            BoxLimits = new Dictionary<string, int> { ["a"] = 0 },
            IdleWaitTime = TimeSpan.FromMilliseconds(100),
            CheckinInterval = TimeSpan.FromSeconds(10),
            CheckinMisfireThreshold = TimeSpan.FromSeconds(5),
            InstanceId = " ",
        };

        var error = Assert.Throws<ArgumentException>(settings.Validate);

        Assert.Equal("settings", error.ParamName);
        foreach (var field in new[] { "PostgresSchema", "Threads", "BoxLimits['a']", "IdleWaitTime", "CheckinMisfireThreshold", "InstanceId" })
        {
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DatabaseClock_OnSqlite_IsTheHostClock()
    {
        var host = new SkewedClock(TimeSpan.FromSeconds(40));
        await using var clock = await DatabaseClock.StartAsync(Database, host);

        Assert.Equal(TimeSpan.Zero, clock.Offset);
        Assert.InRange(clock.GetUtcNow() - host.GetUtcNow(), TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Our row and <paramref name="steps"/> Quartz jobs in one transaction, in the order the job store uses.</summary>
    private async Task WriteRowAndStepsAsync(IScheduler scheduler, SqliteWriteGate gate, string id, int steps, bool commit)
    {
        await using (await gate.EnterAsync())
        {
            await using var connection = new SqliteConnection($"Data Source={Database};Pooling=true");
            await connection.OpenAsync();
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(); // BEGIN IMMEDIATE
            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO ours (id) VALUES ($id)";
                insert.Parameters.AddWithValue("$id", id);
                await insert.ExecuteNonQueryAsync();
            }

            using (gate.HoldForThisFlow())
            using (scheduler.EnlistTransaction(transaction))
            {
                for (var step = 0; step < steps; step++)
                {
                    await scheduler.ScheduleJob(ProbeJob($"{id}/{step}"), Now($"{id}/{step}"));
                }

                if (commit)
                {
                    await transaction.CommitAsync();
                }
                else
                {
                    await transaction.RollbackAsync();
                }
            }
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Database}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Database}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
