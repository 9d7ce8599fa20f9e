using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quartz;
using Quartz.Extensibility;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// Builds the Quartz scheduler that runs job steps, with its tables in the job store's own database (created if missing).
/// PostgreSQL: clustered (every instance of the store shares the work; a dead one's steps are recovered by the others),
/// on the <see cref="DatabaseClock"/>. SQLite: one process runs jobs (a second one's <c>Start</c> fails at once), any
/// number may schedule; Quartz's transactions take the file's <see cref="SqliteWriteGate"/> (without waiting for it). Both: enlisted transactions
/// accepted (<c>scheduler.EnlistTransaction(tx)</c>), <see cref="StepSchedulerSettings.BoxLimits"/> counted across the
/// cluster, and a step that requests recovery and is cut off by a shutdown is run again (<c>context.Recovering</c>).
/// Not started: call <c>Start</c> to run steps; <c>Shutdown</c> also releases what the scheduler owns (the clock's
/// connections, the SQLite guard).
/// </summary>
public static class StepSchedulerFactory
{
    /// <summary>The start of the execution group of a step that runs on a box: <see cref="BoxGroup"/>.</summary>
    public const string BoxGroupPrefix = "box:";

    /// <summary>
    /// The execution group of a step that waits to be placed on a box: never fired (its limit is 0) until placement moves
    /// it into its box's group (<see cref="BoxGroup"/>).
    /// </summary>
    public const string WaitingForBoxGroup = "box-wait";

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IScheduler, TimeProvider> Clocks = [];

    /// <summary>The clock a scheduler built here runs on (the database's), for comparing with its fire times.</summary>
    public static TimeProvider ClockOf(IScheduler scheduler) =>
        Clocks.TryGetValue(scheduler, out var clock) ? clock : throw new ArgumentException("The scheduler was not built by StepSchedulerFactory.", nameof(scheduler));

    /// <summary>The instance id of every scheduler on a SQLite file (one runs jobs at a time).</summary>
    internal const string SqliteInstanceId = "sqlite";

