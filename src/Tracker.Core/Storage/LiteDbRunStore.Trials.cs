using System.Text.Json;
using LiteDB;
using Tracker.Core.Experiments;
using TrialState = Tracker.Abstractions.TrialState;

namespace Tracker.Core.Storage;

// The runs browser's side of the store: annotation-preserving trial writes and the trial query.
//
// Each trial document carries, beside the record's own fields, a few denormalised query fields that the record never
// sees (FromBson drops every key that starts with '_'):
//   _created, _finished  the timestamps as BSON dates in UTC; the record's ISO strings keep their offset, which sorts wrong
//   _text                lower-cased id, notes, tags and string parameter values, for the free-text filter
// Every filter is a LiteDB predicate; LiteDB has no compound index, so the query planner uses the one cheapest indexed
// term and evaluates the others on the documents that index yields. Sorting by an indexed key streams in index order and
// stops after the page.
public sealed partial class LiteDbRunStore
{
    private const int WriteBatch = 1000;
    private const int ExportChunk = 500;

    // Dynamic metric/parameter indexes are made on first use; each one costs every later trial write a little, so cap them.
    private const int MaxDynamicIndexes = 24;
    private static readonly string[] IndexedMetrics = [MetricNames.ValF1Macro, MetricNames.ValLoss, MetricNames.ValAccuracy];

    private static readonly BsonValue LowestNumber = new(double.MinValue), HighestNumber = new(double.MaxValue);
    private readonly Lock trialWrites = new();
    private readonly Lock indexGate = new();
    private HashSet<string>? indexedExpressions;

    private void EnsureQueryIndexes()
    {
        trials.EnsureIndex("number");
        trials.EnsureIndex("objective");
        trials.EnsureIndex("_created");
        trials.EnsureIndex("_finished");
        trials.EnsureIndex("tags", "$.tags[*]");
        foreach (var metric in IndexedMetrics) EnsureFieldIndex(MetricPath(metric));
        BackfillQueryFields();
    }

    // Trials written before the query fields existed get them once, when the store opens.
    private void BackfillQueryFields()
    {
        while (true)
        {
            var stale = trials.Find(Query.EQ("_created", BsonValue.Null), limit: WriteBatch).ToList();
            if (stale.Count == 0) return;
            trials.Update(stale.Select(d => WithQueryFields(d, FromBson<Trial>(d)!)));
        }
    }

    /// <inheritdoc />
    public void SaveTrials(IEnumerable<Trial> trialsToSave)
    {
        foreach (var batch in trialsToSave.Chunk(WriteBatch))
        {
            lock (trialWrites)
            {
                var stored = trials.Query().Where(ByIds(batch.Select(t => t.Id))).Select("{ id: $._id, tags: $.tags, notes: $.notes }").ToDocuments()
                    .ToDictionary(d => d["id"].AsString, StringComparer.OrdinalIgnoreCase);
                var fresh = new List<BsonDocument>();
                var known = new List<BsonDocument>();
                foreach (var trial in batch.Reverse().DistinctBy(t => t.Id, StringComparer.OrdinalIgnoreCase)) // the last record of an id wins
                {
                    var doc = ToBson(trial, trial.Id);
                    if (stored.TryGetValue(trial.Id, out var annotations))
                    {
                        doc["tags"] = annotations["tags"].IsArray ? annotations["tags"] : new BsonArray();
                        doc["notes"] = annotations["notes"];
                    }
                    (stored.ContainsKey(trial.Id) ? known : fresh).Add(WithQueryFields(doc, trial));
                }
                if (known.Count > 0) trials.Update(known);
                if (fresh.Count > 0) trials.Insert(fresh);
                lock (indexGate) approximateCount = null;
            }
        }
    }

    /// <inheritdoc />
    public Trial? UpdateTrialAnnotations(string trialId, IReadOnlyList<string>? tags, string? notes)
    {
        lock (trialWrites)
        {
            var doc = trials.FindById(trialId);
            if (doc is null) return null;
            if (tags is not null) doc["tags"] = new BsonArray(NormaliseTags(tags).Select(t => new BsonValue(t)));
            if (notes is not null) doc["notes"] = string.IsNullOrWhiteSpace(notes) ? BsonValue.Null : new BsonValue(notes);
            var trial = FromBson<Trial>(doc)!;
            trials.Update(WithQueryFields(doc, trial));
            return trial;
        }
    }

    /// <summary>Trims tags, drops empty ones and duplicates (ignoring case), keeping the first spelling and the order.</summary>
    public static IReadOnlyList<string> NormaliseTags(IEnumerable<string> tags) =>
        tags.Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private static BsonDocument WithQueryFields(BsonDocument doc, Trial trial)
    {
        doc["_created"] = trial.CreatedAt.UtcDateTime;
        doc["_finished"] = trial.FinishedAt is { } f ? f.UtcDateTime : BsonValue.Null;
        var tags = doc["tags"].IsArray ? doc["tags"].AsArray.Where(t => t.IsString).Select(t => t.AsString) : [];
        var text = new[] { trial.Id, doc["notes"].IsString ? doc["notes"].AsString : null }
            .Concat(tags)
            .Concat(trial.Parameters.Values.Select(v => v.Text));
        doc["_text"] = string.Join('\n', text.Where(t => !string.IsNullOrEmpty(t))).ToLowerInvariant();
        return doc;
    }

