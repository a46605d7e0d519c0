using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Npgsql;

namespace Tracker.Storage.Postgres;

public sealed partial class PostgresStore
{
    /// <inheritdoc />
    public Task SaveExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO experiments (id, created_at, doc) VALUES (@id, @created, @doc)
            ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, doc = excluded.doc, version = experiments.version + 1
            """, cancellationToken,
            new("id", experiment.Id), new("created", Timestamp(experiment.CreatedAt)), Jsonb("doc", ToJson(experiment)));

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
    public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default) =>
        ReadDocAsync<Experiment>("SELECT doc::text FROM experiments WHERE id = @id", cancellationToken, new NpgsqlParameter("id", id));

    /// <inheritdoc />
    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<Experiment>("SELECT doc::text FROM experiments ORDER BY created_at DESC, id", cancellationToken);
}
