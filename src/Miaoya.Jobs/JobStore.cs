using System.Data.Common;
using Npgsql;

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

    /// <summary>
    /// <paramref name="location"/> fit to print: a PostgreSQL connection string with its password masked (<c>Password</c>
    /// and its synonyms <c>Pwd</c> and <c>Psw</c>, as Npgsql reads them), a SQLite path as it is.
    /// </summary>
    public static string Redact(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (!IsPostgres(location))
        {
            return location;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(location);
            if (!string.IsNullOrEmpty(builder.Password))
            {
                builder.Password = Mask;
            }

            return builder.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // Npgsql refuses it (an unknown keyword, a value of the wrong type), so opening it fails too and the message
            // shows it: mask whatever key could hold a password, read as any connection string.
            return RedactUnreadable(location);
        }
    }

    private const string Mask = "***";

    private static string RedactUnreadable(string location)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = location };
            foreach (var key in builder.Keys.Cast<string>().Where(IsPasswordKey).ToArray())
            {
                builder[key] = Mask;
            }

            return builder.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(a connection string that cannot be read)";
        }

        static bool IsPasswordKey(string key) => key.Trim() is var k
            && (k.Equals("Password", StringComparison.OrdinalIgnoreCase) || k.Equals("Pwd", StringComparison.OrdinalIgnoreCase) || k.Equals("Psw", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Whether <paramref name="location"/> names a PostgreSQL database (a connection string with Host= or Server=) rather than a SQLite file.</summary>
    public static bool IsPostgres(string location) =>
        location.Split(';').Any(part => part.Split('=', 2)[0].Trim() is var key &&
            (key.Equals("Host", StringComparison.OrdinalIgnoreCase) || key.Equals("Server", StringComparison.OrdinalIgnoreCase)));
}
