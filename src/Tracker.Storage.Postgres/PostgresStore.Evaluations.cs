using Npgsql;
using NpgsqlTypes;
using Tracker.Core.Experiments;

namespace Tracker.Storage.Postgres;

public sealed partial class PostgresStore
{
    /// <inheritdoc />
    public Task SaveReportAsync(EvaluationReport report, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO reports (trial_id, split, step, doc) VALUES (@trial, @split, @step, @doc)
            ON CONFLICT (trial_id, split, step) DO UPDATE SET doc = excluded.doc
            """, cancellationToken,
            new("trial", report.TrialId), new("split", report.Split), new("step", report.Step), Jsonb("doc", ToJson(report)));

    /// <inheritdoc />
    public Task<EvaluationReport?> GetLatestReportAsync(string trialId, string? split = null, CancellationToken cancellationToken = default) =>
        ReadDocAsync<EvaluationReport>("""
            SELECT doc::text FROM reports WHERE trial_id = @trial AND (@split::text IS NULL OR split = @split::text)
            ORDER BY step DESC, split LIMIT 1
            """, cancellationToken,
            new NpgsqlParameter("trial", trialId), new NpgsqlParameter("split", NpgsqlDbType.Text) { Value = (object?)split ?? DBNull.Value });

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvaluationReport>> ListReportsAsync(string trialId, CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<EvaluationReport>("SELECT doc::text FROM reports WHERE trial_id = @trial ORDER BY split COLLATE \"C\", step",
            cancellationToken, new NpgsqlParameter("trial", trialId));

    /// <inheritdoc />
    public async Task SavePredictionsAsync(PredictionSet predictions, IReadOnlyDictionary<int, byte[]> sampleImages, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("DELETE FROM sample_images WHERE trial_id = @trial", new NpgsqlParameter("trial", predictions.TrialId)));
        foreach (var (index, png) in sampleImages)
            batch.BatchCommands.Add(Command("INSERT INTO sample_images (trial_id, index, png) VALUES (@trial, @index, @png)",
                new("trial", predictions.TrialId), new("index", index), new("png", NpgsqlDbType.Bytea) { Value = png }));
        batch.BatchCommands.Add(Command("""
            INSERT INTO predictions (trial_id, doc) VALUES (@trial, @doc) ON CONFLICT (trial_id) DO UPDATE SET doc = excluded.doc
            """, new("trial", predictions.TrialId), Jsonb("doc", ToJson(predictions))));
        await using (batch) await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task<PredictionSet?> GetPredictionsAsync(string trialId, CancellationToken cancellationToken = default) =>
        ReadDocAsync<PredictionSet>("SELECT doc::text FROM predictions WHERE trial_id = @trial", cancellationToken, new NpgsqlParameter("trial", trialId));

    /// <inheritdoc />
    public async Task<byte[]?> GetSampleImageAsync(string trialId, int index, CancellationToken cancellationToken = default) =>
        (await ReadAsync("SELECT png FROM sample_images WHERE trial_id = @trial AND index = @index", r => r.GetFieldValue<byte[]>(0), cancellationToken,
            new NpgsqlParameter("trial", trialId), new NpgsqlParameter("index", index))).FirstOrDefault();

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<int, byte[]>> GetSampleImagesAsync(string trialId, CancellationToken cancellationToken = default) =>
        (await ReadAsync("SELECT index, png FROM sample_images WHERE trial_id = @trial ORDER BY index", r => (Index: r.GetInt32(0), Png: r.GetFieldValue<byte[]>(1)),
            cancellationToken, new NpgsqlParameter("trial", trialId))).ToDictionary(i => i.Index, i => i.Png);

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }
}
