using System.Globalization;
using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Storage.LiteDb;

// The runs browser's queries. Every filter that LiteDB can evaluate exactly is a LiteDB predicate; LiteDB has no compound
// index, so the query planner uses the one cheapest indexed term and evaluates the others on the documents that index
// yields. Sorting by an indexed key streams in index order and stops after the page.
//
// MLflow's conditions on strings are ordinal and case-sensitive, and LIKE must run in linear time, but LiteDB compares
// strings by culture ignoring case and has no such LIKE: those conditions are checked here on the documents LiteDB
// streams out (narrowed first by a case-insensitive LiteDB predicate where one is a superset), as are MLflow's sort keys
// (missing values last, then start time, then id). Such a query reads all its matches, as MLflow's own stores do.
public sealed partial class LiteDbStore
{
    private const int ExportChunk = 500;

    // Dynamic metric/parameter indexes are made on first use; each one costs every later trial write a little, so cap them.
    private const int MaxDynamicIndexes = 24;
    private static readonly string[] IndexedMetrics = [MetricNames.ValF1Macro, MetricNames.ValLoss, MetricNames.ValAccuracy];

    private static readonly BsonValue LowestNumber = new(double.MinValue), HighestNumber = new(double.MaxValue);
    private readonly Lock indexGate = new();
    private HashSet<string>? indexedExpressions;
    private (int Count, long At)? approximateCount;
    private readonly Dictionary<string, (int Count, long At)> approximateSegmentCounts = [];

    private void EnsureQueryIndexes()
    {
        trials.EnsureIndex("number");
        trials.EnsureIndex("objective");
        trials.EnsureIndex("_created");
        trials.EnsureIndex("_finished");
        trials.EnsureIndex("_start");
        trials.EnsureIndex("tags", "$.tags[*]");
        foreach (var metric in IndexedMetrics) EnsureFieldIndex(MetricPath(metric));
        BackfillQueryFields();
    }

    // Trials written before a query field existed (by the old store, or before _start) get them once, when the store opens.
    private void BackfillQueryFields()
    {
        while (true)
        {
            var stale = trials.Find(Query.EQ("_start", BsonValue.Null), limit: WriteBatch).ToList();
            if (stale.Count == 0) return;
            Atomic(() => trials.Update(stale.Select(d => WithQueryFields(d, FromBson<Trial>(d)!))));
        }
    }

