using System.Globalization;
using System.Text.Json;
using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using TrialState = Tracker.Abstractions.TrialState;

namespace Tracker.Storage.LiteDb;

/// <summary>
/// Every trial's query fields in memory, column by column: what the runs browser and MLflow's run search filter, count
/// and sort by, so that a query reads no document but those of its page. The store fills it from the trial documents
/// on first use and keeps it in step under its write lock (a write is applied after its transaction commits).
/// </summary>
/// <remarks>
/// Entries are read from a trial document's own fields (never from the store's denormalised <c>_</c> fields), so that
/// the catalog holds what a reader of the document would see: non-finite numbers, which Tracker's JSON writes as
/// strings, are parameters' strings and metrics' and objectives' non-finite doubles. Names are interned to ids and
/// values to shared strings; trials with the same metric or parameter names share one <see cref="Schema"/>. Readers
/// take a read lock, the store's writer the write lock; queries pay no lock beyond that.
/// </remarks>
internal sealed class TrialCatalog
{
    private const byte Deleted = 1, Logged = 2, HasObjective = 4, HasFinished = 8, HasStarted = 16;
    private const byte UnknownState = byte.MaxValue;

    private static readonly string[] StateNames = Enum.GetValues<TrialState>().Select(s => JsonNamingPolicy.CamelCase.ConvertName(s.ToString())).ToArray();
    private static readonly string[] StageNames = Enum.GetValues<LifecycleStage>().Select(s => s.ToString().ToLowerInvariant()).ToArray();

    private static readonly string[] StatusNames = Enum.GetValues<TrialState>().Select(RunStatusNames.Of).ToArray();

    // The rank of each state's name in ordinal order (the runs browser sorts states by name).
    private static readonly int[] StateRank = StateNames.Select(n => StateNames.Count(o => string.CompareOrdinal(o, n) < 0)).ToArray();

    private readonly ReaderWriterLockSlim rw = new();

    // Interning.
    private readonly Dictionary<string, int> nameIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> pool = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> experimentIndex = new(StringComparer.Ordinal);
    private readonly List<string> experimentIds = [];
    private readonly Dictionary<string, Schema> schemas = new(StringComparer.Ordinal);

    // LiteDB compares string ids ignoring case, so one document answers to every spelling.
    private readonly Dictionary<string, int> slotById = new(StringComparer.OrdinalIgnoreCase);

    private int count;
    private string[] ids = [];
    private int[] experiment = [], number = [];
    private byte[] state = [], stage = [], flags = [];
    private long[] created = [], finished = [];
    private double[] startMs = [], objective = [];
    private string[] text = [];
    private string[]?[] tags = [];
    private Schema[] metricSchema = [], paramSchema = [];
    private double[][] metricValues = [];
    private Value[][] paramValues = [];
    private Entry[]?[] runTags = [];
    private LoggedFields?[] logged = [];

    /// <summary>A parameter's value: a number, or a string (<see cref="Text"/> not <c>null</c>).</summary>
    private readonly record struct Value(double Number, string? Text);

    /// <summary>A named string (a run tag, a logged param).</summary>
    private readonly record struct Entry(int Name, string Text);

    /// <summary>What logging clients recorded: present only for logged runs.</summary>
    private sealed record LoggedFields(string? UserId, string? ArtifactUri, Entry[] Params);

    /// <summary>The names of one trial's metrics or parameters, in the order of its values; shared by every trial with the same names.</summary>
    private sealed class Schema(int[] names)
    {
        public int[] Names { get; } = names;

        public int Find(int name)
        {
            var n = Names;
            for (int i = 0; i < n.Length; i++)
                if (n[i] == name) return i;
            return -1;
        }
    }

    /// <summary>How many trials it holds.</summary>
    public int Count
    {
        get
        {
            rw.EnterReadLock();
            try { return count; } finally { rw.ExitReadLock(); }
        }
    }

    /// <summary>A catalog of the given trial documents.</summary>
    public static TrialCatalog Build(IEnumerable<BsonDocument> documents)
    {
        var catalog = new TrialCatalog();
        catalog.Upsert(documents);
        return catalog;
    }

