using System.Buffers.Binary;
using System.Text;
using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// Metric series, stored so that a page or a chart costs in proportion to what it returns, not to the series.
//
//   latest        one document per series (trial and key): its number n, the latest point by MLflow's rule, the point
//                 count, the first and last step, and span, the widest step range of any of its chunks.
//   series        one small document per chunk of up to MaxPointsPerChunk points: pos, firstStep, lastStep, count and
//                 the chunk's lowest and highest point (lo, hi). Indexed by pos = n·2³² + (firstStep + 2³¹), a number,
//                 so one index walks a series in first-step order (LiteDB has no compound index, and its string
//                 indexes compare by culture and ignore case, which would merge keys such as "Loss" and "loss").
//   seriesPoints  the chunk's points under the same _id: steps, values and times (Unix ms) as three binary values of
//                 packed little-endian int32, double and int64 (4, 8 and 8 bytes a point), sorted by step, stably, so
//                 points of one step keep their logging order. Binary, not arrays of BsonValues: LiteDB decodes a
//                 binary value as one byte[], where an array costs an object per element (about 1.3 µs and 450 bytes
//                 a point to read).
//
// A chunk's _id grows with every insert, so (step, chunk id, index in chunk) is the order points were logged in within a
// step, also when a client logs steps out of order and chunks overlap.
public sealed partial class LiteDbStore
{
    private const string SeriesCollection = "series";

    /// <summary>The most points one chunk holds (20 KB of points).</summary>
    internal const int MaxPointsPerChunk = 1000;

    private const long StepOffset = 1L << 31;
    private const int OldDocumentBatch = 2000;

    private long nextSeries;

    private void EnsureSeriesIndexes()
    {
        series.EnsureIndex("pos");
        latest.EnsureIndex("trialId");
        latest.EnsureIndex("n");
        var last = latest.Query().OrderByDescending("$.n").Select("{ n: $.n }").Limit(1).ToDocuments().FirstOrDefault();
        nextSeries = last is null ? 0 : last["n"].AsInt64 + 1;
    }

