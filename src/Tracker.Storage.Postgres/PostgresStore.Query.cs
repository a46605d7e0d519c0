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
        """;

    private const string RowJoin = "LEFT JOIN experiments e ON e.id = t.experiment_id";

    /// <inheritdoc />
    /// <remarks>
    /// The page's ids come first, from the filter and order alone (an index, where one serves them), and only its rows'
    /// documents are read: the rows that an offset skips cost no more than their index entries or sort keys. A page
    /// nearer the end than the start is read from the end, in the reverse order.
    /// </remarks>
    public async Task<TrialQueryResult> QueryTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize), page = Math.Max(0, query.Page);
        var sql = TrialSql.For(query);
        await EnsureValueIndexesAsync(sql.Indexes, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var timeout = new NpgsqlCommand(QueryTimeout, connection)) await timeout.ExecuteNonQueryAsync(cancellationToken);
        await sql.ResolveAsync(connection, cancellationToken);

        int total;
        await using (var count = sql.Command($"SELECT count(*) FROM trials t WHERE {sql.Where}", connection))
            total = (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
        var rows = new List<TrialRow>();
        long start = (long)page * size;
        if (start < total)
        {
            long end = Math.Min(start + size, total);
            // The same transaction's snapshot gave the total, and the order is total (it ends with the id), so the rows
            // [start, end) are the rows [total - end, total - start) of the reverse order, reversed.
            bool fromEnd = total - start < end;
            await using var command = sql.Command($"""
                SELECT {RowColumns}
                FROM unnest(ARRAY(SELECT t.id FROM trials t WHERE {sql.Where} ORDER BY {(fromEnd ? sql.ReverseOrderBy : sql.OrderBy)} LIMIT @limit OFFSET @offset))
                    WITH ORDINALITY AS p(id, n)
                JOIN trials t ON t.id = p.id {RowJoin}
                ORDER BY p.n {(fromEnd ? "DESC" : "ASC")}
                """, connection);
            command.Parameters.AddWithValue("limit", end - start);
            command.Parameters.AddWithValue("offset", fromEnd ? total - end : start);
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
        await EnsureValueIndexesAsync(sql.Indexes, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using (var timeout = new NpgsqlCommand(QueryTimeout, connection)) await timeout.ExecuteNonQueryAsync(cancellationToken);
        await sql.ResolveAsync(connection, cancellationToken);
        await using (var declare = sql.Command($"DECLARE trial_export NO SCROLL CURSOR FOR SELECT {RowColumns} FROM trials t {RowJoin} WHERE {sql.Where} ORDER BY {sql.OrderBy}", connection))
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
        await sql.ResolveAsync(connection, cancellationToken);
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

        // The longest prefix of a string parameter that its index holds (a btree entry must stay under about 2.7 kB).
        private const int IndexedTextLength = 200;

        private readonly List<NpgsqlParameter> parameters = [];
        private readonly List<string> where = [];
        private readonly List<(string Key, bool Descending)> order = [];
        private readonly List<ValueIndexNeed> indexes = [];
        private string? experimentLookup;
        private NpgsqlParameter? experimentIds;

        private TrialSql() { }

        /// <summary>
        /// Resolves the experiment-level filters to the ids of the matching experiments, in the caller's transaction,
        /// before any other command of this query.
        /// </summary>
        public async Task ResolveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            if (experimentLookup is null) return;
            await using var lookup = Command(experimentLookup, connection);
            experimentIds!.Value = (string[])(await lookup.ExecuteScalarAsync(cancellationToken))!;
        }

        /// <summary>The filter: a boolean expression over <c>t</c>.</summary>
        public string Where => where.Count == 0 ? "TRUE" : string.Join(" AND ", where);

        /// <summary>The order: a complete ORDER BY list, which ends with the id, so pages never overlap.</summary>
        public string OrderBy => string.Join(", ", order.Select(k => $"{k.Key} {(k.Descending ? "DESC" : "ASC")}"));

        /// <summary>
        /// <see cref="OrderBy"/> reversed: every key in the other direction, NULLs too (each key keeps PostgreSQL's
        /// default, NULLs first descending and last ascending, so reversing the direction reverses both).
        /// </summary>
        public string ReverseOrderBy => string.Join(", ", order.Select(k => $"{k.Key} {(k.Descending ? "ASC" : "DESC")}"));

        /// <summary>The metric and parameter indexes that would serve this query (<see cref="EnsureValueIndexesAsync"/>).</summary>
        public IReadOnlyList<ValueIndexNeed> Indexes => indexes;

        public static TrialSql For(TrialQuery query)
        {
            var sql = new TrialSql();
            sql.Filter(query);
            if (query.OrderBy.Count > 0) sql.Order(query.OrderBy);
            else sql.Order(query.SortBy, query.Descending);
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
            // Experiment-level filters become the ids of the matching experiments (few rows), looked up before the query
            // (ResolveAsync), so that the trials' index on experiment_id serves them and the planner knows how many match.
            var experiment = new List<string>();
            if (query.ExperimentIds.Count > 0) experiment.Add($"lower(x.id) = ANY({Texts(query.ExperimentIds.Select(i => i.ToLowerInvariant()))})");
            if (!string.IsNullOrEmpty(query.Model)) experiment.Add($"lower(x.doc->'spec'->>'model') = {Text(query.Model.ToLowerInvariant())}");
            if (!string.IsNullOrEmpty(query.Strategy)) experiment.Add($"lower(x.doc->'spec'->>'strategy') = {Text(query.Strategy.ToLowerInvariant())}");
            if (experiment.Count > 0)
            {
                // Trials whose experiment is gone can still be asked for by id, unless a model or strategy is asked for too.
                string gone = string.IsNullOrEmpty(query.Model) && string.IsNullOrEmpty(query.Strategy) ? $" || {Texts(query.ExperimentIds)}" : "";
                experimentLookup = $"SELECT ARRAY(SELECT x.id FROM experiments x WHERE {string.Join(" AND ", experiment)}){gone}";
                // Filled in by ResolveAsync: as a list of ids the planner knows how many trials the filter keeps.
                experimentIds = new NpgsqlParameter("experiments", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = Array.Empty<string>() };
                parameters.Add(experimentIds);
                where.Add("t.experiment_id = ANY(@experiments)");
            }
            if (query.States.Count > 0) where.Add($"t.state = ANY({Texts(query.States.Distinct().Select(s => CamelName(s)))})");
            if (query.Lifecycles.Count > 0) where.Add($"t.lifecycle = ANY({Texts(query.Lifecycles.Distinct().Select(s => CamelName(s)))})");
            if (query.LoggedOnly) where.Add("t.logged");
            if (!string.IsNullOrWhiteSpace(query.Tag)) where.Add($"t.tags @> ARRAY[{Text(query.Tag.Trim().ToLowerInvariant())}]");
            foreach (var (name, filter) in query.Parameters)
            {
                // Terms of the ascending parameter index: its leading type group, then the number or the text.
                var keys = new ParameterKeys("t.", name, descending: false);
                Need(ParameterIndex(name, descending: false));
                where.Add(filter.IsRange
                    ? Range($"{keys.Group} = 0", keys.Number, filter)
                    : $"({keys.Group} = 1 AND {keys.Number} IS NULL AND {keys.Prefix} = left({Literal(filter.Text!)}, {IndexedTextLength}) AND {keys.Text} = {Literal(filter.Text!)})");
            }
            foreach (var (name, filter) in query.Metrics)
            {
                if (!filter.IsRange) throw new ArgumentException($"The filter on metric '{name}' must be a numeric range, not '{filter.Text}'.", nameof(query));
                // Either direction's metric index: both lead with the type group, then the number.
                var keys = new MetricKeys("t.", name);
                Need(MetricIndex(name, descending: true), MetricIndex(name, descending: false));
                where.Add(Range($"{keys.Group} = 0", keys.Number, filter));
            }
            if (!string.IsNullOrWhiteSpace(query.Text))
            {
                string pattern = Text("%" + EscapeLike(query.Text.Trim().ToLowerInvariant()) + "%");
                where.Add($"(t.text_search LIKE {pattern} OR t.experiment_id = ANY(ARRAY(SELECT x.id FROM experiments x WHERE x.doc->'spec'->>'name' ILIKE {pattern})))");
            }
            foreach (var condition in query.Conditions) where.Add(Condition(condition));
        }

        // A range on a number that is not NULL where hasNumber holds.
        private string Range(string hasNumber, string value, ValueFilter filter)
        {
            var bounds = new List<string> { hasNumber };
            if (filter.Min is { } min) bounds.Add($"{value} >= {Number(min)}");
            if (filter.Max is { } max) bounds.Add($"{value} <= {Number(max)}");
            return "(" + string.Join(" AND ", bounds) + ")";
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

        // The run status of t.state, as RunStatusNames.Of names it.
        private static readonly string RunStatusCase = "(CASE t.state "
            + string.Concat(Enum.GetValues<Tracker.Abstractions.TrialState>().Select(s => $"WHEN '{CamelName(s)}' THEN '{RunStatusNames.Of(s)}' "))
            + "END)";

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
                TrialAttribute.RunStatus => RunStatusCase,
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

        private void Key(string key, bool descending) => order.Add((key, descending));

        private void Need(params ValueIndex[] choices) => indexes.Add(new ValueIndexNeed(choices));

        // MLflow's order: by each key, trials without a value (or NaN) after the others either way; then start time, newest first; then id.
        private void Order(IReadOnlyList<TrialOrder> orders)
        {
            foreach (var sort in orders)
            {
                string value = FieldValue(sort.Field);
                bool descending = !sort.Ascending;
                if (sort.Field.IsNumeric)
                {
                    // NULL for NaN too, so that the trials without a value tie, whatever the direction puts NULL first.
                    Key($"({value} IS NULL OR {value} = 'NaN'::float8)", false);
                    Key($"(CASE WHEN {value} <> 'NaN'::float8 THEN {value} END)", descending);
                }
                else
                {
                    Key($"({value} IS NULL)", false);
                    Key($"{value} COLLATE \"C\"", descending);
                }
            }
            Key("coalesce(t.started_at, t.created_at)", true);
            Key("t.id COLLATE \"C\"", false);
        }

        // The runs browser's order: trials without a value after the others either way, newest first; then id.
        private void Order(TrialSortField sort, bool descending)
        {
            switch (sort.Kind)
            {
                case TrialSortKind.Number:
                    Key("t.number", descending);
                    break;
                case TrialSortKind.State:
                    Key("t.state COLLATE \"C\"", descending);
                    break;
                case TrialSortKind.CreatedAt:
                    Key("t.created_at", descending);
                    break;
                case TrialSortKind.FinishedAt:
                    Key("(t.finished_at IS NULL)", false);
                    Key("t.finished_at", descending);
                    break;
                case TrialSortKind.Objective:
                    // Finite numbers in order first, then trials without a value, then those with a non-finite one.
                    const string group = "(CASE WHEN t.objective IS NULL THEN 1 WHEN t.objective IN ('NaN', 'Infinity', '-Infinity') THEN 2 ELSE 0 END)";
                    Key(group, false);
                    Key($"(CASE WHEN {group} = 0 THEN t.objective END)", descending);
                    break;
                case TrialSortKind.Metric:
                {
                    // The keys of the metric's index for this direction, in its order.
                    string name = sort.Name ?? "";
                    var keys = new MetricKeys("t.", name);
                    Need(MetricIndex(name, descending));
                    Key(keys.Group, false);
                    Key(keys.Number, descending);
                    break;
                }
                case TrialSortKind.Parameter:
                {
                    // The keys of the parameter's index for this direction, then the whole text (beyond the indexed prefix).
                    string name = sort.Name ?? "";
                    var keys = new ParameterKeys("t.", name, descending);
                    Need(ParameterIndex(name, descending));
                    Key(keys.Group, false);
                    Key(keys.Number, descending);
                    Key(keys.Prefix, descending);
                    Key(keys.Text, descending);
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(sort), sort.Kind, "Unknown sort key.");
            }
            Key("t.created_at", true);
            Key("t.id COLLATE \"C\"", false);
        }

        // The index of a metric for one direction: the keys of the metric sort with the tie-breakers, so that it gives
        // whole pages in order (read backwards, the reverse order), and serves ranges through its leading group.
        private static ValueIndex MetricIndex(string name, bool descending)
        {
            var keys = new MetricKeys("", name);
            return new(ValueIndexName(descending ? "md" : "ma", name),
                $"{keys.Group}, {keys.Number} {Direction(descending)}, created_at DESC, id COLLATE \"C\"");
        }

        // The index of a parameter for one direction: its type group, number and text prefix; equal prefixes (in practice
        // equal values) are ordered after the index, by the whole text and the tie-breakers.
        private static ValueIndex ParameterIndex(string name, bool descending)
        {
            var keys = new ParameterKeys("", name, descending);
            return new(ValueIndexName(descending ? "pd" : "pa", name),
                $"{keys.Group}, {keys.Number} {Direction(descending)}, {keys.Prefix} {Direction(descending)}");
        }

        private static string Direction(bool descending) => descending ? "DESC" : "ASC";

        // A string as an SQL literal, in the expressions that must equal an index's (an index is defined by constants,
        // and a query's parameters are not). The E'' form reads the same whatever standard_conforming_strings says.
        private static string Literal(string value) =>
            "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

        /// <summary>
        /// A final metric's sort keys over the row <c>{row}doc</c>: <see cref="Group"/>, 0 for a number, 1 without a
        /// value, 2 for a non-finite value (which Tracker's JSON writes as a string); <see cref="Number"/>, the number or NULL.
        /// </summary>
        private readonly struct MetricKeys(string row, string name)
        {
            private readonly string value = $"{row}doc->'finalMetrics'->{Literal(name)}";

            public string Group => $"(CASE jsonb_typeof({value}) WHEN 'number' THEN 0 WHEN 'string' THEN 2 ELSE 1 END)";

            public string Number => $"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)";
        }

        /// <summary>
        /// A parameter's sort keys over the row <c>{row}doc</c>. <see cref="Group"/>: numbers before strings ascending,
        /// strings before numbers descending, trials without the parameter last (2); then the number, the text's first
        /// <see cref="IndexedTextLength"/> characters and the whole text, each NULL for the other type ("C" order).
        /// </summary>
        private readonly struct ParameterKeys(string row, string name, bool descending)
        {
            private readonly string value = $"{row}doc->'parameters'->{Literal(name)}";

            public string Group => descending
                ? $"(CASE jsonb_typeof({value}) WHEN 'string' THEN 0 WHEN 'number' THEN 1 ELSE 2 END)"
                : $"(CASE jsonb_typeof({value}) WHEN 'number' THEN 0 WHEN 'string' THEN 1 ELSE 2 END)";

            public string Number => $"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)";

            public string Text => $"((CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} {AsText} END) COLLATE \"C\")";

            public string Prefix => $"(left(CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} {AsText} END, {IndexedTextLength}) COLLATE \"C\")";
        }

        private static string EscapeLike(string text) =>
            text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
    }
}
