using Npgsql;

namespace Miaoya.Jobs;

/// <summary>The PostgreSQL schema the job store's tables (and the scheduler's, beside them) live in.</summary>
internal static class PostgresSchema
{
    /// <summary>
    /// <paramref name="connectionString"/> with <paramref name="schema"/> (created if missing) as its search path; as it is
    /// when <paramref name="schema"/> is null (the connection's own search path).
    /// </summary>
    public static async Task<string> UseAsync(string connectionString, string? schema, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (schema is null)
        {
            return builder.ConnectionString;
        }

        var setup = NpgsqlDataSource.Create(builder.ConnectionString);
        await using (setup.ConfigureAwait(false))
        {
            var command = setup.CreateCommand($"CREATE SCHEMA IF NOT EXISTS \"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
            await using (command.ConfigureAwait(false))
            {
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema)
                {
                    // Another instance created it at the same moment.
                }
            }
        }

        builder.SearchPath = schema;
        return builder.ConnectionString;
    }
}
