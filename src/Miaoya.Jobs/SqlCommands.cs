using System.Data.Common;
using System.Text.Json;

namespace Miaoya.Jobs;

/// <summary>The store's ADO.NET plumbing: parameterised commands, scalars, and the snake_case names enums are stored as.</summary>
internal static class SqlCommands
{
    internal static string? Str(DbDataReader reader, int ordinal) => reader.GetValue(ordinal) as string;

    internal static string Name<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    internal static T Parse<T>(string name)
        where T : struct, Enum => Enum.Parse<T>(name.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);

    internal static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // SQL text is built from constants in this class; values always travel as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    internal static async Task<int> ExecAsync(
        DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = Command(connection, tx, sql, parameters);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a query and hands each row to <paramref name="row"/>, in order.</summary>
    internal static async Task ReadRowsAsync(
        DbConnection connection, DbTransaction? tx, string sql, Action<DbDataReader> row, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = Command(connection, tx, sql, parameters);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    row(reader);
                }
            }
        }
    }

    internal static async Task<object?> ScalarAsync(
        DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var command = Command(connection, tx, sql, parameters);
        await using (command.ConfigureAwait(false))
        {
            var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is DBNull ? null : value;
        }
    }
}
