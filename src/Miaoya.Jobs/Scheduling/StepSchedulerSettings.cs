using System.Globalization;

namespace Miaoya.Jobs.Scheduling;

/// <summary>How <see cref="StepSchedulerFactory"/> builds the scheduler that runs job steps. <see cref="Validate"/> lists every error at once.</summary>
public sealed record StepSchedulerSettings
{
    /// <summary>The store, as <see cref="JobStore.OpenAsync"/> reads it: a SQLite file path, or an Npgsql connection string with <c>Host=</c>.</summary>
    public required string Location { get; init; }

    /// <summary>PostgreSQL only: the schema of the job store's tables, where Quartz's tables go too (created if missing); null: the connection's search path.</summary>
    public string? PostgresSchema { get; init; }

    /// <summary>The scheduler's name, the same on every instance sharing one store (Quartz's rows are keyed by it).</summary>
    public string SchedulerName { get; init; } = "miaoya";

    /// <summary>
    /// PostgreSQL: this process's id in the cluster, unique among the instances of one store; null: <c>host:pid:random</c>.
    /// Not allowed with SQLite, where every scheduler of a file has one fixed id: a scheduler recovers only the steps
    /// recorded under its own id, so a killed runner's steps would be lost to a successor with another.
    /// </summary>
    public string? InstanceId { get; init; }

    /// <summary>How many steps this instance runs at once.</summary>
    public int Threads { get; init; } = 4;

    /// <summary>
    /// Box name → how many steps it runs at once, counted across every instance of the store: a step scheduled in the
    /// execution group <see cref="StepSchedulerFactory.BoxGroup"/>(name) waits for a free slot.
    /// </summary>
    public IReadOnlyDictionary<string, int> BoxLimits { get; init; } = new Dictionary<string, int>();

    /// <summary>How long an idle instance waits before it looks for due steps again, which is how soon it sees steps another instance scheduled. At least 1 s (Quartz's floor).</summary>
    public TimeSpan IdleWaitTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// PostgreSQL: how often this instance records that it is alive. 5 s, and a threshold of 10 s: a killed instance's
    /// steps restart elsewhere after about 15 s (measured 14.5 s), and one check-in may fail (a database blip, a GC pause,
    /// a loaded host) without a live instance being taken for dead and its running steps started twice.
    /// </summary>
    public TimeSpan CheckinInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>PostgreSQL: how long past a missed check-in the other instances wait before they recover this one's steps. Longer than <see cref="CheckinInterval"/>.</summary>
    public TimeSpan CheckinMisfireThreshold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>PostgreSQL: how often the offset between this host's clock and the database's is measured again (<see cref="DatabaseClock"/>).</summary>
    public TimeSpan ClockRefreshInterval { get; init; } = DatabaseClock.DefaultRefreshInterval;

    /// <summary>This host's clock; the scheduler runs on the database's clock, read through it.</summary>
    public TimeProvider HostClock { get; init; } = TimeProvider.System;

    /// <summary>Tests only (a negative control): run the scheduler on <see cref="HostClock"/> as it is, not on the database's clock.</summary>
    internal bool UseHostClockAsIs { get; init; }

    internal bool IsPostgres => JobStore.IsPostgres(Location);

    /// <summary>Throws <see cref="ArgumentException"/> naming every setting that is wrong, or returns.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Location))
        {
            errors.Add($"{nameof(Location)} is empty: give a SQLite file path or a PostgreSQL connection string (Host=…).");
        }
        else if (PostgresSchema is not null && !IsPostgres)
        {
            errors.Add($"{nameof(PostgresSchema)} is set but {nameof(Location)} is a SQLite path, which has no schemas.");
        }

        if (PostgresSchema is not null && (PostgresSchema.Length is 0 or > 63 || PostgresSchema.Any(c => char.IsControl(c) || c == '"')))
        {
            errors.Add($"{nameof(PostgresSchema)} '{PostgresSchema}' is not a schema name (1 to 63 characters, no quotes).");
        }

        CheckName(nameof(SchedulerName), SchedulerName, maxLength: 120);
        if (InstanceId is not null && !string.IsNullOrWhiteSpace(Location) && !IsPostgres)
        {
            errors.Add($"{nameof(InstanceId)} is set but {nameof(Location)} is a SQLite file, whose schedulers share one id.");
        }
        else if (InstanceId is not null)
        {
            CheckName(nameof(InstanceId), InstanceId, maxLength: 200);
        }

        if (Threads is < 1 or > 1000)
        {
            errors.Add($"{nameof(Threads)} is {Threads}: give 1 to 1000.");
        }

        if (BoxLimits is null)
        {
            errors.Add($"{nameof(BoxLimits)} is null: give an empty map for no limits.");
        }
        else
        {
            foreach (var (box, limit) in BoxLimits)
            {
                if (string.IsNullOrWhiteSpace(box))
                {
                    errors.Add($"{nameof(BoxLimits)} has an empty box name.");
                }
                else if (limit < 1)
                {
                    errors.Add($"{nameof(BoxLimits)}['{box}'] is {limit}: a box runs at least 1 step at once.");
                }
            }
        }

        if (IdleWaitTime < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{nameof(IdleWaitTime)} is {Format(IdleWaitTime)}: Quartz needs at least 1 s.");
        }

        if (CheckinInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"{nameof(CheckinInterval)} is {Format(CheckinInterval)}: give at least 1 s.");
        }

        if (CheckinMisfireThreshold <= CheckinInterval)
        {
            errors.Add($"{nameof(CheckinMisfireThreshold)} ({Format(CheckinMisfireThreshold)}) must be longer than {nameof(CheckinInterval)} ({Format(CheckinInterval)}), or live instances are taken for dead between two check-ins.");
        }

        if (ClockRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(ClockRefreshInterval)} is {Format(ClockRefreshInterval)}: give a positive interval.");
        }

        if (HostClock is null)
        {
            errors.Add($"{nameof(HostClock)} is null: give TimeProvider.System.");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"Step scheduler settings are not valid: {string.Join(" ", errors)}", "settings");
        }

        void CheckName(string field, string? value, int maxLength)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{field} is empty.");
            }
            else if (value.Length > maxLength)
            {
                errors.Add($"{field} is {value.Length} characters long: Quartz's column holds {maxLength}.");
            }
        }

        static string Format(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
    }
}
