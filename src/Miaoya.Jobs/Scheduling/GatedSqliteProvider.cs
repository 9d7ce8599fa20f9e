using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Quartz.Impl.AdoJobStore.Common;

namespace Miaoya.Jobs.Scheduling;

/// <summary>
/// Quartz's SQLite provider with one change: a transaction on a connection of Quartz's own takes the database's
/// <see cref="SqliteWriteGate"/> first, and only if it is free at once. Quartz on SQLite always serializes its work with
/// its own in-process gate (it replaces any configured lock handler with it), and an enlisted call from our transaction
/// waits for that gate while holding SQLite's write lock. Were Quartz to wait for ours while holding its own, the two would
/// deadlock; instead its transaction fails at once as SQLite's "busy" does, Quartz lets go of its gate and retries shortly
/// (<see cref="StepSchedulerFactory"/> sets a 50 ms retry interval), and our transaction goes on.
/// </summary>
/// <remarks>A provider rather than a <c>DbProviderFactory</c>: Quartz checks an enlisted connection against the provider's
/// metadata type, which stays <see cref="SqliteConnection"/> here, so the job store's plain connections can enlist.</remarks>
internal sealed class GatedSqliteProvider(SqliteWriteGate gate, string connectionString) : DbProvider(QuartzProviderName, connectionString)
{
    /// <summary>Quartz's name for Microsoft.Data.Sqlite: its metadata, so connections the application enlists are the type Quartz expects.</summary>
    private const string QuartzProviderName = "SQLite-Microsoft";

    public override DbConnection CreateConnection() => new GatedSqliteConnection(gate) { ConnectionString = ConnectionString };

    /// <summary>A connection whose transactions hold the gate until the connection closes.</summary>
    private sealed class GatedSqliteConnection(SqliteWriteGate gate) : SqliteConnection
    {
        private const int SqliteBusy = 5;

        private IDisposable? _held;

        public override SqliteTransaction BeginTransaction(IsolationLevel isolationLevel, bool deferred)
        {
            if (_held is null)
            {
                if (gate.IsHeldByThisFlow)
                {
                    throw new InvalidOperationException(
                        $"A Quartz call inside SqliteWriteGate.HoldForThisFlow ({gate.DatabasePath}) without this flow's transaction enlisted: " +
                        "it would wait for the gate this flow holds. Call scheduler.EnlistTransaction(transaction) first.");
                }

                _held = gate.TryEnterNow() ?? throw new SqliteException(
                    $"the write gate of {gate.DatabasePath} is held by a transaction of this process; retry", SqliteBusy);
            }

            try
            {
                return base.BeginTransaction(isolationLevel, deferred);
            }
            catch
            {
                ReleaseGate();
                throw;
            }
        }

        public override void Close()
        {
            base.Close();
            ReleaseGate();
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            ReleaseGate();
        }

        private void ReleaseGate()
        {
            var held = _held;
            _held = null;
            held?.Dispose();
        }
    }
}