    /// <summary>Adds or replaces the entries of these trial documents (as they are stored).</summary>
    public void Upsert(IEnumerable<BsonDocument> documents)
    {
        rw.EnterWriteLock();
        try
        {
            foreach (var doc in documents) Put(doc);
        }
        finally
        {
            rw.ExitWriteLock();
        }
    }

    /// <summary>
    /// Drops the entries of these trial ids (unknown ones are ignored). The last entry moves into each freed slot: the
    /// queries' order never depends on slots, as it ends with the id.
    /// </summary>
    public void Remove(IEnumerable<string> trialIds)
    {
        rw.EnterWriteLock();
        try
        {
            foreach (var id in trialIds)
            {
                if (!slotById.Remove(id, out int i)) continue;
                int last = --count;
                if (i != last)
                {
                    Move(last, i);
                    slotById[ids[i]] = i;
                }
                Clear(last);
            }
        }
        finally
        {
            rw.ExitWriteLock();
        }
    }

    // ---- Filling ----

    private void Put(BsonDocument doc)
    {
        string id = doc["_id"].AsString;
        if (!slotById.TryGetValue(id, out int i))
        {
            i = count++;
            if (i == ids.Length) Grow();
            slotById[id] = i;
        }
        ids[i] = id;
        experiment[i] = Experiment(Str(doc["experimentId"]) ?? "");
        number[i] = doc["number"].IsNumber ? doc["number"].AsInt32 : 0;
        state[i] = Str(doc["state"]) is { } s && Array.IndexOf(StateNames, s) is var k and >= 0 ? (byte)k : UnknownState;
        stage[i] = Str(doc["lifecycleStage"]) is { } l && Array.IndexOf(StageNames, l) is var g and >= 0 ? (byte)g : (byte)LifecycleStage.Active;

        byte f = 0;
        if (stage[i] == (byte)LifecycleStage.Deleted) f |= Deleted;
        var createdAt = Time(doc["createdAt"]) ?? default;
        created[i] = createdAt.UtcTicks;
        var startedAt = Time(doc["startedAt"]);
        if (startedAt is not null) f |= HasStarted;
        startMs[i] = (startedAt ?? createdAt).ToUnixTimeMilliseconds();
        if (Time(doc["finishedAt"]) is { } finishedAt)
        {
            f |= HasFinished;
            finished[i] = finishedAt.UtcTicks;
        }
        else finished[i] = 0;
        if (Number(doc["objective"]) is { } o)
        {
            f |= HasObjective;
            objective[i] = o;
        }
        else objective[i] = double.NaN;

        // Metrics: numbers, with the non-finite ones that Tracker's JSON writes as strings.
        var metrics = doc["finalMetrics"].IsDocument ? doc["finalMetrics"].AsDocument : null;
        var metricNames = new List<int>();
        var values = new List<double>();
        if (metrics is not null)
            foreach (var (name, value) in metrics)
                if (Number(value) is { } v)
                {
                    metricNames.Add(NameId(name));
                    values.Add(v);
                }
        metricSchema[i] = SchemaOf(metricNames);
        metricValues[i] = values.Count == 0 ? [] : [.. values];

        var parameters = doc["parameters"].IsDocument ? doc["parameters"].AsDocument : null;
        var paramNames = new List<int>();
        var parameterValues = new List<Value>();
        var words = new List<string> { id };
        if (Str(doc["notes"]) is { Length: > 0 } notes) words.Add(notes);
        string[]? tagList = null;
        if (doc["tags"].IsArray)
        {
            var strings = doc["tags"].AsArray.Where(t => t.IsString).Select(t => t.AsString).ToList();
            words.AddRange(strings.Where(t => t.Length > 0));
            if (strings.Count > 0) tagList = strings.Select(t => Intern(t.ToLowerInvariant())).ToArray();
        }
        if (parameters is not null)
            foreach (var (name, value) in parameters)
            {
                if (value.IsNumber) parameterValues.Add(new Value(value.AsDouble, null));
                else if (value.IsString)
                {
                    parameterValues.Add(new Value(double.NaN, Intern(value.AsString)));
                    if (value.AsString.Length > 0) words.Add(value.AsString);
                }
                else continue;
                paramNames.Add(NameId(name));
            }
        paramSchema[i] = SchemaOf(paramNames);
        paramValues[i] = parameterValues.Count == 0 ? [] : [.. parameterValues];
        tags[i] = tagList;
        // The free text: the same fields, joined and lower-cased, as the store's free-text filter has always searched.
        text[i] = string.Join('\n', words).ToLowerInvariant();

        runTags[i] = Entries(doc["runTags"]);
        if (doc["logged"].IsDocument)
        {
            var info = doc["logged"].AsDocument;
            f |= Logged;
            logged[i] = new LoggedFields(Str(info["userId"]) is { } u ? Intern(u) : null, Str(info["artifactUri"]), Entries(info["params"]) ?? []);
        }
        else logged[i] = null;
        flags[i] = f;
    }

