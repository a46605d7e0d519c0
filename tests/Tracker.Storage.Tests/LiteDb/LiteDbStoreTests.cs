using LiteDB;
using Tracker.Core;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>
/// What only the LiteDB backend promises: one owner per file, and reading the layouts that the old LiteDbRunStore left
/// behind (one document per metric point, then chunks of parallel arrays; trials without the query fields or a counter).
/// </summary>
public sealed class LiteDbStoreTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-litedb-only-").FullName;
    private readonly List<LiteDbStore> opened = [];

    private string DatabasePath => Path.Combine(folder, "data", "tracker.db");

    public void Dispose()
    {
        foreach (var store in opened) store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private LiteDbStore Open()
    {
        var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files"));
        opened.Add(store);
        return store;
    }

    /// <summary>Writes documents as an older version did, straight through the LiteDB package.</summary>
    private void WriteOld(Action<LiteDatabase> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using var raw = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct });
        write(raw);
    }

    /// <summary>A record as the old store wrote it: its JSON fields only, with the id as _id.</summary>
    private static BsonDocument OldDocument<T>(T record, string id)
    {
        var doc = LiteDB.JsonSerializer.Deserialize(System.Text.Json.JsonSerializer.Serialize(record, TrackerJson.Options)).AsDocument;
        doc["_id"] = id;
        return doc;
    }

    private static BsonDocument OldPoint(string trialId, string key, int step, double value, DateTimeOffset time) => new()
    {
        ["trialId"] = trialId, ["key"] = key, ["step"] = step, ["value"] = value, ["time"] = time.UtcDateTime,
    };

    private static BsonDocument OldChunk(string trialId, string key, params (int Step, double Value, DateTimeOffset Time)[] points) => new()
    {
        ["trialId"] = trialId,
        ["key"] = key,
        ["steps"] = new BsonArray(points.Select(p => new BsonValue(p.Step))),
        ["values"] = new BsonArray(points.Select(p => new BsonValue(p.Value))),
        ["times"] = new BsonArray(points.Select(p => new BsonValue(p.Time.ToUnixTimeMilliseconds()))),
    };

    [Fact]
    public void Constructor_FileHeldByAnotherStore_ThrowsStoreInUseNamingFileAndProcess()
    {
        var holder = Open();

        var error = Assert.Throws<StoreInUseException>(() => new LiteDbStore(DatabasePath, Path.Combine(folder, "files")));

        Assert.Equal(Path.GetFullPath(DatabasePath), error.DatabasePath);
        Assert.Contains(Path.GetFullPath(DatabasePath), error.Message);
        string pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(error.Message.Contains(pid, StringComparison.Ordinal), $"The message does not name process {pid}: {error.Message}");
        Assert.NotNull(holder);
    }

    // LiteDB 5 makes a collection on its first write; a reader meeting it meanwhile could read an empty page for it
    // ("page type must be collection page") and close the engine. The store makes every collection when it opens.
    [Fact]
    public void Constructor_NewFile_MakesEveryCollectionBeforeAnyoneReads()
    {
        Open().Dispose();
        opened.Clear();
        using var raw = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct });
        string[] expected = ["experiments", "trials", "counters", "reports", "predictions", "artifacts", "apiKeys", "series", "seriesPoints", "latest", "_files", "_chunks"];
        Assert.Equal(expected, expected.Where(raw.CollectionExists));
        Assert.All(expected, name => Assert.Equal(0, raw.GetCollection(name).Count()));
    }

    [Fact]
    public async Task FirstWritesOfEachKind_WhileReadersRead_NoReaderOrWriterFails()
    {
        var cancel = TestContext.Current.CancellationToken;
        for (int round = 0; round < 20; round++)
        {
            foreach (var store in opened) store.Dispose();
            opened.Clear();
            if (Directory.Exists(Path.GetDirectoryName(DatabasePath))) Directory.Delete(Path.GetDirectoryName(DatabasePath)!, recursive: true);
            var fresh = Open();
            using var stop = new CancellationTokenSource();
            var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await fresh.GetExperimentAsync("e1", cancel);
                    await fresh.GetTrialAsync("t1", cancel);
                    await fresh.ReadMetricsAsync("t1", "loss", MetricCursor.Start, 10, cancel);
                    await fresh.LatestMetricsAsync("t1", cancel);
                    await fresh.GetLatestReportAsync("t1", cancellationToken: cancel);
                    await fresh.ListApiKeysAsync(cancel);
                }
            }, cancel)).ToList();
            await fresh.SaveExperimentAsync(Experiment("e1"), cancel);
            await fresh.SaveTrialAsync(FullTrial("t1", "e1", 0, TrialState.Running), [Point("t1", "loss", 0, 1.0)], cancel);
            await fresh.NextTrialNumberAsync("e1", cancel);
            await fresh.AppendMetricsAsync([Point("t1", "acc", 0, 0.5)], cancel);
            await stop.CancelAsync();
            await Task.WhenAll(readers); // a reader's exception fails the test here
            Assert.Equal(1.0, (await fresh.ReadMetricsAsync("t1", "loss", MetricCursor.Start, 10, cancel)).Points.Single().Value);
        }
    }

    [Fact]
    public async Task Constructor_AfterTheHolderIsDisposed_OpensAgainWithTheData()
    {
        var holder = Open();
        await holder.SaveTrialAsync(Trial("t"));
        holder.Dispose();
        opened.Remove(holder);

        var again = Open();

        Assert.NotNull(await again.GetTrialAsync("t"));
    }

    [Fact]
    public async Task Constructor_DefaultArtifactRoot_IsBesideTheFile()
    {
        using var store = new LiteDbStore(DatabasePath);

        await store.WriteArtifactAsync("t1", "a.txt", new MemoryStream([1, 2, 3]));

        Assert.True(File.Exists(Path.Combine(folder, "data", "artifacts", "t1", "a.txt")));
    }

    [Fact]
    public async Task ReadMetricsAsync_OldOnePointPerDocumentLayout_ReadTogetherWithNewPoints()
    {
        WriteOld(raw => raw.GetCollection("metrics").InsertBulk(Enumerable.Range(1, 3).Select(i => OldPoint("t1", "val_loss", i, 1.0 / i, T0.AddSeconds(i)))));
        var store = Open();

        await store.AppendMetricsAsync([Point("t1", "val_loss", 4, 0.2, T0.AddSeconds(4))]);
        var all = (await store.ReadMetricsAsync("t1", "val_loss", MetricCursor.Start, 100)).Points;

        Assert.Equal([1, 2, 3, 4], all.Select(p => p.Step));
        Assert.Equal([1.0, 0.5, 1.0 / 3, 0.2], all.Select(p => p.Value));
        Assert.Equal(T0.AddSeconds(3).UtcTicks, all[2].Timestamp.UtcTicks);
    }

    [Fact]
    public async Task ReadMetricsAsync_OldChunkLayout_PointsInStepThenLoggingOrder()
    {
        WriteOld(raw =>
        {
            var metrics = raw.GetCollection("metrics");
            // Chunks as the old store wrote them: steps in logging order, not sorted, one step across two chunks.
            metrics.Insert(OldChunk("t1", "loss", (3, 0.3, T0.AddSeconds(3)), (1, 0.1, T0.AddSeconds(1)), (2, 0.2, T0.AddSeconds(2))));
            metrics.Insert(OldPoint("t1", "loss", 2, 0.25, T0.AddSeconds(5)));
            metrics.Insert(OldChunk("t1", "loss", (2, 0.27, T0.AddSeconds(6)), (4, 0.4, T0.AddSeconds(7))));
            metrics.Insert(OldChunk("t1", "acc", (1, 0.5, T0)));
            metrics.Insert(OldChunk("t2", "loss", (1, 9.0, T0)));
        });
        var store = Open();

        var loss = (await store.ReadMetricsAsync("t1", "loss", MetricCursor.Start, 100)).Points;
        var paged = (await store.ReadMetricsAsync("t1", "loss", new MetricCursor(2, 1), 2)).Points;

        Assert.Equal([(1, 0.1), (2, 0.2), (2, 0.25), (2, 0.27), (3, 0.3), (4, 0.4)], loss.Select(p => (p.Step, p.Value)));
        Assert.Equal(T0.AddSeconds(7).UtcTicks, loss[^1].Timestamp.UtcTicks);
        Assert.Equal([0.25, 0.27], paged.Select(p => p.Value));
        Assert.Equal([0.5], (await store.ReadMetricsAsync("t1", "acc", MetricCursor.Start, 100)).Points.Select(p => p.Value));
        Assert.Equal([9.0], (await store.ReadMetricsAsync("t2", "loss", MetricCursor.Start, 100)).Points.Select(p => p.Value));
    }

    [Fact]
    public async Task LatestMetricsAsync_OldLayouts_KnowsTheLatestOfEachKey()
    {
        WriteOld(raw =>
        {
            var metrics = raw.GetCollection("metrics");
            metrics.Insert(OldPoint("t1", "acc", 5, 0.8, T0.AddSeconds(5)));
            metrics.Insert(OldChunk("t1", "acc", (3, 0.9, T0.AddSeconds(9)), (2, 0.1, T0)));
            metrics.Insert(OldChunk("t1", "loss", (1, 0.5, T0), (1, 0.4, T0.AddSeconds(1))));
        });
        var store = Open();

        var latest = await store.LatestMetricsAsync("t1");

        Assert.Equal([("acc", 5, 0.8), ("loss", 1, 0.4)], latest.Select(p => (p.Key, p.Step, p.Value)));
    }

    [Fact]
    public async Task ReadMetricsAsync_OldLayoutAfterReopen_ConvertedOnceNotDuplicated()
    {
        WriteOld(raw => raw.GetCollection("metrics").InsertBulk(Enumerable.Range(1, 2500).Select(i => OldPoint("t1", "loss", i, i, T0.AddMilliseconds(i)))));
        Open().Dispose();
        opened.Clear();

        var store = Open();
        var points = await store.ReadAllMetricsAsync("t1", "loss", pageSize: 1000);

        Assert.Equal(Enumerable.Range(1, 2500), points.Select(p => p.Step));
        var thinned = await store.ReadMetricsDownsampledAsync("t1", "loss", 50);
        Assert.Equal((1, 2500), (thinned[0].Step, thinned[^1].Step));
    }

    [Fact]
    public async Task QueryTrialsAsync_OldTrialsWithoutQueryFields_AreFoundAndAnnotatable()
    {
        WriteOld(raw =>
        {
            // A trial as an older store wrote it: the record's fields only.
            var trial = Trial("old", "e1", 0) with
            {
                Parameters = new() { ["optimizer"] = "rmsprop" },
                FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.5 },
                FinishedAt = T0.AddMinutes(1),
            };
            var doc = OldDocument(trial, "old");
            doc.Remove("tags");
            doc.Remove("notes");
            raw.GetCollection("trials").Insert(doc);
            raw.GetCollection("experiments").Insert(OldDocument(Experiment("e1", "legacy sweep"), "e1"));
        });
        var store = Open();

        Assert.Equal(["old"], (await store.QueryTrialsAsync(new TrialQuery { Text = "rmsprop" })).Items.Select(r => r.Trial.Id));
        Assert.Equal(["old"], (await store.QueryTrialsAsync(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt) })).Items.Select(r => r.Trial.Id));
        Assert.Equal(["old"], (await store.QueryTrialsAsync(new TrialQuery { Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.4, null) } })).Items.Select(r => r.Trial.Id));
        Assert.Equal("legacy sweep", (await store.QueryTrialsAsync(new TrialQuery())).Items.Single().ExperimentName);
        Assert.Empty((await store.GetTrialAsync("old"))!.Tags);
        await store.UpdateTrialAnnotationsAsync("old", ["legacy"], null);
        Assert.Equal(["legacy"], (await store.GetTrialAsync("old"))!.Tags);
    }

    [Fact]
    public async Task GetTrialAsync_OldTrialWithoutAnAttemptCount_ReadsZeroAndKeepsACountOnceSaved()
    {
        WriteOld(raw =>
        {
            var doc = OldDocument(Trial("old", "e1", 0, TrialState.Running) with { Attempts = 5 }, "old");
            doc.Remove("attempts");
            raw.GetCollection("trials").Insert(doc);
        });
        var store = Open();

        var read = (await store.GetTrialAsync("old"))!;
        Assert.Equal((TrialState.Running, 0), (read.State, read.Attempts));
        await store.SaveTrialAsync(read with { State = TrialState.Queued, Attempts = 1 });
        Assert.Equal(1, (await store.GetTrialAsync("old"))!.Attempts);
    }

    [Fact]
    public async Task NextTrialNumberAsync_OldTrialsWithoutACounter_ContinuesAfterTheirNumbers()
    {
        WriteOld(raw => raw.GetCollection("trials").InsertBulk(new[] { 0, 1, 7 }.Select(n => OldDocument(Trial($"t{n}", "e1", n), $"t{n}"))));
        var store = Open();

        Assert.Equal(8, await store.NextTrialNumberAsync("e1"));
        Assert.Equal(0, await store.NextTrialNumberAsync("e2"));
    }

    [Fact]
    public async Task AppendMetricsAsync_LongSeries_StoredInChunksNotDocumentsPerPoint()
    {
        var store = Open();
        await store.AppendMetricsAsync(Enumerable.Range(1, 2500).Select(i => Point("t1", "loss", i, 1.0 / i)).ToList());
        await store.AppendMetricsAsync([Point("t1", "loss", 2501, 0.5)]);
        store.Dispose();
        opened.Clear();

        using var raw = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct });
        var chunks = raw.GetCollection("seriesPoints").FindAll().ToList();
        Assert.InRange(chunks.Count, 3, 4); // 2,500 points in chunks of at most 1,000, and the later single point
        // Each chunk's steps, values and times are packed little-endian int32, double and int64.
        Assert.All(chunks, c =>
        {
            int count = c["steps"].AsBinary.Length / sizeof(int);
            Assert.InRange(count, 1, LiteDbStore.MaxPointsPerChunk);
            Assert.Equal(count * sizeof(double), c["values"].AsBinary.Length);
            Assert.Equal(count * sizeof(long), c["times"].AsBinary.Length);
        });
        Assert.Equal(2501, chunks.Sum(c => c["steps"].AsBinary.Length / sizeof(int)));
        var first = chunks.OrderBy(c => c["_id"].AsInt64).First();
        Assert.Equal(1, System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(first["steps"].AsBinary));
        Assert.Equal(1.0, System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(first["values"].AsBinary));
        Assert.Equal(0.5, System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(first["values"].AsBinary.AsSpan(sizeof(double))));
        Assert.False(raw.CollectionExists("metrics"));
    }

    [Fact]
    public async Task ReadMetricsDownsampledAsync_ChunksAcrossBucketEdges_KeepFirstOfEqualValuesAndEndsEvenIfNaN()
    {
        var store = Open();
        // 3,000 equal values in chunks of 1,000 that span many buckets; NaN at both ends and in the middle.
        var series = Enumerable.Range(1, 3000).Select(step => Point("t1", "m", step, step is 1 or 1500 or 3000 ? double.NaN : 2.0)).ToList();
        await store.AppendMetricsAsync(series);

        var thinned = await store.ReadMetricsDownsampledAsync("t1", "m", 100);

        // 49 buckets over steps 1..3000: each keeps its first non-NaN point (its lowest and its highest), plus both ends.
        int buckets = (100 - 2) / 2;
        double width = 3000.0 / buckets;
        var expected = series.Where(p => !double.IsNaN(p.Value))
            .GroupBy(p => (int)Math.Min(buckets - 1, Math.Floor((p.Step - 1) / width)))
            .Select(g => g.First().Step)
            .Append(1).Append(3000).Order();
        Assert.Equal(expected, thinned.Select(p => p.Step));
        Assert.True(double.IsNaN(thinned[0].Value) && double.IsNaN(thinned[^1].Value));
        Assert.All(thinned.Skip(1).SkipLast(1), p => Assert.Equal(2.0, p.Value));
    }
}
