namespace Miaoya.Jobs;

/// <summary>Opens the store a configuration names: a SQLite file path, or a PostgreSQL connection string.</summary>
public static class JobStore
{
    /// <summary>
    /// <paramref name="location"/> with a <c>Host=</c> keyword is an Npgsql connection string (PostgreSQL, tables in
    /// <paramref name="postgresSchema"/> or the search path); anything else is the path of a SQLite file, created if missing.
    /// </summary>
    public static async Task<IJobStore> OpenAsync(
        string location, JobStoreOptions? options = null, TimeProvider? time = null, string? postgresSchema = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        return IsPostgres(location)
            ? await PostgresJobStore.OpenAsync(location, postgresSchema, options, time, cancellationToken).ConfigureAwait(false)
            : await SqliteJobStore.OpenAsync(location, options, time, cancellationToken).ConfigureAwait(false);
    }

    internal static bool IsPostgres(string location) =>
        location.Split(';').Any(part => part.Split('=', 2)[0].Trim() is var key &&
            (key.Equals("Host", StringComparison.OrdinalIgnoreCase) || key.Equals("Server", StringComparison.OrdinalIgnoreCase)));
}