    private void Grow()
    {
        int size = Math.Max(1024, ids.Length * 2);
        Array.Resize(ref ids, size);
        Array.Resize(ref experiment, size);
        Array.Resize(ref number, size);
        Array.Resize(ref state, size);
        Array.Resize(ref stage, size);
        Array.Resize(ref flags, size);
        Array.Resize(ref created, size);
        Array.Resize(ref finished, size);
        Array.Resize(ref startMs, size);
        Array.Resize(ref objective, size);
        Array.Resize(ref text, size);
        Array.Resize(ref tags, size);
        Array.Resize(ref metricSchema, size);
        Array.Resize(ref paramSchema, size);
        Array.Resize(ref metricValues, size);
        Array.Resize(ref paramValues, size);
        Array.Resize(ref runTags, size);
        Array.Resize(ref logged, size);
    }

    // Grow, Move and Clear each name every column.
    private void Move(int from, int to)
    {
        ids[to] = ids[from];
        experiment[to] = experiment[from];
        number[to] = number[from];
        state[to] = state[from];
        stage[to] = stage[from];
        flags[to] = flags[from];
        created[to] = created[from];
        finished[to] = finished[from];
        startMs[to] = startMs[from];
        objective[to] = objective[from];
        text[to] = text[from];
        tags[to] = tags[from];
        metricSchema[to] = metricSchema[from];
        paramSchema[to] = paramSchema[from];
        metricValues[to] = metricValues[from];
        paramValues[to] = paramValues[from];
        runTags[to] = runTags[from];
        logged[to] = logged[from];
    }

    // Lets go of what a freed slot referred to; its value columns are overwritten when the slot is used again.
    private void Clear(int slot)
    {
        ids[slot] = null!;
        text[slot] = null!;
        tags[slot] = null;
        metricSchema[slot] = null!;
        paramSchema[slot] = null!;
        metricValues[slot] = null!;
        paramValues[slot] = null!;
        runTags[slot] = null;
        logged[slot] = null;
    }

    private Entry[]? Entries(BsonValue value)
    {
        if (!value.IsDocument || value.AsDocument.Count == 0) return null;
        var list = new List<Entry>(value.AsDocument.Count);
        foreach (var (name, item) in value.AsDocument)
            if (item.IsString) list.Add(new Entry(NameId(name), Intern(item.AsString)));
        return list.Count == 0 ? null : [.. list];
    }

    private int NameId(string name)
    {
        if (!nameIds.TryGetValue(name, out int id)) nameIds[name] = id = nameIds.Count;
        return id;
    }

    private int? KnownName(string name) => nameIds.TryGetValue(name, out int id) ? id : null;

    private string Intern(string value)
    {
        if (value.Length > 64) return value; // long values (notes, URIs) are rarely shared
        if (pool.TryGetValue(value, out var shared)) return shared;
        pool[value] = value;
        return value;
    }

