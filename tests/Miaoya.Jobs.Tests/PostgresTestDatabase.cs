using Npgsql;

namespace Miaoya.Jobs.Tests;

/// <summary>The PostgreSQL the tests use: MIAOYA_TEST_POSTGRES (Npgsql connection string). Each test gets its own schema.</summary>
internal static class PostgresTestDatabase
{
    public const string ConnectionVariable = "MIAOYA_TEST_POSTGRES";

    public const string RequireVariable = "MIAOYA_REQUIRE_POSTGRES";

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : null;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Null when the PostgreSQL tests should run (configured, or required and so failing loudly when not).</summary>
    public static string? SkipReason => ConnectionString is null && !Required
        ? $"PostgreSQL store tests skipped: set {ConnectionVariable} to an Npgsql connection string " +
          $"(e.g. Host=127.0.0.1;Username=miaoya;Password=miaoya;Database=miaoya_test), as .ci/run does; {RequireVariable}=1 makes this a failure."
        : null;

    public static string RequireConnectionString() =>
        ConnectionString ?? throw new InvalidOperationException(
            $"{RequireVariable}=1 but {ConnectionVariable} is not set: the PostgreSQL store tests need a database (see .ci/run).");

    public static string NewSchema() => "miaoya_test_" + Guid.NewGuid().ToString("N")[..16];

    public static async Task DropSchemaAsync(string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(RequireConnectionString());
        await using var command = dataSource.CreateCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        await command.ExecuteNonQueryAsync();
    }
}
