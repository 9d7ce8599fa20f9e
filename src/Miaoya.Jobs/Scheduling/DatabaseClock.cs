using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// The database's clock, read on a host whose own clock may be wrong: the host's time plus the offset to the database's
/// <c>clock_timestamp()</c>, measured at the middle of the query's round trip when the clock starts and every
/// <see cref="RefreshInterval"/> after that (a failed measurement keeps the last good offset). Quartz's cluster check-ins
/// and recovery compare times written by different nodes, so every node must read one clock; this is that clock.
/// For a SQLite store the host's clock is the database's clock and the offset stays zero. Timestamps, timers and the time
/// zone are the host provider's.
/// </summary>
public sealed class DatabaseClock : TimeProvider, IAsyncDisposable
{
    /// <summary>How often the offset is measured again unless told otherwise.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(30);

    private const int SamplesPerMeasurement = 3;

    private readonly TimeProvider _host;
    private readonly NpgsqlDataSource? _database;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _refreshing = Task.CompletedTask;
    private long _offsetTicks;

    private DatabaseClock(TimeProvider host, NpgsqlDataSource? database, TimeSpan refreshInterval, ILogger logger)
    {
        _host = host;
        _database = database;
        RefreshInterval = refreshInterval;
        _logger = logger;
    }

    /// <summary>Database time minus host time, as last measured (zero for SQLite).</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>How often the offset is measured again; <see cref="Timeout.InfiniteTimeSpan"/> for SQLite, which is never measured.</summary>
    public TimeSpan RefreshInterval { get; }

    /// <inheritdoc/>
    public override long TimestampFrequency => _host.TimestampFrequency;

    /// <inheritdoc/>
    public override TimeZoneInfo LocalTimeZone => _host.LocalTimeZone;

    /// <summary>
    /// The clock of the store at <paramref name="location"/> (a SQLite path, or an Npgsql connection string with <c>Host=</c>,
    /// as <see cref="JobStore.OpenAsync"/> reads it), measured once before this returns (PostgreSQL: the database must answer).
    /// </summary>
    public static async Task<DatabaseClock> StartAsync(
        string location, TimeProvider? hostClock = null, TimeSpan? refreshInterval = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        var interval = refreshInterval ?? DefaultRefreshInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(refreshInterval));
        hostClock ??= System;
        logger ??= NullLogger.Instance;
        if (!JobStore.IsPostgres(location))
        {
            return new DatabaseClock(hostClock, database: null, Timeout.InfiniteTimeSpan, logger);
        }

        var clock = new DatabaseClock(hostClock, NpgsqlDataSource.Create(location), interval, logger);
        try
        {
            await clock.MeasureAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await clock.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        clock._refreshing = Task.Run(clock.RefreshLoopAsync, CancellationToken.None);
        return clock;
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => _host.GetUtcNow() + Offset;

    /// <inheritdoc/>
    public override long GetTimestamp() => _host.GetTimestamp();

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _host.CreateTimer(callback, state, dueTime, period);

    /// <summary>Stops measuring and closes the clock's connections; the last offset stays in use.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

#pragma warning disable VSTHRD003 // the refresh loop was started by this clock, on the thread pool, and ends with _stop
        await _refreshing.ConfigureAwait(false);
#pragma warning restore VSTHRD003
        if (_database is not null)
        {
            await _database.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Measures the offset again: of a few round trips on one connection, the shortest, whose midpoint is the least
    /// uncertain (by at most half of it). Throws when the database does not answer, leaving the offset as it was.
    /// </summary>
    internal async Task MeasureAsync(CancellationToken cancellationToken)
    {
        if (_database is null)
        {
            return;
        }

        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT clock_timestamp()", connection);
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var best = (RoundTrip: TimeSpan.MaxValue, Offset: TimeSpan.Zero);
        for (var i = 0; i < SamplesPerMeasurement; i++)
        {
            var sent = _host.GetUtcNow();
            var started = Stopwatch.GetTimestamp();
            var answer = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            var roundTrip = Stopwatch.GetElapsedTime(started);
            var databaseTime = answer is DateTime utc // timestamptz comes back as UTC
                ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc))
                : throw new InvalidOperationException("clock_timestamp() did not come back as a timestamp.");
            if (roundTrip < best.RoundTrip)
            {
                best = (roundTrip, databaseTime - (sent + (roundTrip / 2)));
            }
        }

        Interlocked.Exchange(ref _offsetTicks, best.Offset.Ticks);
        _logger.LogDebug("Database clock offset {Offset} (round trip {RoundTrip})", best.Offset, best.RoundTrip);
    }

    private async Task RefreshLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RefreshInterval, _host, token).ConfigureAwait(false);
                await MeasureAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                _logger.LogWarning(e, "Could not read the database's clock; keeping the offset {Offset}", Offset);
            }
        }
    }
}
