using Npgsql;
using NpgsqlTypes;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage.Postgres;

// Trial writes. A save replaces the record but keeps the stored tags and notes (the database merges them, so a save needs
// no read); the query columns beside the record are written with it. Only the annotations change tags, notes and their
// query columns.
public sealed partial class PostgresStore
{
    private const int WriteBatch = 1000;

    private const string TrialColumns = "experiment_id, number, state, lifecycle, logged, created_at, started_at, finished_at, objective, param_text";

    private const string UpsertTrialSql = $"""
        INSERT INTO trials (id, {TrialColumns}, annotation_text, tags, doc)
        VALUES (@id, @experiment, @number, @state, @lifecycle, @logged, @created, @started, @finished, @objective, @paramText,
                @annotationText, @tags, @doc)
        ON CONFLICT (id) DO UPDATE SET
            experiment_id = excluded.experiment_id, number = excluded.number, state = excluded.state, lifecycle = excluded.lifecycle,
            logged = excluded.logged, created_at = excluded.created_at, started_at = excluded.started_at,
            finished_at = excluded.finished_at, objective = excluded.objective, param_text = excluded.param_text,
            doc = excluded.doc || jsonb_build_object('tags', trials.doc->'tags', 'notes', trials.doc->'notes'),
            version = trials.version + 1
        """;