    private int Experiment(string id)
    {
        if (!experimentIndex.TryGetValue(id, out int index))
        {
            experimentIndex[id] = index = experimentIds.Count;
            experimentIds.Add(id);
        }
        return index;
    }

    private Schema SchemaOf(List<int> names)
    {
        string key = string.Join(',', names);
        if (!schemas.TryGetValue(key, out var schema)) schemas[key] = schema = new Schema([.. names]);
        return schema;
    }

    private static string? Str(BsonValue value) => value.IsString ? value.AsString : null;

    private static double? Number(BsonValue value) =>
        value.IsNumber ? value.AsDouble
        : value.IsString && value.AsString is "NaN" or "Infinity" or "-Infinity" ? double.Parse(value.AsString, CultureInfo.InvariantCulture)
        : null;

    private static DateTimeOffset? Time(BsonValue value) =>
        value.IsString && DateTimeOffset.TryParse(value.AsString, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ? time
        : value.IsDateTime ? new DateTimeOffset(DateTime.SpecifyKind(value.AsDateTime.ToUniversalTime(), DateTimeKind.Utc))
        : null;

    // ---- Reading one trial's fields ----

    private double? Metric(int i, int name) => metricSchema[i].Find(name) is var p and >= 0 ? metricValues[i][p] : null;

    private bool TryParameter(int i, int name, out Value value)
    {
        int p = paramSchema[i].Find(name);
        value = p >= 0 ? paramValues[i][p] : default;
        return p >= 0;
    }

    private static string? Find(Entry[]? entries, int name)
    {
        if (entries is null) return null;
        foreach (var e in entries)
            if (e.Name == name) return e.Text;
        return null;
    }

    // A parameter's text as conditions see it: the logged text, else a string value.
    private string? ParamText(int i, int name) =>
        (logged[i] is { } info ? Find(info.Params, name) : null) ?? (TryParameter(i, name, out var v) ? v.Text : null);

    private double EndMs(int i) => new DateTimeOffset(finished[i], TimeSpan.Zero).ToUnixTimeMilliseconds();

    private Func<int, double?> NumberOf(TrialField field)
    {
        if (field.Kind == TrialFieldKind.Metric)
            return KnownName(field.Name) is { } name ? i => Metric(i, name) : _ => null;
        return field.Attribute == TrialAttribute.StartTime
            ? i => startMs[i]
            : i => (flags[i] & HasFinished) != 0 ? EndMs(i) : null;
    }

    private Func<int, string?> TextOf(TrialField field)
    {
        int? name = KnownName(field.Name);
        return field.Kind switch
        {
            TrialFieldKind.Param => name is { } p ? i => ParamText(i, p) : _ => null,
            TrialFieldKind.RunTag => name is { } t ? i => Find(runTags[i], t) : _ => null,
            _ => field.Attribute switch
            {
                TrialAttribute.RunName => KnownName(RunRegistry.RunNameTag) is { } r ? i => Find(runTags[i], r) ?? "" : _ => "",
                TrialAttribute.Id => i => ids[i],
                TrialAttribute.UserId => i => logged[i]?.UserId,
                TrialAttribute.ArtifactUri => i => logged[i]?.ArtifactUri,
                TrialAttribute.ExperimentId => i => experimentIds[experiment[i]],
                TrialAttribute.LifecycleStage => i => StageNames[stage[i]],
                TrialAttribute.State => i => state[i] == UnknownState ? null : StateNames[state[i]],
                TrialAttribute.RunStatus => i => state[i] == UnknownState ? null : StatusNames[state[i]],
                _ => _ => null,
            },
        };
    }

    // ---- Queries ----

    /// <summary>The experiments a query may see, from the stored ones (few); <c>null</c> when no trial can match.</summary>
    public sealed record Scope(IReadOnlyCollection<string>? ExperimentIds, IReadOnlyCollection<string> NamedByText);

    /// <summary>How many trials match and the ids of those from <paramref name="offset"/> on (at most <paramref name="limit"/>), in the query's order.</summary>
    public (int Total, List<string> Ids) Select(TrialQuery query, Scope scope, long offset, int limit)
    {
        rw.EnterReadLock();
        try
        {
            var matches = Matches(query, scope);
            int n = matches.Count;
            if (offset >= n || limit <= 0) return (n, []);
            int from = (int)offset, to = (int)Math.Min(n, offset + limit);
            var compare = Order(query, matches);
            var page = new List<string>(to - from);
            // The page is found among the first (offset + limit) trials, or among the last (n - offset) in the reverse
            // order, whichever are fewer: the order is total (ids are unique), so both give the same page.
            if (to <= n - from)
            {
                var first = Smallest(n, to, compare);
                for (int k = from; k < to; k++) page.Add(ids[matches[first[k]]]);
            }
            else
            {
                var last = Smallest(n, n - from, compare.Reversed());
                for (int k = n - from - 1; k >= n - to; k--) page.Add(ids[matches[last[k]]]);
            }
            return (n, page);
        }
        finally
        {
            rw.ExitReadLock();
        }
    }

    /// <summary>The ids of every match, in the query's order.</summary>
    public List<string> SelectAll(TrialQuery query, Scope scope)
    {
        rw.EnterReadLock();
        try
        {
            var matches = Matches(query, scope);
            var order = Smallest(matches.Count, matches.Count, Order(query, matches));
            return order.Select(k => ids[matches[k]]).ToList();
        }
        finally
        {
            rw.ExitReadLock();
        }
    }

    /// <summary>The parameter and metric names of the matches, each in ordinal order.</summary>
    public TrialFieldNames Fields(TrialQuery query, Scope scope)
    {
        rw.EnterReadLock();
        try
        {
            var seenParams = new HashSet<Schema>(ReferenceEqualityComparer.Instance);
            var seenMetrics = new HashSet<Schema>(ReferenceEqualityComparer.Instance);
            foreach (int i in Matches(query, scope))
            {
                seenParams.Add(paramSchema[i]);
                seenMetrics.Add(metricSchema[i]);
            }
            var names = nameIds.OrderBy(p => p.Value).Select(p => p.Key).ToArray();
            string[] Names(HashSet<Schema> seen) => seen.SelectMany(s => s.Names).Distinct().Select(n => names[n]).Order(StringComparer.Ordinal).ToArray();
            return new TrialFieldNames(Names(seenParams), Names(seenMetrics));
        }
        finally
        {
            rw.ExitReadLock();
        }
    }

    /// <summary>An experiment's counts by state (deleted runs not counted) and best completed trial, by <see cref="ITrialStore.TallyTrialsAsync"/>'s rules.</summary>
    public TrialTally Tally(string experimentId, Tracker.Abstractions.ObjectiveDirection direction)
    {
        rw.EnterReadLock();
        try
        {
            var ofExperiment = experimentIds.Select(e => string.Equals(e, experimentId, StringComparison.OrdinalIgnoreCase)).ToArray();
            var counts = new int[StateNames.Length];
            int best = -1;
            int sign = direction == Tracker.Abstractions.ObjectiveDirection.Maximize ? -1 : 1;
            for (int i = 0; i < count; i++)
            {
                if (!ofExperiment[experiment[i]] || (flags[i] & Deleted) != 0 || state[i] == UnknownState) continue;
                counts[state[i]]++;
                if (state[i] != (byte)TrialState.Completed || (flags[i] & HasObjective) == 0 || !double.IsFinite(objective[i])) continue;
                if (best < 0) { best = i; continue; }
                int order = objective[i].CompareTo(objective[best]) * sign;
                if (order == 0) order = number[i] != number[best] ? number[i].CompareTo(number[best]) : string.CompareOrdinal(ids[i], ids[best]);
                if (order < 0) best = i;
            }
            var byState = new Dictionary<TrialState, int>();
            for (int s = 0; s < counts.Length; s++)
                if (counts[s] > 0) byState[(TrialState)s] = counts[s];
            return new TrialTally(byState, best < 0 ? null : ids[best], best < 0 ? null : objective[best]);
        }
        finally
        {
            rw.ExitReadLock();
        }
    }

    /// <summary>The slots of the trials that every filter of <paramref name="query"/> admits, in slot order.</summary>
    private List<int> Matches(TrialQuery query, Scope scope)
    {
        var tests = new List<Func<int, bool>>();
        if (scope.ExperimentIds is { } allowed)
        {
            var set = new HashSet<string>(allowed, StringComparer.OrdinalIgnoreCase);
            var admitted = experimentIds.Select(set.Contains).ToArray();
            tests.Add(i => admitted[experiment[i]]);
        }
        if (query.States.Count > 0)
        {
            var states = new bool[256];
            foreach (var s in query.States) states[(int)s] = true;
            tests.Add(i => states[state[i]]);
        }
        if (query.Lifecycles.Count > 0)
        {
            var stages = new bool[256];
            foreach (var s in query.Lifecycles) stages[(int)s] = true;
            tests.Add(i => stages[stage[i]]);
        }
        if (query.LoggedOnly) tests.Add(i => (flags[i] & Logged) != 0);
        if (!string.IsNullOrWhiteSpace(query.Tag))
        {
            string tag = query.Tag.Trim().ToLowerInvariant();
            tests.Add(i => tags[i] is { } list && Array.IndexOf(list, tag) >= 0);
        }
        foreach (var (name, filter) in query.Parameters)
        {
            if (KnownName(name) is not { } p) return [];
            if (filter.IsRange)
            {
                double lo = filter.Min ?? double.NegativeInfinity, hi = filter.Max ?? double.PositiveInfinity;
                tests.Add(i => TryParameter(i, p, out var v) && v.Text is null && double.IsFinite(v.Number) && v.Number >= lo && v.Number <= hi);
            }
            else
            {
                string exact = filter.Text!;
                tests.Add(i => TryParameter(i, p, out var v) && string.Equals(v.Text, exact, StringComparison.Ordinal));
            }
        }
        foreach (var (name, filter) in query.Metrics)
        {
            if (!filter.IsRange) throw new ArgumentException($"The filter on metric '{name}' must be a numeric range, not '{filter.Text}'.", nameof(query));
            if (KnownName(name) is not { } m) return [];
            double lo = filter.Min ?? double.NegativeInfinity, hi = filter.Max ?? double.PositiveInfinity;
            tests.Add(i => Metric(i, m) is { } v && double.IsFinite(v) && v >= lo && v <= hi);
        }
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            string words = query.Text.Trim().ToLowerInvariant();
            var named = new HashSet<string>(scope.NamedByText, StringComparer.OrdinalIgnoreCase);
            var byName = experimentIds.Select(named.Contains).ToArray();
            tests.Add(i => byName[experiment[i]] || text[i].Contains(words, StringComparison.Ordinal));
        }
        foreach (var condition in query.Conditions) tests.Add(Condition(condition));

        var matches = new List<int>();
        var all = tests.ToArray();
        for (int i = 0; i < count; i++)
        {
            bool ok = true;
            foreach (var test in all)
                if (!test(i)) { ok = false; break; }
            if (ok) matches.Add(i);
        }
        return matches;
    }