    /// <inheritdoc />
    public Task AppendMetricsAsync(IReadOnlyCollection<MetricPoint> points, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (points.Count > 0) Atomic(() => Append(points));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<MetricPage> ReadMetricsAsync(string trialId, string key, MetricCursor from, int maxPoints, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var info = latest.FindById(SeriesId(trialId, key));
        if (info is null) return Task.FromResult(new MetricPage([], null));
        return Task.FromResult(ReadPage(trialId, key, info, from, Math.Max(1, maxPoints)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<MetricPoint>> ReadMetricsDownsampledAsync(string trialId, string key, int maxPoints, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        maxPoints = Math.Max(4, maxPoints);
        var info = latest.FindById(SeriesId(trialId, key));
        if (info is null) return Task.FromResult<IReadOnlyList<MetricPoint>>([]);
        if (info["count"].AsInt64 <= maxPoints)
            return Task.FromResult(ReadPage(trialId, key, info, MetricCursor.Start, maxPoints).Points);
        return Task.FromResult<IReadOnlyList<MetricPoint>>(Downsample(trialId, key, info, maxPoints));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<MetricPoint>> LatestMetricsAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<MetricPoint> points = latest.Find(Query.EQ("trialId", trialId))
            .Where(d => string.Equals(d["trialId"].AsString, trialId, StringComparison.OrdinalIgnoreCase))
            .Select(d => new MetricPoint(trialId, d["key"].AsString, d["step"].AsInt32, d["value"].AsDouble, Time(d["time"])))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(points);
    }

    // Runs inside a transaction under the write lock.
    private void Append(IEnumerable<MetricPoint> points)
    {
        var all = points as IReadOnlyList<MetricPoint> ?? points.ToList();
        if (all.Count == 0) return;
        foreach (var group in BySeries(all)) AppendSeries(group);
    }

    /// <summary>The points of each series (trial and key, compared ordinally), in the order the series first come; a batch of one series is itself.</summary>
    private static IEnumerable<IReadOnlyList<MetricPoint>> BySeries(IReadOnlyList<MetricPoint> points)
    {
        string trialId = points[0].TrialId, key = points[0].Key;
        int i = 1;
        while (i < points.Count && string.Equals(points[i].TrialId, trialId, StringComparison.Ordinal) && string.Equals(points[i].Key, key, StringComparison.Ordinal)) i++;
        if (i == points.Count) return [points];
        var groups = new Dictionary<(string TrialId, string Key), List<MetricPoint>>();
        var order = new List<List<MetricPoint>>();
        foreach (var point in points)
        {
            if (!groups.TryGetValue((point.TrialId, point.Key), out var group))
            {
                groups[(point.TrialId, point.Key)] = group = [];
                order.Add(group);
            }
            group.Add(point);
        }
        return order;
    }

    private void AppendSeries(IReadOnlyList<MetricPoint> group)
    {
        string trialId = group[0].TrialId, key = group[0].Key;
        string id = SeriesId(trialId, key);
        var info = latest.FindById(id) ?? new BsonDocument
        {
            ["_id"] = id, ["trialId"] = trialId, ["key"] = key, ["n"] = nextSeries++,
            ["count"] = 0L, ["firstStep"] = int.MaxValue, ["lastStep"] = int.MinValue, ["span"] = 0L,
        };
        long n = info["n"].AsInt64;
        // Sorting the whole batch first (stably, so points of one step keep their order) keeps its chunks apart in step
        // range; a batch logged in step order, the usual one, is taken as it is.
        var sorted = InStepOrder(group) ? group : group.OrderBy(p => p.Step).ToArray();
        long count = info["count"].AsInt64, span = info["span"].AsInt64;
        int firstStep = info["firstStep"].AsInt32, lastStep = info["lastStep"].AsInt32;
        for (int start = 0; start < sorted.Count; start += MaxPointsPerChunk)
        {
            int length = Math.Min(MaxPointsPerChunk, sorted.Count - start);
            int first = sorted[start].Step, last = sorted[start + length - 1].Step;
            InsertChunk(n, sorted, start, length);
            count += length;
            firstStep = Math.Min(firstStep, first);
            lastStep = Math.Max(lastStep, last);
            span = Math.Max(span, (long)last - first);
        }
        info["count"] = count;
        info["firstStep"] = firstStep;
        info["lastStep"] = lastStep;
        info["span"] = span;

        bool held = !info["step"].IsNull;
        int step = held ? info["step"].AsInt32 : 0;
        long time = held ? info["time"].AsInt64 : 0;
        double value = held ? info["value"].AsDouble : 0;
        bool changed = false;
        for (int i = 0; i < group.Count; i++)
        {
            var point = group[i];
            long pointTime = point.Timestamp.ToUnixTimeMilliseconds();
            if (!held || IsLater(point.Step, pointTime, point.Value, step, time, value))
            {
                (step, time, value, held, changed) = (point.Step, pointTime, point.Value, true, true);
            }
        }
        if (changed)
        {
            info["step"] = step;
            info["time"] = time;
            info["value"] = value;
        }
        latest.Upsert(info);
    }

    private static bool InStepOrder(IReadOnlyList<MetricPoint> points)
    {
        for (int i = 1; i < points.Count; i++)
            if (points[i].Step < points[i - 1].Step) return false;
        return true;
    }

    // MLflow's rule for the latest value: greater step, then later time (whole ms, as stored), then greater value.
    private static bool IsLater(int step, long time, double value, int heldStep, long heldTime, double heldValue) =>
        step != heldStep ? step > heldStep
        : time != heldTime ? time > heldTime
        : value.CompareTo(heldValue) > 0;

    private void InsertChunk(long n, IReadOnlyList<MetricPoint> points, int start, int length)
    {
        int lo = -1, hi = -1;
        for (int i = 0; i < length; i++)
        {
            double value = points[start + i].Value;
            if (double.IsNaN(value)) continue;
            if (lo < 0 || value < points[start + lo].Value) lo = i;
            if (hi < 0 || value > points[start + hi].Value) hi = i;
        }
        var id = series.Insert(new BsonDocument
        {
            ["pos"] = Pos(n, points[start].Step),
            ["firstStep"] = points[start].Step,
            ["lastStep"] = points[start + length - 1].Step,
            ["count"] = length,
            ["lo"] = lo < 0 ? BsonValue.Null : Extreme(points[start + lo], lo),
            ["hi"] = hi < 0 ? BsonValue.Null : Extreme(points[start + hi], hi),
        });
        byte[] steps = new byte[length * sizeof(int)], values = new byte[length * sizeof(double)], times = new byte[length * sizeof(long)];
        for (int i = 0; i < length; i++)
        {
            var point = points[start + i];
            BinaryPrimitives.WriteInt32LittleEndian(steps.AsSpan(i * sizeof(int)), point.Step);
            BinaryPrimitives.WriteDoubleLittleEndian(values.AsSpan(i * sizeof(double)), point.Value);
            BinaryPrimitives.WriteInt64LittleEndian(times.AsSpan(i * sizeof(long)), point.Timestamp.ToUnixTimeMilliseconds());
        }
        seriesPoints.Insert(new BsonDocument
        {
            ["_id"] = id,
            ["steps"] = steps,
            ["values"] = values,
            ["times"] = times,
        });
    }

    private static BsonDocument Extreme(MetricPoint point, int index) => new()
    {
        ["s"] = point.Step, ["v"] = point.Value, ["t"] = point.Timestamp.ToUnixTimeMilliseconds(), ["i"] = index,
    };

    /// <summary>
    /// Reads one page by merging the chunks that can hold its points in (step, chunk id, index) order. Chunks come in pos
    /// order from the first one that can reach the cursor's step (firstStep ≥ step − span), and each is read only when
    /// the merge reaches its first step, so a page reads the chunks it returns points of plus the few that overlap them.
    /// </summary>
    private MetricPage ReadPage(string trialId, string key, BsonDocument info, MetricCursor from, int maxPoints)
    {
        long n = info["n"].AsInt64;
        long lowest = Math.Max(int.MinValue, from.Step - info["span"].AsInt64);
        var candidates = series.Query()
            .Where(BsonExpression.Create("$.pos BETWEEN @0 AND @1", Pos(n, (int)lowest), Pos(n, int.MaxValue)))
            .Where(BsonExpression.Create("$.lastStep >= @0", from.Step))
            .OrderBy("$.pos")
            .Select("{ _id: $._id, firstStep: $.firstStep }")
            .ToDocuments()
            .GetEnumerator();
        using var _ = candidates;
        var merge = new PriorityQueue<ChunkReader, (int Step, long Chunk, int Index)>();
        BsonDocument? waiting = candidates.MoveNext() ? candidates.Current : null;
        var page = new List<MetricPoint>(Math.Min(maxPoints, 4096));
        int skip = from.Skip, runStep = 0, runLength = 0;
        while (true)
        {
            while (waiting is not null && (merge.Count == 0 || waiting["firstStep"].AsInt32 <= merge.Peek().Step))
            {
                var reader = new ChunkReader(waiting["_id"].AsInt64, seriesPoints.FindById(waiting["_id"]), from.Step);
                if (reader.HasPoint) merge.Enqueue(reader, reader.Order);
                waiting = candidates.MoveNext() ? candidates.Current : null;
            }
            if (merge.Count == 0) return new MetricPage(page, null);
            var next = merge.Peek();
            if (page.Count == maxPoints)
                return new MetricPage(page, next.Step == runStep ? new MetricCursor(runStep, runLength) : new MetricCursor(next.Step));
            merge.Dequeue();
            var point = next.Point(trialId, key);
            runLength = runLength > 0 && point.Step == runStep ? runLength + 1 : 1;
            runStep = point.Step;
            if (point.Step == from.Step && skip > 0) skip--;
            else page.Add(point);
            next.Advance();
            if (next.HasPoint) merge.Enqueue(next, next.Order);
        }
    }

    /// <summary>
    /// Keeps the first and last points and each bucket's lowest and highest. A chunk inside one bucket contributes its
    /// stored lo and hi without its points being read; only chunks that straddle a bucket edge or hold the series' ends
    /// are read.
    /// </summary>
    private List<MetricPoint> Downsample(string trialId, string key, BsonDocument info, int maxPoints)
    {
        long n = info["n"].AsInt64;
        int first = info["firstStep"].AsInt32, last = info["lastStep"].AsInt32, buckets = (maxPoints - 2) / 2;
        double width = ((double)last - first + 1) / buckets;
        int Bucket(int step) => (int)Math.Min(buckets - 1, Math.Floor((step - (double)first) / width));
        var lows = new Candidate?[buckets];
        var highs = new Candidate?[buckets];
        Candidate? head = null, tail = null;

        void Consider(Candidate c)
        {
            if (head is null || c.CompareTo(head.Value) < 0) head = c;
            if (tail is null || c.CompareTo(tail.Value) > 0) tail = c;
            if (double.IsNaN(c.Value)) return;
            int b = Bucket(c.Step);
            if (lows[b] is not { } lo || c.Value < lo.Value || c.Value == lo.Value && c.CompareTo(lo) < 0) lows[b] = c;
            if (highs[b] is not { } hi || c.Value > hi.Value || c.Value == hi.Value && c.CompareTo(hi) < 0) highs[b] = c;
        }

        // The summaries are small, so collecting them reads no points.
        var chunks = series.Find(BsonExpression.Create("$.pos BETWEEN @0 AND @1", Pos(n, int.MinValue), Pos(n, int.MaxValue))).ToList();
        foreach (var chunk in chunks)
        {
            long id = chunk["_id"].AsInt64;
            int firstStep = chunk["firstStep"].AsInt32, lastStep = chunk["lastStep"].AsInt32;
            if (Bucket(firstStep) == Bucket(lastStep) && firstStep != first && lastStep != last)
            {
                foreach (var extreme in new[] { chunk["lo"], chunk["hi"] }.Where(e => e.IsDocument).Select(e => e.AsDocument))
                    Consider(new Candidate(extreme["s"].AsInt32, id, extreme["i"].AsInt32, extreme["v"].AsDouble, extreme["t"].AsInt64));
                continue;
            }
            var reader = new ChunkReader(id, seriesPoints.FindById(id), int.MinValue);
            // Points are in step order, so each bucket is one run of them: only its lowest and highest (the first of
            // equal values) and the chunk's first and last points (for the series' ends) can be kept.
            int count = reader.Count;
            for (int start = 0; start < count;)
            {
                int bucket = Bucket(reader.StepAt(start)), end = start, lo = -1, hi = -1;
                double loValue = 0, hiValue = 0;
                for (; end < count && (end == start || Bucket(reader.StepAt(end)) == bucket); end++)
                {
                    double value = reader.ValueAt(end);
                    if (double.IsNaN(value)) continue;
                    if (lo < 0 || value < loValue) (lo, loValue) = (end, value);
                    if (hi < 0 || value > hiValue) (hi, hiValue) = (end, value);
                }
                if (lo >= 0) Consider(reader.CandidateAt(lo));
                if (hi >= 0) Consider(reader.CandidateAt(hi));
                start = end;
            }
            if (count > 0)
            {
                Consider(reader.CandidateAt(0));
                Consider(reader.CandidateAt(count - 1));
            }
        }
        return new[] { head, tail }.Concat(lows).Concat(highs).OfType<Candidate>()
            .Distinct()
            .Order()
            .Select(c => new MetricPoint(trialId, key, c.Step, c.Value, DateTimeOffset.FromUnixTimeMilliseconds(c.Time)))
            .ToList();
    }

    /// <summary>A point with its place in the series' order: step, then chunk id, then index in the chunk.</summary>
    private readonly record struct Candidate(int Step, long Chunk, int Index, double Value, long Time) : IComparable<Candidate>
    {
        public int CompareTo(Candidate other) =>
            Step != other.Step ? Step.CompareTo(other.Step) : Chunk != other.Chunk ? Chunk.CompareTo(other.Chunk) : Index.CompareTo(other.Index);
    }

    /// <summary>A position in one chunk's points, from the first at or after a step.</summary>
    private sealed class ChunkReader
    {
        private readonly long id;
        private readonly byte[] steps, values, times;
        private readonly int count;
        private int index;

        public ChunkReader(long id, BsonDocument points, int fromStep)
        {
            this.id = id;
            (steps, values, times) = (points["steps"].AsBinary, points["values"].AsBinary, points["times"].AsBinary);
            count = steps.Length / sizeof(int);
            int lo = 0, hi = count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (StepAt(mid) < fromStep) lo = mid + 1; else hi = mid;
            }
            index = lo;
        }

        public bool HasPoint => index < count;

        public int Step => StepAt(index);

        public (int Step, long Chunk, int Index) Order => (Step, id, index);

        public int Count => count;

        public Candidate CandidateAt(int i) => new(StepAt(i), id, i, ValueAt(i), TimeAt(i));

        public double ValueAt(int i) => BinaryPrimitives.ReadDoubleLittleEndian(values.AsSpan(i * sizeof(double)));

        public int StepAt(int i) => BinaryPrimitives.ReadInt32LittleEndian(steps.AsSpan(i * sizeof(int)));

        public MetricPoint Point(string trialId, string key) =>
            new(trialId, key, Step, ValueAt(index), DateTimeOffset.FromUnixTimeMilliseconds(TimeAt(index)));

        private long TimeAt(int i) => BinaryPrimitives.ReadInt64LittleEndian(times.AsSpan(i * sizeof(long)));

        public void Advance() => index++;
    }

    // ---- Databases written by the old LiteDbRunStore: a "metrics" collection of one document per point, or of chunks
    // without a first step (times in Unix ms, steps possibly unsorted). Converted once, batch by batch, each batch in one
    // transaction with the deletion of its old documents, so an interrupted conversion resumes where it stopped. ----

    private void ConvertOldMetrics()
    {
        const string old = "metrics";
        if (!db.CollectionExists(old)) return;
        var collection = db.GetCollection(old);
        while (true)
        {
            // In insertion order, which keeps points of one step in the order they were logged.
            var batch = collection.Query().OrderBy("$._id").Limit(OldDocumentBatch).ToList();
            if (batch.Count == 0) break;
            Atomic(() =>
            {
                Append(batch.SelectMany(OldPoints).ToList());
                collection.DeleteMany(BsonExpression.Create("$._id IN @0", new BsonArray(batch.Select(d => d["_id"]))));
            });
        }
        db.DropCollection(old);
    }

    private static IEnumerable<MetricPoint> OldPoints(BsonDocument d)
    {
        string trialId = d["trialId"].AsString, key = d["key"].AsString;
        if (!d["steps"].IsArray)
        {
            yield return new MetricPoint(trialId, key, d["step"].AsInt32, d["value"].AsDouble,
                new DateTimeOffset(DateTime.SpecifyKind(d["time"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)));
            yield break;
        }
        BsonArray steps = d["steps"].AsArray, values = d["values"].AsArray, times = d["times"].AsArray;
        for (int i = 0; i < steps.Count; i++)
            yield return new MetricPoint(trialId, key, steps[i].AsInt32, values[i].AsDouble, DateTimeOffset.FromUnixTimeMilliseconds(times[i].AsInt64));
    }

    // The key is hex-encoded: LiteDB compares string ids by culture, ignoring case, and keys that differ only in case are
    // different series.
    private static string SeriesId(string trialId, string key) => $"{trialId}/{Convert.ToHexStringLower(Encoding.UTF8.GetBytes(key))}";

    private static long Pos(long series, int firstStep) => (series << 32) + (firstStep + StepOffset);

    private static DateTimeOffset Time(BsonValue unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs.AsInt64);
}