    /// <inheritdoc />
    /// <remarks>
    /// The counter row starts at the first number after those the experiment's trials hold, and never falls below it,
    /// so numbers of trials written without the counter (older stores, copies) are skipped too.
    /// </remarks>
    public async Task<int> NextTrialNumberAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        await using var command = PooledCommand("""
            INSERT INTO trial_counters AS c (experiment_id, next)
            VALUES (@experiment, (SELECT coalesce(max(number), -1) + 2 FROM trials WHERE experiment_id = @experiment))
            ON CONFLICT (experiment_id) DO UPDATE SET next = greatest(c.next, excluded.next - 1) + 1
            RETURNING next - 1
            """, [new NpgsqlParameter("experiment", experimentId)]);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <inheritdoc />
    public async Task SaveTrialAsync(Trial trial, IReadOnlyCollection<MetricPoint>? points = null, CancellationToken cancellationToken = default)
    {
        if (points is not { Count: > 0 })
        {
            await ExecuteAsync(UpsertTrialSql, cancellationToken, UpsertParameters(trial));
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await AppendAsync(connection, points, cancellationToken);
        await using (var command = new NpgsqlCommand(UpsertTrialSql, connection))
        {
            command.Parameters.AddRange(UpsertParameters(trial));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task SaveTrialsAsync(IEnumerable<Trial> trials, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var chunk in trials.Chunk(WriteBatch))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction);
            // One statement per trial (a multi-row upsert may not touch a row twice); the last record of an id wins.
            foreach (var trial in chunk.Reverse().DistinctBy(t => t.Id).Reverse())
                batch.BatchCommands.Add(Command(UpsertTrialSql, UpsertParameters(trial)));
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<Trial?> UpdateTrialAsync(string id, Func<Trial, TrialWrite?> change, CancellationToken cancellationToken = default)
    {
        // The row stays locked from the read to the commit: concurrent writers (in any process) queue instead of
        // retrying a compare-and-swap, which a busy machine can starve. The lock also keeps the tags and notes read
        // here the stored ones.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Trial stored;
        await using (var read = new NpgsqlCommand("SELECT doc::text FROM trials WHERE id = @id FOR UPDATE", connection, transaction))
        {
            read.Parameters.AddWithValue("id", id);
            if (await read.ExecuteScalarAsync(cancellationToken) is not string json) return null;
            stored = FromJson<Trial>(json);
        }
        if (change(stored) is not { } write) return stored;
        if (!string.Equals(write.Trial.Id, id, StringComparison.Ordinal))
            throw new InvalidOperationException($"An update of trial {id} returned trial {write.Trial.Id}.");
        var trial = write.Trial with { Tags = stored.Tags, Notes = stored.Notes };
        await using (var update = new NpgsqlCommand($"""
            UPDATE trials SET ({TrialColumns}, doc, version) =
                (@experiment, @number, @state, @lifecycle, @logged, @created, @started, @finished, @objective, @paramText, @doc, version + 1)
            WHERE id = @id
            """, connection, transaction))
        {
            update.Parameters.AddRange(RecordParameters(trial));
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        if (write.Points is { Count: > 0 } points) await AppendAsync(connection, points, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return trial;
    }

    /// <inheritdoc />
    public async Task<Trial?> UpdateTrialAnnotationsAsync(string trialId, IReadOnlyList<string>? tags, string? notes, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Trial trial;
        await using (var read = new NpgsqlCommand("SELECT doc::text FROM trials WHERE id = @id FOR UPDATE", connection, transaction))
        {
            read.Parameters.AddWithValue("id", trialId);
            if (await read.ExecuteScalarAsync(cancellationToken) is not string json) return null;
            trial = FromJson<Trial>(json);
        }
        if (tags is not null) trial = trial with { Tags = NormaliseTags(tags) };
        if (notes is not null) trial = trial with { Notes = string.IsNullOrWhiteSpace(notes) ? null : notes };
        await using (var update = new NpgsqlCommand("""
            UPDATE trials SET annotation_text = @annotationText, tags = @tags, doc = @doc, version = version + 1 WHERE id = @id
            """, connection, transaction))
        {
            update.Parameters.AddRange((NpgsqlParameter[])[new("id", trialId), .. AnnotationParameters(trial), Jsonb("doc", ToJson(trial))]);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return trial;
    }

    /// <inheritdoc />
    public Task<Trial?> GetTrialAsync(string id, CancellationToken cancellationToken = default) =>
        ReadDocAsync<Trial>("SELECT doc::text FROM trials WHERE id = @id", cancellationToken, new NpgsqlParameter("id", id));

    /// <inheritdoc />
    public async Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<Trial>("SELECT doc::text FROM trials WHERE experiment_id = @experiment ORDER BY number, created_at, id",
            cancellationToken, new NpgsqlParameter("experiment", experimentId));

    /// <inheritdoc />
    public async Task<IReadOnlyList<Trial>> ListTrialsInStateAsync(IReadOnlyCollection<TrialState> states, CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<Trial>("SELECT doc::text FROM trials WHERE state = ANY(@states) ORDER BY created_at, id", cancellationToken,
            new NpgsqlParameter("states", states.Select(s => CamelName(s)).Distinct().ToArray()));

    /// <inheritdoc />
    public async Task<TrialTally> TallyTrialsAsync(string experimentId, ObjectiveDirection direction, CancellationToken cancellationToken = default)
    {
        var experiment = new NpgsqlParameter("experiment", experimentId);
        var counts = await ReadAsync(
            "SELECT state, count(*) FROM trials WHERE experiment_id = @experiment AND lifecycle <> 'deleted' GROUP BY state",
            r => (State: r.GetString(0), Count: (int)r.GetInt64(1)), cancellationToken, experiment);
        var order = direction == ObjectiveDirection.Maximize ? "DESC" : "ASC";
        // NaN sorts above every number in PostgreSQL, and infinities are not a best value either: keep finite ones only.
        var best = await ReadAsync(
            $"""
            SELECT id, objective FROM trials
            WHERE experiment_id = @experiment AND lifecycle <> 'deleted' AND state = 'completed'
              AND objective IS NOT NULL AND objective <> 'NaN' AND objective > '-Infinity' AND objective < 'Infinity'
            ORDER BY objective {order}, number, id COLLATE "C" LIMIT 1
            """,
            r => (Id: r.GetString(0), Objective: r.GetDouble(1)), cancellationToken, new NpgsqlParameter("experiment", experimentId));
        var byState = new Dictionary<TrialState, int>();
        foreach (var (state, count) in counts)
            byState[Enum.Parse<TrialState>(state, ignoreCase: true)] = count;
        return best.Count == 0 ? new TrialTally(byState, null, null) : new TrialTally(byState, best[0].Id, best[0].Objective);
    }

    /// <summary>Trims tags, drops empty ones and duplicates (ignoring case), keeping the first spelling and the order.</summary>
    internal static List<string> NormaliseTags(IEnumerable<string> tags) =>
        tags.Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private static NpgsqlParameter[] UpsertParameters(Trial trial) => [.. RecordParameters(trial), .. AnnotationParameters(trial)];

    private static NpgsqlParameter[] RecordParameters(Trial trial) =>
    [
        new("id", trial.Id),
        new("experiment", trial.ExperimentId),
        new("number", trial.Number),
        new("state", CamelName(trial.State)),
        new("lifecycle", CamelName(trial.LifecycleStage)),
        new("logged", trial.Logged is not null),
        new("created", Timestamp(trial.CreatedAt)),
        new("started", NpgsqlDbType.TimestampTz) { Value = Timestamp(trial.StartedAt) },
        new("finished", NpgsqlDbType.TimestampTz) { Value = Timestamp(trial.FinishedAt) },
        new("objective", NpgsqlDbType.Double) { Value = trial.Objective is { } o ? o : DBNull.Value },
        // The free-text filter's half that every save renews: the id and the string parameter values.
        new("paramText", string.Join('\n', trial.Parameters.Values.Select(v => v.Text).Where(t => !string.IsNullOrEmpty(t)).Prepend(trial.Id)).ToLowerInvariant()),
        Jsonb("doc", ToJson(trial)),
    ];

    private static NpgsqlParameter[] AnnotationParameters(Trial trial) =>
    [
        new("annotationText", string.Join('\n', trial.Tags.Prepend(trial.Notes ?? "")).ToLowerInvariant()),
        new("tags", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = trial.Tags.Select(t => t.ToLowerInvariant()).ToArray() },
    ];
}