    /// <summary>
    /// A condition as <see cref="TrialQuery.Conditions"/> define it: a missing field never matches, not even <c>!=</c>;
    /// numbers compare as .NET doubles; strings ordinally; LIKE in linear time.
    /// </summary>
    private Func<int, bool> Condition(TrialCondition condition)
    {
        var value = condition.Value;
        var op = condition.Operator;
        if (condition.Field.IsNumeric)
        {
            if (value.Number is not { } operand) return _ => false;
            var number = NumberOf(condition.Field);
            return i => number(i) is { } actual && op.Holds(actual, operand);
        }
        var of = TextOf(condition.Field);
        Func<string, bool> holds = op switch
        {
            SearchOperator.Equal when value.Text is { } v => t => string.Equals(t, v, StringComparison.Ordinal),
            SearchOperator.NotEqual when value.Text is { } v => t => !string.Equals(t, v, StringComparison.Ordinal),
            SearchOperator.Like when value.Text is { } p => t => LikePattern.Matches(t, p, ignoreCase: false),
            SearchOperator.ILike when value.Text is { } p => t => LikePattern.Matches(t, p, ignoreCase: true),
            SearchOperator.In when value.Items is { } items => new HashSet<string>(items, StringComparer.Ordinal).Contains,
            SearchOperator.NotIn when value.Items is { } items => t => !items.Contains(t, StringComparer.Ordinal),
            _ => _ => false,
        };
        return i => of(i) is { } t && holds(t);
    }

