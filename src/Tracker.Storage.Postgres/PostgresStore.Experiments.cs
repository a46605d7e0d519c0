using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Npgsql;

namespace Tracker.Storage.Postgres;

public sealed partial class PostgresStore
{
    // Enough for any plausible contention; beyond it something is writing in a loop, and failing loudly is better.
    private const int MaxUpdateAttempts = 50;

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
        for (int attempt = 0; attempt < MaxUpdateAttempts; attempt++)
        {
            var stored = (await ReadAsync("SELECT doc::text, version FROM experiments WHERE id = @id",
                r => (Experiment: FromJson<Experiment>(r.GetString(0)), Version: r.GetInt64(1)), cancellationToken, new NpgsqlParameter("id", id))).FirstOrDefault();
            if (stored.Experiment is null) return null;
            if (change(stored.Experiment) is not { } changed) return stored.Experiment;
            int written = await ExecuteAsync("""
                UPDATE experiments SET created_at = @created, doc = @doc, version = version + 1
                WHERE id = @id AND version = @version
                """, cancellationToken,
                new("id", id), new("version", stored.Version), new("created", Timestamp(changed.CreatedAt)), Jsonb("doc", ToJson(changed)));
            if (written == 1) return changed;
        }
        throw new InvalidOperationException($"The experiment {id} kept changing while it was being updated ({MaxUpdateAttempts} attempts).");
    }

    /// <inheritdoc />
    public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default) =>
        ReadDocAsync<Experiment>("SELECT doc::text FROM experiments WHERE id = @id", cancellationToken, new NpgsqlParameter("id", id));

    /// <inheritdoc />
    public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<Experiment>("SELECT doc::text FROM experiments ORDER BY created_at DESC, id", cancellationToken);
}