    /// <inheritdoc />
    public TrialQueryResult QueryTrials(TrialQuery query)
    {
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize), page = Math.Max(0, query.Page);
        var experimentsById = ExperimentsById();
        var plan = Plan(query, experimentsById);
        if (plan is null) return new TrialQueryResult([], 0, page, size);

        int total = Count(plan.Where);
        long offset = (long)page * size;
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
        return new TrialQueryResult(docs.Select(d => Row(d, experimentsById)).ToList(), total, page, size);
    }

    /// <inheritdoc />
    public IEnumerable<TrialRow> ExportTrials(TrialQuery query)
    {
        // The ids come first, in order, so that the export is one consistent set even while trials are written; the
        // documents follow in chunks, so no reader stays open while the caller streams (LiteDB transactions are per thread).
        var experimentsById = ExperimentsById();
        var plan = Plan(query, experimentsById);
        if (plan is null) yield break;
        var ids = plan.Segments.SelectMany(s => FindIds(plan, s)).ToList();
        foreach (var chunk in ids.Chunk(ExportChunk))
        {
            var byId = trials.Find(ByIds(chunk))
                .ToDictionary(d => d["_id"].AsString, StringComparer.OrdinalIgnoreCase);
            foreach (var id in chunk)
                if (byId.TryGetValue(id, out var doc)) yield return Row(doc, experimentsById);
        }
    }

    /// <inheritdoc />
    public TrialFieldNames TrialFields(TrialQuery query)
    {
        var plan = Plan(query, ExperimentsById());
        var parameters = new SortedSet<string>(StringComparer.Ordinal);
        var metrics = new SortedSet<string>(StringComparer.Ordinal);
        if (plan is not null)
        {
            // Only the two sub-documents are deserialised.
            foreach (var doc in Queryable(plan.Where).Select("{ p: $.parameters, m: $.finalMetrics }").ToDocuments())
            {
                if (doc["p"].IsDocument) parameters.UnionWith(doc["p"].AsDocument.Keys);
                if (doc["m"].IsDocument) metrics.UnionWith(doc["m"].AsDocument.Keys);
            }
        }
        return new TrialFieldNames([.. parameters], [.. metrics]);
    }

    /// <summary>The query plans LiteDB makes for a query's count and for its first page (for tests and diagnostics).</summary>
    public (BsonDocument Count, BsonDocument Page)? Explain(TrialQuery query)
    {
        var plan = Plan(query, ExperimentsById());
        if (plan is null) return null;
        var count = Queryable(plan.Where).Select("{ count: COUNT(*._id) }").GetPlan();
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize);
        long offset = (long)Math.Max(0, query.Page) * size;
        return (count, Ordered(plan, plan.Segments[0], offset + size, null).Skip((int)Math.Min(offset, int.MaxValue)).Limit(size).GetPlan());
    }

    /// <summary>The names of the indexes on the trials collection (for tests and diagnostics).</summary>
    internal IReadOnlyList<string> TrialIndexExpressions() =>
        db.GetCollection("$indexes").Find(Query.EQ("collection", "trials")).Select(d => d["expression"].AsString).ToList();

    private Dictionary<string, Experiment> ExperimentsById() =>
        experiments.FindAll().Select(d => FromBson<Experiment>(d)!).ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);

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

    /// <summary>The base filter (one LiteDB term each) and the segments it is read in.</summary>
    private sealed record QueryPlan(IReadOnlyList<BsonExpression> Where, IReadOnlyList<Segment> Segments);

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

        return new QueryPlan(where, Segments(query));
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

    private (int Count, long At)? approximateCount;
    private readonly Dictionary<string, (int Count, long At)> approximateSegmentCounts = [];

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

    private static BsonExpression ByIds(IEnumerable<string> ids) =>
        BsonExpression.Create("$._id IN @0", new BsonArray(ids.Select(id => new BsonValue(id))));

    private static BsonExpression In(string path, IEnumerable<BsonValue> values)
    {
        var array = new BsonArray(values);
        return array.Count == 1 ? BsonExpression.Create($"{path} = @0", array[0]) : BsonExpression.Create($"{path} IN @0", array);
    }

    private static BsonExpression ValuePredicate(string path, ValueFilter filter) => filter.IsRange
        ? BsonExpression.Create($"{path} BETWEEN @0 AND @1", filter.Min is { } lo ? new BsonValue(lo) : LowestNumber, filter.Max is { } hi ? new BsonValue(hi) : HighestNumber)
        : BsonExpression.Create($"{path} = @0", new BsonValue(filter.Text));

    private static string StateName(TrialState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());

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
}