    /// <inheritdoc />
    public Task<TrialQueryResult> QueryTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize), page = Math.Max(0, query.Page);
        var experimentsById = ExperimentsById();
        var plan = Plan(query, experimentsById);
        if (plan is null) return Task.FromResult(new TrialQueryResult([], 0, page, size));

        long offset = (long)page * size;
        if (plan.Scans)
        {
            var ids = MatchingIds(plan, cancellationToken);
            var pageIds = ids.Skip((int)Math.Min(offset, int.MaxValue)).Take(size).ToList();
            return Task.FromResult(new TrialQueryResult(LoadRows(pageIds, experimentsById).ToList(), ids.Count, page, size));
        }

        int total = Count(plan.Where);
        var docs = new List<BsonDocument>(size);
        if (offset < total)
        {
            var sizes = SegmentSizes(plan, total);
            for (int i = 0; i < plan.Segments.Count && docs.Count < size; i++)
            {
                if (offset < sizes[i])
                    docs.AddRange(Find(plan, plan.Segments[i], (int)offset, size - docs.Count, sizes[i]));
                offset = Math.Max(0, offset - sizes[i]);
            }
        }
        return Task.FromResult(new TrialQueryResult(docs.Select(d => Row(d, experimentsById)).ToList(), total, page, size));
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TrialRow> ExportTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default) =>
        ExportRows(query, cancellationToken).ToAsyncEnumerable();

    private IEnumerable<TrialRow> ExportRows(TrialQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The ids come first, in order, so that the export is one consistent set even while trials are written; the
        // documents follow in chunks, so no reader stays open while the caller streams (LiteDB transactions are per thread).
        var experimentsById = ExperimentsById();
        var plan = Plan(query, experimentsById);
        if (plan is null) yield break;
        var ids = plan.Scans ? MatchingIds(plan, cancellationToken) : plan.Segments.SelectMany(s => FindIds(plan, s)).ToList();
        foreach (var chunk in ids.Chunk(ExportChunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var row in LoadRows(chunk, experimentsById).ToList()) yield return row;
        }
    }

    /// <inheritdoc />
    public Task<TrialFieldNames> TrialFieldsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var plan = Plan(query, ExperimentsById());
        var parameters = new SortedSet<string>(StringComparer.Ordinal);
        var metrics = new SortedSet<string>(StringComparer.Ordinal);
        if (plan is not null)
        {
            // Without conditions to check here, only the two sub-documents are deserialised.
            var docs = plan.PostFilter.Count == 0
                ? Queryable(plan.Where).Select("{ parameters: $.parameters, finalMetrics: $.finalMetrics }").ToDocuments()
                : Queryable(plan.Where).ToEnumerable().Where(d => plan.PostFilter.All(c => Holds(c, FieldValue(d, c.Field))));
            foreach (var doc in docs)
            {
                if (doc["parameters"].IsDocument) parameters.UnionWith(doc["parameters"].AsDocument.Keys);
                if (doc["finalMetrics"].IsDocument) metrics.UnionWith(doc["finalMetrics"].AsDocument.Keys);
            }
        }
        return Task.FromResult(new TrialFieldNames([.. parameters], [.. metrics]));
    }

    /// <summary>The query plans LiteDB makes for a query's count and for its first page (for tests and diagnostics).</summary>
    public (BsonDocument Count, BsonDocument Page)? Explain(TrialQuery query)
    {
        var plan = Plan(query, ExperimentsById());
        if (plan is null) return null;
        var count = Queryable(plan.Where).Select("{ count: COUNT(*._id) }").GetPlan();
        if (plan.Scans) return (count, Queryable(plan.Where).GetPlan());
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize);
        long offset = (long)Math.Max(0, query.Page) * size;
        return (count, Ordered(plan, plan.Segments[0], offset + size, null).Skip((int)Math.Min(offset, int.MaxValue)).Limit(size).GetPlan());
    }

    /// <summary>The names of the indexes on the trials collection (for tests and diagnostics).</summary>
    internal IReadOnlyList<string> TrialIndexExpressions() =>
        db.GetCollection("$indexes").Find(Query.EQ("collection", "trials")).Select(d => d["expression"].AsString).ToList();

    private Dictionary<string, Experiment> ExperimentsById() => AllExperiments().ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);

    private IEnumerable<TrialRow> LoadRows(IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        var byId = trials.Find(ByIds(ids)).ToDictionary(d => d["_id"].AsString, StringComparer.OrdinalIgnoreCase);
        foreach (var id in ids)
            if (byId.TryGetValue(id, out var doc)) yield return Row(doc, experimentsById);
    }

    private static TrialRow Row(BsonDocument doc, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        var trial = FromBson<Trial>(doc)!;
        return experimentsById.TryGetValue(trial.ExperimentId, out var e)
            ? new TrialRow(trial, e.Spec.Name, e.Spec.Model, e.Spec.Strategy)
            : new TrialRow(trial, "", "", "");
    }

    // ---- Translating a TrialQuery into LiteDB predicates ----

    /// <summary>A part of the ordered result: the trials with a value for the sort key, or those without.</summary>
    private sealed record Segment(IReadOnlyList<BsonExpression> Where, BsonExpression? OrderBy, bool Descending, bool CountDirectly);

    /// <summary>
    /// The base filter (one LiteDB term each), the segments it is read in, and what is checked and sorted here instead:
    /// the conditions LiteDB cannot evaluate exactly, and MLflow's sort keys.
    /// </summary>
    private sealed record QueryPlan(IReadOnlyList<BsonExpression> Where, IReadOnlyList<Segment> Segments,
        IReadOnlyList<TrialCondition> PostFilter, IReadOnlyList<TrialOrder> Orders)
    {
        /// <summary>Whether the matches are read whole, filtered and sorted here, rather than paged by LiteDB.</summary>
        public bool Scans => PostFilter.Count > 0 || Orders.Count > 0;
    }

    /// <summary>The plan, or <c>null</c> when no trial can match (e.g. no experiment of the model).</summary>
    private QueryPlan? Plan(TrialQuery query, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        var where = new List<BsonExpression>();

        // Experiment-level filters become a list of experiment ids: there are few experiments and many trials.
        bool byExperiment = query.ExperimentIds.Count > 0 || !string.IsNullOrEmpty(query.Model) || !string.IsNullOrEmpty(query.Strategy);
        if (byExperiment)
        {
            var ids = experimentsById.Values.Where(e => query.MatchesExperiment(e.Id, e.Spec)).Select(e => e.Id).ToList();
            // Trials whose experiment is gone can still be asked for by id.
            if (string.IsNullOrEmpty(query.Model) && string.IsNullOrEmpty(query.Strategy))
                ids.AddRange(query.ExperimentIds.Where(id => !experimentsById.ContainsKey(id)));
            if (ids.Count == 0) return null;
            where.Add(In("$.experimentId", ids.Select(id => new BsonValue(id))));
        }
        if (query.States.Count > 0)
            where.Add(In("$.state", query.States.Distinct().Select(s => new BsonValue(StateName(s)))));
        if (!string.IsNullOrWhiteSpace(query.Tag))
            where.Add(BsonExpression.Create("$.tags[*] ANY = @0", new BsonValue(query.Tag.Trim())));
        foreach (var (name, filter) in query.Parameters)
            where.Add(ValuePredicate(EnsureFieldIndex(ParameterPath(name)), filter));
        foreach (var (name, filter) in query.Metrics)
        {
            if (!filter.IsRange) throw new ArgumentException($"The filter on metric '{name}' must be a numeric range, not '{filter.Text}'.", nameof(query));
            where.Add(ValuePredicate(EnsureFieldIndex(MetricPath(name)), filter));
        }
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim().ToLowerInvariant();
            var named = experimentsById.Values.Where(e => e.Spec.Name.Contains(text, StringComparison.OrdinalIgnoreCase)).Select(e => new BsonValue(e.Id)).ToList();
            where.Add(named.Count == 0
                ? BsonExpression.Create("INDEXOF($._text, @0) >= 0", new BsonValue(text))
                : BsonExpression.Create("(INDEXOF($._text, @0) >= 0 OR $.experimentId IN @1)", new BsonValue(text), new BsonArray(named)));
        }
        if (query.Lifecycles.Count > 0)
        {
            var stages = new BsonArray(query.Lifecycles.Distinct().Select(s => new BsonValue(StageName(s))));
            // Trials written before lifecycles existed have none: they are active.
            where.Add(query.Lifecycles.Contains(LifecycleStage.Active)
                ? BsonExpression.Create("($.lifecycleStage IN @0 OR $.lifecycleStage = null)", stages)
                : BsonExpression.Create("$.lifecycleStage IN @0", stages));
        }
        if (query.LoggedOnly) where.Add(BsonExpression.Create("$.logged != null"));

        var postFilter = new List<TrialCondition>();
        foreach (var condition in query.Conditions)
        {
            var (term, exact) = ConditionPredicate(condition);
            if (term is not null) where.Add(term);
            if (!exact) postFilter.Add(condition);
        }

        var segments = postFilter.Count > 0 || query.OrderBy.Count > 0 ? [] : Segments(query);
        return new QueryPlan(where, segments, postFilter, query.OrderBy);
    }

    private IReadOnlyList<Segment> Segments(TrialQuery query)
    {
        bool desc = query.Descending;
        var sort = query.SortBy;
        // Trials without a value come last in either direction, newest first; LiteDB would put nulls first when ascending.
        var newestFirst = BsonExpression.Create("$._created");
        switch (sort.Kind)
        {
            case TrialSortKind.Number: return [new([], BsonExpression.Create("$.number"), desc, false)];
            case TrialSortKind.State: return [new([], BsonExpression.Create("$.state"), desc, false)];
            case TrialSortKind.CreatedAt: return [new([], newestFirst, desc, false)];
            case TrialSortKind.FinishedAt:
                return
                [
                    new([BsonExpression.Create("$._finished > null")], BsonExpression.Create("$._finished"), desc, false),
                    new([BsonExpression.Create("$._finished = null")], newestFirst, true, true),
                ];
            case TrialSortKind.Parameter:
            {
                var path = EnsureFieldIndex(ParameterPath(sort.Name ?? ""));
                return
                [
                    new([BsonExpression.Create($"{path} > null")], BsonExpression.Create(path), desc, false),
                    new([BsonExpression.Create($"{path} = null")], newestFirst, true, true),
                ];
            }
            default: // objective and metrics: finite numbers first; missing values and non-finite ones (stored as "NaN" etc.) after
            {
                var path = sort.Kind == TrialSortKind.Objective ? "$.objective" : EnsureFieldIndex(MetricPath(sort.Name ?? ""));
                return
                [
                    new([BsonExpression.Create($"{path} BETWEEN @0 AND @1", LowestNumber, HighestNumber)], BsonExpression.Create(path), desc, false),
                    new([BsonExpression.Create($"{path} = null")], newestFirst, true, true),
                    new([BsonExpression.Create($"{path} > @0", HighestNumber)], newestFirst, true, true),
                ];
            }
        }
    }

    // The first segment's size is what is left after the others, which hold the trials without a value: counting those
    // usually reads few documents, where counting the first would read nearly all of them. Each is counted through
    // whichever index reads fewer: the filters' (their matches) or the segment's own (every trial without a value).
    private int[] SegmentSizes(QueryPlan plan, int total)
    {
        var sizes = new int[plan.Segments.Count];
        for (int i = 1; i < sizes.Length; i++)
        {
            var segment = plan.Segments[i].Where;
            bool viaSegment = plan.Where.Count > 0 && ApproximateCount(segment) < total;
            sizes[i] = Count([.. segment, .. viaSegment ? plan.Where.Select(NotForIndex) : plan.Where]);
        }
        sizes[0] = Math.Max(0, total - sizes.Skip(1).Sum());
        return sizes;
    }

    private List<BsonDocument> Find(QueryPlan plan, Segment segment, int offset, int limit, int matches) =>
        Ordered(plan, segment, offset + limit, matches).Skip(offset).Limit(limit).ToList();

    private List<string> FindIds(QueryPlan plan, Segment segment) =>
        Ordered(plan, segment, int.MaxValue, null).Select("{ id: $._id }").ToDocuments().Select(d => d["id"].AsString).ToList();

    /// <summary>
    /// A segment's query in its order. LiteDB picks the index of the cheapest-looking filter and then sorts every match;
    /// when many trials match, walking the sort key's index and filtering until the page is full reads far fewer
    /// documents, so then the filters are written so that LiteDB cannot pick them (they still filter).
    /// </summary>
    private ILiteQueryable<BsonDocument> Ordered(QueryPlan plan, Segment segment, long needed, int? matches)
    {
        IEnumerable<BsonExpression> where = [.. plan.Where, .. segment.Where];
        if (segment.OrderBy is { } order && plan.Where.Count > 0 && IsIndexed(order.Source)
            && PreferSortIndex(needed, matches ?? Count([.. plan.Where, .. segment.Where])))
            where = where.Select(w => w.Source.StartsWith(order.Source + " ", StringComparison.Ordinal) ? w : NotForIndex(w));
        var q = Queryable(where);
        if (segment.OrderBy is { } by) q = q.OrderBy(by, segment.Descending ? Query.Descending : Query.Ascending);
        return q;
    }

    // Reading in sort-index order touches about needed × all / matches documents until the page is full; reading the
    // filter's matches touches each once but then sorts them all, which costs LiteDB a few times more per document.
    private bool PreferSortIndex(long needed, int matches) =>
        matches > 0 && Math.Min(needed, matches) * (double)ApproximateTrialCount() / matches < 3.0 * matches;

    // An OR term is never used to pick an index, but filters the same.
    private static BsonExpression NotForIndex(BsonExpression term) =>
        BsonExpression.Create($"(({term.Source}) OR false)", term.Parameters);

    // How many trials of the whole store lack a sort key's value (good enough to choose a plan with: at most 30 s old).
    private int ApproximateCount(IReadOnlyList<BsonExpression> segment)
    {
        string key = string.Join(" AND ", segment.Select(s => s.Source));
        lock (indexGate)
        {
            if (approximateSegmentCounts.TryGetValue(key, out var known) && Environment.TickCount64 - known.At <= 30_000) return known.Count;
        }
        int count = Count(segment);
        lock (indexGate) approximateSegmentCounts[key] = (count, Environment.TickCount64);
        return count;
    }

    // Good enough to choose a plan with: at most 30 s old, and renewed after every write of trials.
    private int ApproximateTrialCount()
    {
        lock (indexGate)
        {
            if (approximateCount is not { } known || Environment.TickCount64 - known.At > 30_000)
                approximateCount = known = (trials.Count(), Environment.TickCount64);
            return known.Count;
        }
    }

    private void ForgetTrialCount()
    {
        lock (indexGate) approximateCount = null;
    }

    private ILiteQueryable<BsonDocument> Queryable(IEnumerable<BsonExpression> where)
    {
        var q = trials.Query();
        foreach (var w in where) q = q.Where(w);
        return q;
    }

    // Counting reads every matching document, unless the only filter is on a root field whose index holds the answer: then
    // LiteDB reads the index keys alone (its plan's "lookup" is "index").
    private int Count(IReadOnlyList<BsonExpression> where)
    {
        if (where.Count == 0) return trials.Count();
        if (where is [{ Fields.Count: 1 } term] && "$." + term.Fields.First() is var path
            && term.Source.StartsWith(path + " ", StringComparison.Ordinal) && IsIndexed(path))
            return Queryable(where).Select(path).ToDocuments().Count();
        return Queryable(where).Count();
    }

    private static BsonExpression In(string path, IEnumerable<BsonValue> values)
    {
        var array = new BsonArray(values);
        return array.Count == 1 ? BsonExpression.Create($"{path} = @0", array[0]) : BsonExpression.Create($"{path} IN @0", array);
    }

    private static BsonExpression ValuePredicate(string path, ValueFilter filter) => filter.IsRange
        ? BsonExpression.Create($"{path} BETWEEN @0 AND @1", filter.Min is { } lo ? new BsonValue(lo) : LowestNumber, filter.Max is { } hi ? new BsonValue(hi) : HighestNumber)
        : BsonExpression.Create($"{path} = @0", new BsonValue(filter.Text));

    private static string StageName(LifecycleStage stage) => stage.ToString().ToLowerInvariant();

    /// <summary>The LiteDB path of a final metric; names that are not plain words are quoted.</summary>
    internal static string MetricPath(string name) => FieldPath("$.finalMetrics", name);

    /// <summary>The LiteDB path of a searched parameter.</summary>
    internal static string ParameterPath(string name) => FieldPath("$.parameters", name);

    // Parsed once so that the text is LiteDB's own normal form: the planner matches an index to a term by that text.
    private static string FieldPath(string parent, string name) =>
        BsonExpression.Create($"{parent}.[{LiteDB.JsonSerializer.Serialize(new BsonValue(name))}]").Source;

    private bool IsIndexed(string expression)
    {
        lock (indexGate)
        {
            indexedExpressions ??= [.. TrialIndexExpressions()];
            return indexedExpressions.Contains(expression);
        }
    }

    // An index per metric or parameter that someone filters or sorts by, made on first use (once; it is kept in the file).
    private string EnsureFieldIndex(string path)
    {
        lock (indexGate)
        {
            indexedExpressions ??= [.. TrialIndexExpressions()];
            if (indexedExpressions.Contains(path)) return path;
            if (indexedExpressions.Count(e => e.StartsWith("$.finalMetrics", StringComparison.Ordinal) || e.StartsWith("$.parameters", StringComparison.Ordinal))
                >= MaxDynamicIndexes + IndexedMetrics.Length) return path;
            // Not under the write lock: writers take indexGate while holding it (ForgetTrialCount); LiteDB serialises this itself.
            trials.EnsureIndex(IndexName(path), path);
            indexedExpressions.Add(path);
            return path;
        }
    }

    // Index names are words of at most 32 characters; a hash keeps different paths apart.
    private static string IndexName(string path)
    {
        var word = new string(path.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()).Trim('_');
        uint hash = 2166136261; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (char c in path) hash = (hash ^ c) * 16777619;
        return $"x_{word[..Math.Min(word.Length, 21)]}_{hash:x8}";
    }

    // ---- Conditions and sort keys of MLflow's run search (TrialQuery.Conditions, TrialQuery.OrderBy) ----

    /// <summary>
    /// The LiteDB term for a condition, and whether it is exact. Numeric conditions are exact; string ones are at best a
    /// case-insensitive superset (or no term at all) and are checked again by <see cref="Holds"/>.
    /// </summary>
    private static (BsonExpression? Term, bool Exact) ConditionPredicate(TrialCondition condition)
    {
        var field = condition.Field;
        if (field.IsNumeric)
        {
            if (condition.Value.Number is not { } number
                || condition.Operator is not (SearchOperator.Equal or SearchOperator.NotEqual or SearchOperator.Greater
                    or SearchOperator.GreaterOrEqual or SearchOperator.Less or SearchOperator.LessOrEqual))
                return (BsonExpression.Create("false"), true);
            if (!double.IsFinite(number)) return (null, false);
            string path = field.Kind == TrialFieldKind.Metric ? MetricPath(field.Name)
                : field.Attribute == TrialAttribute.StartTime ? "$._start" : "$._end";
            return (NumericPredicate(path, condition.Operator, number), true);
        }
        string? stringPath = StringPath(field);
        if (stringPath is null) return (null, false);
        return condition.Operator switch
        {
            SearchOperator.Equal when condition.Value.Text is { } text => (BsonExpression.Create($"{stringPath} = @0", text), false),
            SearchOperator.In when condition.Value.Items is { } items =>
                (BsonExpression.Create($"{stringPath} IN @0", new BsonArray(items.Select(i => new BsonValue(i)))), false),
            _ => (null, false),
        };
    }

    // Finite numbers are BSON numbers, which sort between null and strings; NaN and the infinities are stored as the
    // strings "NaN", "Infinity" and "-Infinity" (Tracker's JSON convention), so they are named one by one.
    private static BsonExpression NumericPredicate(string path, SearchOperator op, double number)
    {
        string finite = op switch
        {
            SearchOperator.Equal => $"{path} = @0",
            SearchOperator.NotEqual => $"({path} BETWEEN @1 AND @2 AND {path} != @0)",
            SearchOperator.Greater => $"({path} > @0 AND {path} <= @2)",
            SearchOperator.GreaterOrEqual => $"({path} >= @0 AND {path} <= @2)",
            SearchOperator.Less => $"({path} < @0 AND {path} >= @1)",
            _ => $"({path} <= @0 AND {path} >= @1)",
        };
        var terms = new List<string> { finite };
        var args = new List<BsonValue> { number, LowestNumber, HighestNumber };
        foreach (double special in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            if (!op.Holds(special, number)) continue;
            terms.Add($"{path} = @{args.Count}");
            args.Add(special.ToString(CultureInfo.InvariantCulture));
        }
        return BsonExpression.Create(terms.Count == 1 ? finite : $"({string.Join(" OR ", terms)})", [.. args]);
    }

    // Fields whose stored value is the field itself; run_name ("" when missing) and lifecycle_stage (active when
    // missing) have defaults, so a LiteDB term on them would not be a superset.
    private static string? StringPath(TrialField field) => field.Kind switch
    {
        TrialFieldKind.Param => FieldPath("$._params", field.Name),
        TrialFieldKind.RunTag => FieldPath("$.runTags", field.Name),
        TrialFieldKind.Attribute => field.Attribute switch
        {
            TrialAttribute.Id => "$._id",
            TrialAttribute.ExperimentId => "$.experimentId",
            TrialAttribute.State => "$.state",
            TrialAttribute.UserId => "$.logged.userId",
            TrialAttribute.ArtifactUri => "$.logged.artifactUri",
            _ => null,
        },
        _ => null,
    };

    /// <summary>A field's value in a trial document: a double, a string, or <c>null</c> when the trial has none.</summary>
    private static object? FieldValue(BsonDocument doc, TrialField field)
    {
        switch (field.Kind)
        {
            case TrialFieldKind.Metric:
                var metric = Member(doc["finalMetrics"], field.Name);
                return metric.IsNumber ? metric.AsDouble
                    : metric.IsString && double.TryParse(metric.AsString, NumberStyles.Float, CultureInfo.InvariantCulture, out var special) ? special
                    : null;
            case TrialFieldKind.Param: return Text(Member(doc["_params"], field.Name));
            case TrialFieldKind.RunTag: return Text(Member(doc["runTags"], field.Name));
        }
        return field.Attribute switch
        {
            TrialAttribute.StartTime => doc["_start"].IsNumber ? doc["_start"].AsDouble : null,
            TrialAttribute.EndTime => doc["_end"].IsNumber ? doc["_end"].AsDouble : null,
            TrialAttribute.RunName => Text(Member(doc["runTags"], RunRegistry.RunNameTag)) ?? "",
            TrialAttribute.Id => Text(doc["_id"]),
            TrialAttribute.UserId => Text(Member(doc["logged"], "userId")),
            TrialAttribute.ArtifactUri => Text(Member(doc["logged"], "artifactUri")),
            TrialAttribute.ExperimentId => Text(doc["experimentId"]),
            TrialAttribute.LifecycleStage => Text(doc["lifecycleStage"]) ?? StageName(LifecycleStage.Active),
            TrialAttribute.State => Text(doc["state"]),
            _ => null,
        };
    }

    private static BsonValue Member(BsonValue parent, string name) => parent.IsDocument ? parent.AsDocument[name] : BsonValue.Null;

    private static string? Text(BsonValue value) => value.IsString ? value.AsString : null;

    /// <summary>
    /// Whether <paramref name="actual"/> satisfies <paramref name="condition"/>, as <see cref="TrialQuery.Conditions"/> define it,
    /// with a LIKE that runs in linear time: a missing field never matches, not even <c>!=</c>.
    /// </summary>
    private static bool Holds(TrialCondition condition, object? actual)
    {
        var value = condition.Value;
        return actual switch
        {
            null => false,
            string text => condition.Operator switch
            {
                SearchOperator.Equal => value.Text is { } v && string.Equals(text, v, StringComparison.Ordinal),
                SearchOperator.NotEqual => value.Text is { } v && !string.Equals(text, v, StringComparison.Ordinal),
                SearchOperator.Like => value.Text is { } p && LikePattern.Matches(text, p, ignoreCase: false),
                SearchOperator.ILike => value.Text is { } p && LikePattern.Matches(text, p, ignoreCase: true),
                SearchOperator.In => value.Items?.Contains(text, StringComparer.Ordinal) == true,
                SearchOperator.NotIn => value.Items is { } items && !items.Contains(text, StringComparer.Ordinal),
                _ => false,
            },
            double number => value.Number is { } n && condition.Operator.Holds(number, n),
            _ => false,
        };
    }

    /// <summary>The ids of every match of a scanning plan, in MLflow's order; only the ids and sort keys are kept.</summary>
    private List<string> MatchingIds(QueryPlan plan, CancellationToken cancellationToken)
    {
        var matches = new List<(string Id, object?[] Keys, double Start)>();
        foreach (var doc in Queryable(plan.Where).ToEnumerable())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!plan.PostFilter.All(c => Holds(c, FieldValue(doc, c.Field)))) continue;
            matches.Add((doc["_id"].AsString, plan.Orders.Select(o => FieldValue(doc, o.Field)).ToArray(), doc["_start"].AsDouble));
        }
        matches.Sort((a, b) =>
        {
            for (int i = 0; i < plan.Orders.Count; i++)
            {
                int c = CompareKeys(a.Keys[i], b.Keys[i], plan.Orders[i].Ascending);
                if (c != 0) return c;
            }
            int byStart = b.Start.CompareTo(a.Start);
            return byStart != 0 ? byStart : string.CompareOrdinal(a.Id, b.Id);
        });
        return matches.Select(m => m.Id).ToList();
    }

    // As SearchOrder.Compare: missing values and NaN last in either direction; numbers numerically, strings ordinally.
    private static int CompareKeys(object? a, object? b, bool ascending)
    {
        bool aMissing = a is null or double.NaN, bMissing = b is null or double.NaN;
        if (aMissing || bMissing) return aMissing == bMissing ? 0 : aMissing ? 1 : -1;
        int order = (a, b) switch
        {
            (string sa, string sb) => string.CompareOrdinal(sa, sb),
            (string, _) => 1,
            (_, string) => -1,
            _ => ((double)a!).CompareTo((double)b!),
        };
        return ascending ? order : -order;
    }
}
