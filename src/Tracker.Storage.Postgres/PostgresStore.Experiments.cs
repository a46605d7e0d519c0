using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Npgsql;

namespace Tracker.Storage.Postgres;

public sealed partial class PostgresStore
{
    /// <inheritdoc />
    public async Task SaveExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RefuseTakenNameAsync(experiment, connection, transaction, cancellationToken);
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO experiments (id, created_at, doc) VALUES (@id, @created, @doc)
            ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, doc = excluded.doc, version = experiments.version + 1
            """, connection, transaction))
        {
            upsert.Parameters.AddRange((NpgsqlParameter[])[new("id", experiment.Id), new("created", Timestamp(experiment.CreatedAt)), Jsonb("doc", ToJson(experiment))]);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    // Logged experiments' names are unique across processes: the check and the write happen under one transaction-scoped
    // advisory lock, which every writer of a logged experiment takes. (A unique index would refuse to build on a database
    // that already holds duplicates from before; the lock needs no schema.)
    private static async Task RefuseTakenNameAsync(Experiment experiment, NpgsqlConnection connection, NpgsqlTransaction transaction,
        CancellationToken cancellationToken)
    {
        if (experiment.Spec.Execution != TrialExecution.Logged) return;
        await using var check = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock(@lock);
            SELECT EXISTS (SELECT 1 FROM experiments
                           WHERE id <> @id AND doc #>> '{spec,execution}' = 'logged' AND doc #>> '{spec,name}' = @name);
            """, connection, transaction);
        check.Parameters.AddRange((NpgsqlParameter[])[new("lock", ExperimentNamesLock), new("id", experiment.Id), new("name", experiment.Spec.Name)]);
        await using var reader = await check.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        bool taken = await reader.ReadAsync(cancellationToken) && reader.GetBoolean(0);
        if (taken) throw new ExperimentNameTakenException(experiment.Spec.Name);
    }

    // The advisory lock key of logged experiments' names (any constant; this one spells "exp_names" in hex digits).
    private const long ExperimentNamesLock = 0x6578705F6E616D65;

    /// <inheritdoc />
    public async Task<Experiment?> UpdateExperimentAsync(string id, Func<Experiment, Experiment?> change, CancellationToken cancellationToken = default)
    {
        // The row stays locked from the read to the commit: concurrent writers (in any process) queue instead of
        // retrying a compare-and-swap, which a busy machine can starve.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Experiment stored;
        await using (var read = new NpgsqlCommand("SELECT doc::text FROM experiments WHERE id = @id FOR UPDATE", connection, transaction))
        {
            read.Parameters.AddWithValue("id", id);
            if (await read.ExecuteScalarAsync(cancellationToken) is not string json) return null;
            stored = FromJson<Experiment>(json);
        }
        if (change(stored) is not { } changed) return stored;
        await RefuseTakenNameAsync(changed, connection, transaction, cancellationToken);
        await using (var update = new NpgsqlCommand("""
            UPDATE experiments SET created_at = @created, doc = @doc, version = version + 1 WHERE id = @id
            """, connection, transaction))
        {
            update.Parameters.AddRange((NpgsqlParameter[])[new("id", id), new("created", Timestamp(changed.CreatedAt)), Jsonb("doc", ToJson(changed))]);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    /// <inheritdoc />
    public async Task<DeletedExperiment?> DeleteExperimentAsync(string id, CancellationToken cancellationToken = default)
    {
        // One transaction; the experiment's row is locked first, so a concurrent update of it waits and then finds it gone.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Experiment experiment;
        await using (var read = new NpgsqlCommand("SELECT doc::text FROM experiments WHERE id = @id FOR UPDATE", connection, transaction))
        {
            read.Parameters.AddWithValue("id", id);
            if (await read.ExecuteScalarAsync(cancellationToken) is not string json) return null;
            experiment = FromJson<Experiment>(json);
        }
        var trialIds = new List<string>();
        await using (var trials = new NpgsqlCommand("DELETE FROM trials WHERE experiment_id = @id RETURNING id", connection, transaction))
        {
            trials.Parameters.AddWithValue("id", id);
            await using var reader = await trials.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) trialIds.Add(reader.GetString(0));
        }
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            // Every table keyed by trial; each is indexed by trial_id first.
            foreach (var table in (string[])["metric_chunks", "metric_series", "metric_latest", "reports", "predictions", "sample_images", "artifact_metadata"])
                batch.BatchCommands.Add(Command($"DELETE FROM {table} WHERE trial_id = ANY(@trials)", new NpgsqlParameter("trials", trialIds.ToArray())));
            batch.BatchCommands.Add(Command("DELETE FROM trial_counters WHERE experiment_id = @id", new NpgsqlParameter("id", id)));
            batch.BatchCommands.Add(Command("DELETE FROM experiments WHERE id = @id", new NpgsqlParameter("id", id)));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new DeletedExperiment(experiment, trialIds, trialIds.Where(t => !files.DeleteTrial(t)).ToList());
    }

    /// <inheritdoc />
    public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default) =>
        ReadDocAsync<Experiment>("SELECT doc::text FROM experiments WHERE id = @id", cancellationToken, new NpgsqlParameter("id", id));

    /// <inheritdoc />
    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<Experiment>("SELECT doc::text FROM experiments ORDER BY created_at DESC, id", cancellationToken);
}