    // ---- Order ----

    /// <summary>
    /// One sort key over the matches (by position): a group, then a number, a long or a string within the group.
    /// Groups from <see cref="Trailing"/> on (trials without a value) come after the others in either direction, in
    /// group order, and tie within a group; the groups before it are ordered by the direction, as are values.
    /// </summary>
    private sealed class Key(int n, bool descending, int trailing)
    {
        public readonly byte[] Group = new byte[n];
        public double[]? Numbers;
        public long[]? Longs;
        public string?[]? Strings;
        public readonly bool Descending = descending;
        public readonly int Trailing = trailing;

        public int Compare(int a, int b)
        {
            int ga = Group[a], gb = Group[b];
            if (ga != gb)
                return ga >= Trailing || gb >= Trailing ? ga.CompareTo(gb) : Descending ? gb.CompareTo(ga) : ga.CompareTo(gb);
            if (ga >= Trailing) return 0;
            int c = Strings is { } s && s[a] is { } sa ? string.CompareOrdinal(sa, s[b])
                : Longs is { } l ? l[a].CompareTo(l[b])
                : Numbers![a].CompareTo(Numbers[b]);
            return Descending ? -c : c;
        }
    }

    /// <summary>The query's order over positions in the matches: its keys, then the tie-breaks.</summary>
    private sealed class Ordering(Key[] keys, long[] newest, string[] ids, bool reverse) : IComparer<int>
    {
        public Ordering Reversed() => new(keys, newest, ids, !reverse);