    /// <summary>The execution group (<c>TriggerBuilder.WithExecutionGroup</c>) of a step that runs on <paramref name="box"/>, which <see cref="StepSchedulerSettings.BoxLimits"/> limits.</summary>
    public static string BoxGroup(string box)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(box);
        return BoxGroupPrefix + box;
    }

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> naming the process when another process runs the jobs of the SQLite
    /// store at <paramref name="location"/> (PostgreSQL: nothing to check, instances cluster). A check before anything
    /// starts, so a command fails at once with that message; starting the scheduler takes the guard for good.
    /// </summary>
    public static void ThrowIfAnotherRunner(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (!JobStore.IsPostgres(location))
        {
            using var guard = SchedulerFileGuard.Acquire(location);
        }
    }

    /// <summary>Builds the scheduler (not started). Throws <see cref="ArgumentException"/> for invalid settings, naming each.</summary>
    public static async Task<IScheduler> CreateAsync(
        StepSchedulerSettings settings, IJobFactory jobFactory, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(jobFactory);
        settings.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;
        var postgres = settings.IsPostgres;
        // SQLite: one fixed id. Quartz recovers, when a non-clustered scheduler starts, only the firings recorded under its
        // own instance id (and then deletes every fired row): a new id per process would lose the steps of a killed one.
        var instanceId = !postgres ? SqliteInstanceId
            : settings.InstanceId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

        string connectionString;
        SqliteWriteGate? gate = null;
        if (postgres)
        {
            connectionString = await PreparePostgresAsync(settings, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            connectionString = await PrepareSqliteAsync(settings.Location, cancellationToken).ConfigureAwait(false);
            gate = SqliteWriteGate.For(settings.Location);
        }

        var clock = await DatabaseClock.StartAsync(
            settings.Location, settings.HostClock, settings.ClockRefreshInterval, loggerFactory.CreateLogger<DatabaseClock>(), cancellationToken).ConfigureAwait(false);
        StandaloneSchedulerFactory? factory = null;
        try
        {
            factory = QuartzSchedulerBuilder.Create(q =>
            {
                q.Services.AddSingleton(loggerFactory);
                q.Services.AddSingleton<ILoggerProvider>(new ForwardingLoggerProvider(loggerFactory));
                q.ConfigureScheduler(o =>
                {
                    o.InstanceName = settings.SchedulerName;
                    o.InstanceId = instanceId;
                    o.IdleWaitTime = settings.IdleWaitTime;
                    // A shutdown asks running steps to stop; with RecoverFiringsCancelledByShutdown their firings are handed back.
                    o.ShutdownJobInterruption = ShutdownJobInterruption.Always;
                });
                q.UseDefaultThreadPool(settings.Threads);
                q.UseJobFactory(jobFactory);
                q.UseTimeProvider(settings.UseHostClockAsIs ? settings.HostClock : clock);
                q.UsePersistentStore(store =>
                {
                    if (postgres)
                    {
                        store.UsePostgres(connectionString);
                        store.UseClustering(c =>
                        {
                            c.CheckinInterval = settings.CheckinInterval;
                            c.CheckinMisfireThreshold = settings.CheckinMisfireThreshold;
                        });
                    }
                    else
                    {
                        // Quartz replaces any lock handler on SQLite with its own in-process gate; the write gate goes on its connections instead.
                        store.UseSqlite(connectionString);
                        store.UseConnectionProvider(_ => new GatedSqliteProvider(gate!, connectionString));
                    }

                    store.ProvisionSchema();
                    store.ConfigureStore(o =>
                    {
                        o.AcceptEnlistedTransactions = true;
                        o.RecoverFiringsCancelledByShutdown = true;
                        // Cluster-scoped limits are exact only when acquisition is serialized (ExecutionLimitScope.Cluster);
                        // a box that renders one image at a time must never be handed two.
                        o.AcquireTriggersWithinLock = postgres;
                        if (!postgres)
                        {
                            // A Quartz transaction that finds the write gate taken fails as "busy" and is retried after
                            // this interval; our transactions last milliseconds, so retry soon and for up to ~10 s.
                            o.TransientRetryInterval = TimeSpan.FromMilliseconds(50);
                            o.MaxTransientRetries = 200;
                            o.DbRetryInterval = TimeSpan.FromSeconds(1);
                        }
                    });
                });
                q.UseExecutionLimits(limits =>
                {
                    limits.ForGroup(WaitingForBoxGroup, 0);
                    // A box this instance was not told of (another instance's configuration) renders one step at a time, as A1111 does.
                    limits.ForGroupsWithPrefix(BoxGroupPrefix, 1, ExecutionLimitScope.Cluster);
                    foreach (var (box, maxConcurrent) in settings.BoxLimits)
                    {
                        limits.ForGroup(BoxGroup(box), maxConcurrent, ExecutionLimitScope.Cluster);
                    }
                });
            }).Build();
            var scheduler = await factory.GetScheduler(cancellationToken).ConfigureAwait(false);
            Func<IDisposable>? guard = postgres ? null : () => SchedulerFileGuard.Acquire(settings.Location);
            var owned = OwnedScheduler.Wrap(scheduler, guard, factory, clock);
            Clocks.AddOrUpdate(owned, settings.UseHostClockAsIs ? settings.HostClock : clock);
            return owned;
        }
        catch
        {
            if (factory is not null)
            {
                await factory.DisposeAsync().ConfigureAwait(false);
            }

            await clock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The connection string Quartz uses: the store's, with the schema (created if missing) as the search path.</summary>
    private static Task<string> PreparePostgresAsync(StepSchedulerSettings settings, CancellationToken cancellationToken) =>
        PostgresSchema.UseAsync(settings.Location, settings.PostgresSchema, cancellationToken);

    /// <summary>The connection string Quartz uses; the file in WAL mode, as the job store keeps it (readers never block the writer).</summary>
    private static async Task<string> PrepareSqliteAsync(string path, CancellationToken cancellationToken)
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(path), Pooling = true }.ConnectionString;
        var connection = new SqliteConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;";
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return connectionString;
    }
}
