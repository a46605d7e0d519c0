using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Storage.Postgres;

// The runs browser's queries and MLflow's run search: a TrialQuery becomes one parameterised WHERE and ORDER BY over the
// trials table (alias t); every value the query holds travels as a parameter.
public sealed partial class PostgresStore
{
    private const int ExportChunk = 500;

    private const string RowColumns = """
        t.doc::text, coalesce(e.doc->'spec'->>'name', ''), coalesce(e.doc->'spec'->>'model', ''), coalesce(e.doc->'spec'->>'strategy', '')
        FROM trials t LEFT JOIN experiments e ON e.id = t.experiment_id
        """;

    /// <inheritdoc />
    public async Task<TrialQueryResult> QueryTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize), page = Math.Max(0, query.Page);
        var sql = TrialSql.For(query);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var timeout = new NpgsqlCommand(QueryTimeout, connection)) await timeout.ExecuteNonQueryAsync(cancellationToken);

        int total;
        await using (var count = sql.Command($"SELECT count(*) FROM trials t WHERE {sql.Where}", connection))
            total = (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
        var rows = new List<TrialRow>();
        if ((long)page * size < total)
        {
            await using var command = sql.Command($"SELECT {RowColumns} WHERE {sql.Where} ORDER BY {sql.OrderBy} LIMIT @limit OFFSET @offset", connection);
            command.Parameters.AddWithValue("limit", size);
            command.Parameters.AddWithValue("offset", (long)page * size);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) rows.Add(Row(reader));
        }
        await transaction.CommitAsync(cancellationToken);
        return new TrialQueryResult(rows, total, page, size);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A cursor in one read-only transaction: the export is one consistent set however long the caller takes, and each
    /// fetch of <see cref="ExportChunk"/> rows is a statement of its own, under the query time limit.
    /// </remarks>
    public async IAsyncEnumerable<TrialRow> ExportTrialsAsync(TrialQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sql = TrialSql.For(query);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var timeout = new NpgsqlCommand(QueryTimeout, connection)) await timeout.ExecuteNonQueryAsync(cancellationToken);
        await using (var declare = sql.Command($"DECLARE trial_export NO SCROLL CURSOR FOR SELECT {RowColumns} WHERE {sql.Where} ORDER BY {sql.OrderBy}", connection))
            await declare.ExecuteNonQueryAsync(cancellationToken);
        while (true)
        {
            var rows = new List<TrialRow>(ExportChunk);
            await using (var fetch = new NpgsqlCommand($"FETCH {ExportChunk} FROM trial_export", connection))
            await using (var reader = await fetch.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken)) rows.Add(Row(reader));
            foreach (var row in rows) yield return row;
            if (rows.Count < ExportChunk) break;
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<TrialFieldNames> TrialFieldsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        var sql = TrialSql.For(query);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var timeout = new NpgsqlCommand(QueryTimeout, connection)) await timeout.ExecuteNonQueryAsync(cancellationToken);
        var parameters = new SortedSet<string>(StringComparer.Ordinal);
        var metrics = new SortedSet<string>(StringComparer.Ordinal);
        await using (var command = sql.Command($"""
            SELECT DISTINCT 'p', jsonb_object_keys(t.doc->'parameters') FROM trials t WHERE {sql.Where} AND jsonb_typeof(t.doc->'parameters') = 'object'
            UNION
            SELECT DISTINCT 'm', jsonb_object_keys(t.doc->'finalMetrics') FROM trials t WHERE {sql.Where} AND jsonb_typeof(t.doc->'finalMetrics') = 'object'
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                (reader.GetString(0) == "p" ? parameters : metrics).Add(reader.GetString(1));
        await transaction.CommitAsync(cancellationToken);
        return new TrialFieldNames([.. parameters], [.. metrics]);
    }

    private static TrialRow Row(NpgsqlDataReader reader) =>
        new(FromJson<Trial>(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3));

    /// <summary>A <see cref="TrialQuery"/> as SQL over <c>trials t</c>: its filter, its order and their parameters.</summary>
    internal sealed class TrialSql
    {
        // A jsonb scalar's text (a string without its quotes).
        private const string AsText = "#>> '{}'";

        private readonly List<NpgsqlParameter> parameters = [];
        private readonly List<string> where = [];

        private TrialSql() { }

        /// <summary>The filter: a boolean expression over <c>t</c>.</summary>
        public string Where => where.Count == 0 ? "TRUE" : string.Join(" AND ", where);

        /// <summary>The order: a complete ORDER BY list, which ends with the id, so pages never overlap.</summary>
        public string OrderBy { get; private set; } = "";

        public static TrialSql For(TrialQuery query)
        {
            var sql = new TrialSql();
            sql.Filter(query);
            sql.OrderBy = query.OrderBy.Count > 0 ? sql.Order(query.OrderBy) : sql.Order(query.SortBy, query.Descending);
            return sql;
        }

        /// <summary>A command with this query's parameters (each command gets its own copies).</summary>
        public NpgsqlCommand Command(string text, NpgsqlConnection connection)
        {
            var command = new NpgsqlCommand(text, connection);
            foreach (var p in parameters) command.Parameters.Add(p.Clone());
            return command;
        }

        private string Param(object value, NpgsqlDbType type)
        {
            string name = "q" + parameters.Count.ToString(CultureInfo.InvariantCulture);
            parameters.Add(new NpgsqlParameter(name, type) { Value = value });
            return "@" + name;
        }

        private string Text(string value) => Param(value, NpgsqlDbType.Text);

        private string Number(double value) => Param(value, NpgsqlDbType.Double);

        private string Texts(IEnumerable<string> values) => Param(values.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);

        private void Filter(TrialQuery query)
        {
            // Experiment-level filters become the ids of the matching experiments (few rows), so the trials' index on
            // experiment_id serves them.
            var experiment = new List<string>();
            if (query.ExperimentIds.Count > 0) experiment.Add($"lower(x.id) = ANY({Texts(query.ExperimentIds.Select(i => i.ToLowerInvariant()))})");
            if (!string.IsNullOrEmpty(query.Model)) experiment.Add($"lower(x.doc->'spec'->>'model') = {Text(query.Model.ToLowerInvariant())}");
            if (!string.IsNullOrEmpty(query.Strategy)) experiment.Add($"lower(x.doc->'spec'->>'strategy') = {Text(query.Strategy.ToLowerInvariant())}");
            if (experiment.Count > 0)
            {
                // Trials whose experiment is gone can still be asked for by id, unless a model or strategy is asked for too.
                string gone = string.IsNullOrEmpty(query.Model) && string.IsNullOrEmpty(query.Strategy) ? $" || {Texts(query.ExperimentIds)}" : "";
                where.Add($"t.experiment_id = ANY(ARRAY(SELECT x.id FROM experiments x WHERE {string.Join(" AND ", experiment)}){gone})");
            }
            if (query.States.Count > 0) where.Add($"t.state = ANY({Texts(query.States.Distinct().Select(s => CamelName(s)))})");
            if (query.Lifecycles.Count > 0) where.Add($"t.lifecycle = ANY({Texts(query.Lifecycles.Distinct().Select(s => CamelName(s)))})");
            if (query.LoggedOnly) where.Add("t.logged");
            if (!string.IsNullOrWhiteSpace(query.Tag)) where.Add($"t.tags @> ARRAY[{Text(query.Tag.Trim().ToLowerInvariant())}]");
            foreach (var (name, filter) in query.Parameters)
                where.Add(filter.IsRange ? Range(NumberAt("t.doc->'parameters'", name), filter) : $"{StringAt("t.doc->'parameters'", name)} = {Text(filter.Text!)}");
            foreach (var (name, filter) in query.Metrics)
            {
                if (!filter.IsRange) throw new ArgumentException($"The filter on metric '{name}' must be a numeric range, not '{filter.Text}'.", nameof(query));
                where.Add(Range(NumberAt("t.doc->'finalMetrics'", name), filter));
            }
            if (!string.IsNullOrWhiteSpace(query.Text))
            {
                string pattern = Text("%" + EscapeLike(query.Text.Trim().ToLowerInvariant()) + "%");
                where.Add($"(t.text_search LIKE {pattern} OR t.experiment_id = ANY(ARRAY(SELECT x.id FROM experiments x WHERE x.doc->'spec'->>'name' ILIKE {pattern})))");
            }
            foreach (var condition in query.Conditions) where.Add(Condition(condition));
        }

        private string Range(string value, ValueFilter filter)
        {
            var bounds = new List<string> { $"{value} IS NOT NULL" };
            if (filter.Min is { } min) bounds.Add($"{value} >= {Number(min)}");
            if (filter.Max is { } max) bounds.Add($"{value} <= {Number(max)}");
            return "(" + string.Join(" AND ", bounds) + ")";
        }

        // A JSON number as float8, else NULL: other values (strings such as "NaN", null) must not make the cast fail.
        private string NumberAt(string parent, string name)
        {
            string value = $"{parent}->{Text(name)}";
            return $"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)";
        }

        private string StringAt(string parent, string name)
        {
            string value = $"{parent}->{Text(name)}";
            return $"(CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} {AsText} END)";
        }

        // A final metric as the C# double it is: Tracker's JSON writes non-finite values as strings.
        private string MetricValue(string name)
        {
            string value = $"t.doc->'finalMetrics'->{Text(name)}";
            return $"""
                (CASE jsonb_typeof({value}) WHEN 'number' THEN ({value})::float8
                 WHEN 'string' THEN CASE {value} {AsText} WHEN 'NaN' THEN 'NaN'::float8 WHEN 'Infinity' THEN 'Infinity'::float8
                                    WHEN '-Infinity' THEN '-Infinity'::float8 END END)
                """;
        }

        private static string Millis(string timestamp) => $"floor(extract(epoch FROM {timestamp}) * 1000)::float8";

        /// <summary>A field's value: float8 for numeric fields, text for the others; NULL where the trial has none.</summary>
        private string FieldValue(TrialField field) => field.Kind switch
        {
            TrialFieldKind.Metric => MetricValue(field.Name),
            TrialFieldKind.Param => $"coalesce(t.doc->'logged'->'params'->>{Text(field.Name)}, {StringAt("t.doc->'parameters'", field.Name)})",
            TrialFieldKind.RunTag => $"(t.doc->'runTags'->>{Text(field.Name)})",
            _ => field.Attribute switch
            {
                TrialAttribute.StartTime => Millis("coalesce(t.started_at, t.created_at)"),
                TrialAttribute.EndTime => Millis("t.finished_at"),
                // Every run has a name: "" without the tag, as MLflow's search has always read it.
                TrialAttribute.RunName => $"coalesce(t.doc->'runTags'->>{Text(RunRegistry.RunNameTag)}, '')",
                TrialAttribute.Id => "t.id",
                TrialAttribute.UserId => "(t.doc->'logged'->>'userId')",
                TrialAttribute.ArtifactUri => "(t.doc->'logged'->>'artifactUri')",
                TrialAttribute.ExperimentId => "t.experiment_id",
                TrialAttribute.LifecycleStage => "t.lifecycle",
                TrialAttribute.State => "t.state",
                _ => throw new ArgumentOutOfRangeException(nameof(field), field.Attribute, "Unknown trial attribute."),
            },
        };

        /// <summary>
        /// A condition with <see cref="TrialCondition"/>'s meaning: a missing field never matches; numbers compare
        /// as C# doubles (NaN equals nothing and differs from everything, where PostgreSQL orders it above all); LIKE
        /// patterns know only % and _.
        /// </summary>
        private string Condition(TrialCondition condition)
        {
            string value = FieldValue(condition.Field);
            var v = condition.Value;
            if (condition.Field.IsNumeric)
            {
                if (v.Number is not { } n) return "FALSE";
                string number = Number(n);
                string notNaN = $"{value} <> 'NaN'::float8";
                return condition.Operator switch
                {
                    SearchOperator.Equal => $"({value} = {number} AND {notNaN})",
                    SearchOperator.NotEqual => $"({value} <> {number} OR NOT ({notNaN}))",
                    SearchOperator.Greater => $"({value} > {number} AND {notNaN})",
                    SearchOperator.GreaterOrEqual => $"({value} >= {number} AND {notNaN})",
                    SearchOperator.Less => $"({value} < {number} AND {notNaN} AND {number} <> 'NaN'::float8)",
                    SearchOperator.LessOrEqual => $"({value} <= {number} AND {notNaN} AND {number} <> 'NaN'::float8)",
                    _ => "FALSE",
                };
            }
            return condition.Operator switch
            {
                SearchOperator.Equal when v.Text is { } text => $"{value} = {Text(text)}",
                SearchOperator.NotEqual when v.Text is { } text => $"{value} <> {Text(text)}",
                SearchOperator.Like when v.Text is { } pattern => $"{value} LIKE {Text(pattern)} ESCAPE ''",
                SearchOperator.ILike when v.Text is { } pattern => $"{value} ILIKE {Text(pattern)} ESCAPE ''",
                SearchOperator.In when v.Items is { } items => $"{value} = ANY({Texts(items)})",
                SearchOperator.NotIn when v.Items is { } items => $"({value} IS NOT NULL AND NOT ({value} = ANY({Texts(items)})))",
                _ => "FALSE",
            };
        }

        // MLflow's order: by each key, trials without a value (or NaN) after the others either way; then start time, newest first; then id.
        private string Order(IReadOnlyList<TrialOrder> orders)
        {
            var keys = new List<string>();
            foreach (var order in orders)
            {
                string value = FieldValue(order.Field);
                string direction = order.Ascending ? "ASC" : "DESC";
                if (order.Field.IsNumeric)
                {
                    // NULL for NaN too, so that the trials without a value tie, whatever the direction puts NULL first.
                    keys.Add($"({value} IS NULL OR {value} = 'NaN'::float8)");
                    keys.Add($"(CASE WHEN {value} <> 'NaN'::float8 THEN {value} END) {direction}");
                }
                else
                {
                    keys.Add($"({value} IS NULL)");
                    keys.Add($"{value} COLLATE \"C\" {direction}");
                }
            }
            keys.Add("coalesce(t.started_at, t.created_at) DESC");
            keys.Add("t.id COLLATE \"C\"");
            return string.Join(", ", keys);
        }

        // The runs browser's order: trials without a value after the others either way, newest first; then id.
        private string Order(TrialSortField sort, bool descending)
        {
            string direction = descending ? "DESC" : "ASC";
            string keys = sort.Kind switch
            {
                TrialSortKind.Number => $"t.number {direction}",
                TrialSortKind.State => $"t.state COLLATE \"C\" {direction}",
                TrialSortKind.CreatedAt => $"t.created_at {direction}",
                TrialSortKind.FinishedAt => $"(t.finished_at IS NULL), t.finished_at {direction}",
                TrialSortKind.Objective => Finite("t.objective", "(CASE WHEN t.objective IS NULL THEN 1 WHEN t.objective IN ('NaN', 'Infinity', '-Infinity') THEN 2 ELSE 0 END)", direction),
                TrialSortKind.Metric => Metric(sort.Name ?? "", direction),
                TrialSortKind.Parameter => Parameter(sort.Name ?? "", direction),
                _ => throw new ArgumentOutOfRangeException(nameof(sort), sort.Kind, "Unknown sort key."),
            };
            return $"{keys}, t.created_at DESC, t.id COLLATE \"C\"";
        }

        // Finite numbers in order first, then trials without a value, then those with a non-finite one.
        private static string Finite(string value, string group, string direction) =>
            $"{group}, (CASE WHEN {group} = 0 THEN {value} END) {direction}";

        private string Metric(string name, string direction)
        {
            string value = $"t.doc->'finalMetrics'->{Text(name)}";
            return Finite($"({value})::float8",
                $"(CASE jsonb_typeof({value}) WHEN 'number' THEN 0 WHEN 'string' THEN 2 ELSE 1 END)", direction);
        }

        // Numbers before strings (ascending; the reverse descending), each in its own order; trials without the parameter last.
        private string Parameter(string name, string direction)
        {
            string value = $"t.doc->'parameters'->{Text(name)}";
            return $"""
                (CASE WHEN jsonb_typeof({value}) IN ('number', 'string') THEN 0 ELSE 1 END),
                (jsonb_typeof({value}) = 'string') {direction},
                (CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END) {direction},
                (CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} {AsText} END) COLLATE "C" {direction}
                """;
        }

        private static string EscapeLike(string text) =>
            text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
    }
}