        public int Compare(int a, int b)
        {
            if (reverse) (a, b) = (b, a);
            foreach (var key in keys)
            {
                int c = key.Compare(a, b);
                if (c != 0) return c;
            }
            // Newest first, then id.
            int t = newest[b].CompareTo(newest[a]);
            return t != 0 ? t : string.CompareOrdinal(ids[a], ids[b]);
        }
    }

    /// <summary>The query's order over positions in <paramref name="matches"/>.</summary>
    private Ordering Order(TrialQuery query, List<int> matches)
    {
        int n = matches.Count;
        var newest = new long[n];
        var matchIds = new string[n];
        for (int k = 0; k < n; k++) matchIds[k] = ids[matches[k]];
        if (query.OrderBy.Count > 0)
        {
            // MLflow's: by start time.
            for (int k = 0; k < n; k++) newest[k] = (long)startMs[matches[k]];
            return new Ordering(query.OrderBy.Select(o => SearchKey(o, matches)).ToArray(), newest, matchIds, false);
        }
        // The runs browser's: by creation time.
        for (int k = 0; k < n; k++) newest[k] = created[matches[k]];
        return new Ordering([BrowserKey(query.SortBy, query.Descending, matches)], newest, matchIds, false);
    }

    // The runs browser's keys: trials without a value after the others either way; objective and metrics put the
    // missing ones before the non-finite ones; parameters put numbers before strings (after them when descending).
    private Key BrowserKey(TrialSortField sort, bool descending, List<int> slots)
    {
        int n = slots.Count;
        switch (sort.Kind)
        {
            case TrialSortKind.Number:
            {
                var key = new Key(n, descending, 1) { Longs = new long[n] };
                for (int k = 0; k < n; k++) key.Longs[k] = number[slots[k]];
                return key;
            }
            case TrialSortKind.State:
            {
                var key = new Key(n, descending, 1) { Longs = new long[n] };
                for (int k = 0; k < n; k++) key.Longs[k] = state[slots[k]] == UnknownState ? int.MaxValue : StateRank[state[slots[k]]];
                return key;
            }
            case TrialSortKind.FinishedAt:
            {
                var key = new Key(n, descending, 1) { Longs = new long[n] };
                for (int k = 0; k < n; k++)
                {
                    int i = slots[k];
                    if ((flags[i] & HasFinished) != 0) key.Longs[k] = finished[i];
                    else key.Group[k] = 1;
                }
                return key;
            }
            case TrialSortKind.Objective:
            case TrialSortKind.Metric:
            {
                var key = new Key(n, descending, 1) { Numbers = new double[n] };
                int? name = sort.Kind == TrialSortKind.Metric ? KnownName(sort.Name ?? "") : null;
                for (int k = 0; k < n; k++)
                {
                    int i = slots[k];
                    double? v = sort.Kind == TrialSortKind.Objective
                        ? (flags[i] & HasObjective) != 0 ? objective[i] : null
                        : name is { } m ? Metric(i, m) : null;
                    if (v is not { } value) key.Group[k] = 1;
                    else if (!double.IsFinite(value)) key.Group[k] = 2;
                    else key.Numbers[k] = value;
                }
                return key;
            }
            case TrialSortKind.Parameter:
            {
                var key = new Key(n, descending, 2) { Numbers = new double[n], Strings = new string?[n] };
                int? name = KnownName(sort.Name ?? "");
                for (int k = 0; k < n; k++)
                {
                    if (name is not { } p || !TryParameter(slots[k], p, out var v)) key.Group[k] = 2;
                    else if (v.Text is { } t) { key.Group[k] = 1; key.Strings[k] = t; }
                    else key.Numbers[k] = v.Number;
                }
                return key;
            }
            default:
            {
                var key = new Key(n, descending, 1) { Longs = new long[n] };
                for (int k = 0; k < n; k++) key.Longs[k] = created[slots[k]];
                return key;
            }
        }
    }

    /// <summary>
    /// The positions 0..n-1 of the <paramref name="k"/> smallest by <paramref name="order"/>, in order: a quickselect
    /// puts them first (a few comparisons per candidate, whatever the input order), then only they are sorted.
    /// </summary>
    private static int[] Smallest(int n, int k, IComparer<int> order)
    {
        k = Math.Min(k, n);
        if (k <= 0) return [];
        var all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        if (k < n)
        {
            int lo = 0, hi = n - 1;
            var random = new Random(n);
            while (hi > lo)
            {
                // Partition around a random pivot: [lo, store) smaller, then the pivot, then the rest.
                int p = random.Next(lo, hi + 1);
                (all[p], all[hi]) = (all[hi], all[p]);
                int pivot = all[hi], store = lo;
                for (int i = lo; i < hi; i++)
                    if (order.Compare(all[i], pivot) < 0) (all[i], all[store]) = (all[store++], all[i]);
                (all[store], all[hi]) = (all[hi], all[store]);
                if (store == k - 1 || store == k) break;
                if (store > k) hi = store - 1;
                else lo = store + 1;
            }
        }
        Array.Sort(all, 0, k, order);
        return k == n ? all : all[..k];
    }

    // MLflow's keys: numbers numerically, strings ordinally; a missing value or NaN after the others either way.
    private Key SearchKey(TrialOrder order, List<int> slots)
    {
        int n = slots.Count;
        var key = new Key(n, !order.Ascending, 1);
        if (order.Field.IsNumeric)
        {
            key.Numbers = new double[n];
            var of = NumberOf(order.Field);
            for (int k = 0; k < n; k++)
            {
                if (of(slots[k]) is { } v && !double.IsNaN(v)) key.Numbers[k] = v;
                else key.Group[k] = 1;
            }
        }
        else
        {
            key.Strings = new string?[n];
            var of = TextOf(order.Field);
            for (int k = 0; k < n; k++)
            {
                if (of(slots[k]) is { } v) key.Strings[k] = v;
                else key.Group[k] = 1;
            }
        }
        return key;
    }

}
