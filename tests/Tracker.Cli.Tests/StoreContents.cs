using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Metrics;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Cli.Tests;

/// <summary>A store filled with every kind of record <c>tracker migrate</c> copies, and a field-by-field comparison of two stores.</summary>
internal static class StoreContents
{
    /// <summary>A fixed instant with milliseconds, the precision every backend keeps.</summary>
    public static readonly DateTimeOffset T0 = new(2025, 5, 6, 7, 8, 9, 321, TimeSpan.Zero);

    /// <summary>The trial with the long series, tags, notes, reports, predictions and files.</summary>
    public const string MainTrial = "mig-e1-t1";

    /// <summary>A trial logged through the MLflow-compatible API, whose artifact URI points at the store's own folder.</summary>
    public const string LoggedTrial = "mig-e2-t7";

    /// <summary>Points of the long series of <see cref="MainTrial"/>.</summary>
    public const int LongSeries = 30_000;

    /// <summary>Fills an empty store; returns nothing, everything is read back from the store itself.</summary>
    /// <param name="stores">The store.</param>
    /// <param name="crowdedStep">Points logged at one step of the long series (more than a page of a series, to test the cursor's skip).</param>
    public static async Task SeedAsync(TrackerStores stores, int crowdedStep = 5)
    {
        var first = new Experiment
        {
            Id = "mig-e1",
            CreatedAt = T0,
            State = ExperimentState.Completed,
            FinishedAt = T0.AddHours(2),
            Message = "done",
            ExperimentTags = new() { ["team"] = "vision", ["mlflow.note.content"] = "sweep of the learning rate" },
            Spec = new ExperimentSpec
            {
                Name = "shapes sweep",
                Model = "small-cnn",
                Strategy = "random",
                StrategyOptions = new() { ["eta"] = 3, ["mode"] = "aggressive" },
                Dataset = new DatasetSpec { Name = "shapes", Options = new() { ["samples"] = 120, ["noise"] = 0.05 } },
                SearchSpace = new SearchSpace([new FloatParameter { Name = "learning_rate", Low = 1e-5, High = 0.1, Log = true }]),
                Fixed = new() { ["dropout"] = 0.25 },
                Objective = new ObjectiveSpec { Metric = MetricNames.ValF1Macro, Direction = ObjectiveDirection.Maximize },
                MaxTrials = 3,
                Epochs = 4,
                Seed = 7,
            },
        };
        var second = new Experiment
        {
            Id = "mig-e2",
            CreatedAt = T0.AddDays(1),
            State = ExperimentState.Running,
            LifecycleStage = LifecycleStage.Active,
            UpdatedAt = T0.AddDays(1).AddMinutes(5),
            Spec = new ExperimentSpec { Name = "logged runs", Execution = TrialExecution.External, Strategy = "random" },
        };
        await stores.Experiments.SaveExperimentAsync(first);
        await stores.Experiments.SaveExperimentAsync(second);

        await stores.Trials.SaveTrialsAsync(
        [
            Trial("mig-e1-t0", first.Id, 0, TrialState.Completed, 0.61),
            Trial(MainTrial, first.Id, 1, TrialState.Completed, 0.8312345678901234),
            Trial("mig-e1-t2", first.Id, 2, TrialState.Failed, null) with { Error = "loss became NaN", LifecycleStage = LifecycleStage.Deleted },
            Trial("mig-e2-t3", second.Id, 3, TrialState.Running, null),
            Trial(LoggedTrial, second.Id, 7, TrialState.Completed, 0.5) with
            {
                RunTags = new() { ["mlflow.runName"] = "bright-fox-7", ["mlflow.user"] = "ana" },
                Logged = new LoggedRunInfo
                {
                    UserId = "ana",
                    ArtifactUri = stores.Artifacts.ArtifactUri(LoggedTrial),
                    Params = new() { ["learning_rate"] = "0.001", ["optimizer"] = "adam" },
                    Latest = new() { ["acc"] = new MetricStamp(9, T0.AddSeconds(9)) },
                },
            },
        ]);
        await stores.Trials.UpdateTrialAnnotationsAsync(MainTrial, ["baseline", "Best"], "the one to beat");
        await stores.Trials.UpdateTrialAnnotationsAsync("mig-e1-t0", ["first"], null);
        await stores.Trials.UpdateTrialAnnotationsAsync(LoggedTrial, null, "logged from a notebook");

        // The long series: several points at some steps (logged in a known order), one step with more points than a page.
        var points = new List<MetricPoint>(LongSeries);
        for (int i = 0; points.Count < LongSeries; i++)
        {
            int step = i / 3;
            int count = step == 1000 ? crowdedStep : 1;
            for (int k = 0; k < count && points.Count < LongSeries; k++)
                points.Add(new MetricPoint(MainTrial, "loss", step, 1.0 / (points.Count + 1) + k * 1e-9, T0.AddMilliseconds(points.Count)));
        }
        // Appended in three calls, out of step order across them, as a client that logs late points would.
        await stores.Metrics.AppendMetricsAsync(points[10_000..]);
        await stores.Metrics.AppendMetricsAsync(points[..10_000]);
        await stores.Metrics.AppendMetricsAsync([new MetricPoint(MainTrial, "loss", 2, -1, T0.AddHours(1))]);
        await stores.Metrics.AppendMetricsAsync(Enumerable.Range(1, 40).Select(s => new MetricPoint(MainTrial, MetricNames.ValF1Macro, s, s / 50.0, T0.AddSeconds(s))).ToList());
        await stores.Metrics.AppendMetricsAsync([new MetricPoint(MainTrial, "Loss", 1, double.NaN, T0), new MetricPoint(MainTrial, "lr", 1, 1e-3, T0)]);
        await stores.Metrics.AppendMetricsAsync(Enumerable.Range(0, 10).Select(s => new MetricPoint(LoggedTrial, "acc", s, s / 10.0, T0.AddSeconds(s))).ToList());
        await stores.Trials.SaveTrialAsync(Trial("mig-e1-t0", first.Id, 0, TrialState.Completed, 0.61),
            [new MetricPoint("mig-e1-t0", "loss", 1, 0.9, T0), new MetricPoint("mig-e1-t0", "loss", 2, 0.7, T0.AddSeconds(1))]);

        // Reports on two splits, predictions with three thumbnails.
        string[] classes = ["circle", "square", "triangle"];
        int[] truth = [0, 1, 2, 0, 1, 2, 0, 1], guess = [0, 1, 1, 0, 2, 2, 0, 1];
        foreach (int step in new[] { 1, 2, 3 })
            await stores.Evaluations.SaveReportAsync(new EvaluationReport(MainTrial, "validation", step, classes, ClassificationMetrics.Compute(truth, guess.Select(g => (g + step) % 3).ToArray(), 3)));
        await stores.Evaluations.SaveReportAsync(new EvaluationReport(MainTrial, "test", 4, classes, ClassificationMetrics.Compute(truth, guess, 3)));
        var predictions = new PredictionSet(MainTrial, "test", classes,
            truth.Select((t, i) => new Prediction(i, t, guess[i], 0.5 + i / 20.0)).ToList(), [0, 2, 5]);
        await stores.Evaluations.SavePredictionsAsync(predictions, new Dictionary<int, byte[]> { [0] = Bytes(300, 1), [2] = Bytes(411, 2), [5] = Bytes(97, 3) });

        // An uploaded image with its record, a nested file and a checkpoint.
        await Write(stores, MainTrial, "samples/confusion.png", Bytes(200_000, 4));
        await stores.Artifacts.SaveArtifactMetadataAsync(new ArtifactMetadata(MainTrial, "samples/confusion.png", "image/png", "confusion matrix", "circle", "square", T0.AddMinutes(4)));
        await Write(stores, MainTrial, "last.pt", Bytes(1_500_000, 5));
        await Write(stores, LoggedTrial, "model/deep/weights.bin", Bytes(12_345, 6));
        await stores.Artifacts.SaveArtifactMetadataAsync(new ArtifactMetadata(LoggedTrial, "model/deep/weights.bin", "application/octet-stream", null, null, null, T0));

        // Two API keys, one revoked; both used.
        await stores.ApiKeys.AddApiKeyAsync(new ApiKeyRecord("key1", "training box", Hash("trk_one"), "trk_one", T0, T0.AddDays(3)));
        await stores.ApiKeys.AddApiKeyAsync(new ApiKeyRecord("key2", "old laptop", Hash("trk_two"), "trk_two", T0.AddDays(1), T0.AddDays(2), T0.AddDays(2).AddHours(1)));
    }

    private static Trial Trial(string id, string experimentId, int number, TrialState state, double? objective) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        Parameters = new() { ["learning_rate"] = 0.000123456789012345 * (number + 1), ["optimizer"] = "sgd" },
        ResolvedParameters = new() { ["learning_rate"] = 0.000123456789012345 * (number + 1), ["dropout"] = 0.25 },
        State = state,
        Epochs = 4,
        EpochsDone = 3,
        Intermediate = [new IntermediateValue(1, 0.5), new IntermediateValue(2, 0.6180339887498949)],
        Objective = objective,
        FinalMetrics = objective is { } o ? new() { [MetricNames.ValF1Macro] = o, ["train_loss"] = 1.2345678901234e-7 } : [],
        Warnings = number == 1 ? ["skipped 2 corrupt images"] : [],
        CreatedAt = T0.AddMinutes(number),
        StartedAt = T0.AddMinutes(number).AddSeconds(1.5),
        FinishedAt = state is TrialState.Running ? null : T0.AddMinutes(number + 3),
    };

    private static async Task Write(TrackerStores stores, string trialId, string path, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        await stores.Artifacts.WriteArtifactAsync(trialId, path, stream);
    }

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// Asserts that <paramref name="target"/> holds exactly what <paramref name="source"/> holds, field by field; a logged
    /// run's artifact URI in the source's folder must point at the target's folder instead, unless
    /// <paramref name="relocated"/> is <c>false</c> (a byte-for-byte copy keeps it as it is).
    /// </summary>
    public static async Task AssertSameAsync(TrackerStores source, TrackerStores target, bool relocated = true)
    {
        var experiments = await source.Experiments.ListExperimentsAsync();
        AssertJson(experiments, await target.Experiments.ListExperimentsAsync());
        Assert.Equal(2, experiments.Count);

        int trials = 0;
        foreach (var experiment in experiments)
        {
            var expected = await source.Trials.ListTrialsAsync(experiment.Id);
            var actual = await target.Trials.ListTrialsAsync(experiment.Id);
            Assert.Equal(expected.Count, actual.Count);
            trials += expected.Count;
            foreach (var (want, got) in expected.Zip(actual))
            {
                var expectedTrial = relocated && want.Logged is { } logged && logged.ArtifactUri == source.Artifacts.ArtifactUri(want.Id)
                    ? want with { Logged = logged with { ArtifactUri = target.Artifacts.ArtifactUri(want.Id) } }
                    : want;
                AssertJson(expectedTrial, got);
                Assert.Equal(expectedTrial, got, TrialComparer.Instance);
                await AssertSameTrialDataAsync(source, target, want.Id);
            }
            // New trials continue after the copied numbers.
            int next = await target.Trials.NextTrialNumberAsync(experiment.Id);
            Assert.Equal(expected.Max(t => t.Number) + 1, next);
        }
        Assert.Equal(5, trials);

        AssertJson(await source.ApiKeys.ListApiKeysAsync(), await target.ApiKeys.ListApiKeysAsync());
        var revoked = await target.ApiKeys.FindApiKeyByHashAsync(Hash("trk_two"));
        Assert.NotNull(revoked?.RevokedAt);
        Assert.Equal(T0.AddDays(2), revoked!.LastUsedAt);
    }

    private static async Task AssertSameTrialDataAsync(TrackerStores source, TrackerStores target, string trialId)
    {
        // Every series, every point in order.
        var keys = await source.Metrics.LatestMetricsAsync(trialId);
        Assert.Equal(keys.Select(Tuple), (await target.Metrics.LatestMetricsAsync(trialId)).Select(Tuple));
        foreach (var key in keys.Select(k => k.Key))
        {
            var expected = await ReadSeriesAsync(source.Metrics, trialId, key);
            var actual = await ReadSeriesAsync(target.Metrics, trialId, key);
            Assert.Equal(expected.Count, actual.Count);
            Assert.True(expected.SequenceEqual(actual), $"The series {trialId}/{key} differs.");
        }

        AssertJson(await source.Evaluations.ListReportsAsync(trialId), await target.Evaluations.ListReportsAsync(trialId));
        AssertJson(await source.Evaluations.GetPredictionsAsync(trialId), await target.Evaluations.GetPredictionsAsync(trialId));
        var images = await source.Evaluations.GetSampleImagesAsync(trialId);
        var copied = await target.Evaluations.GetSampleImagesAsync(trialId);
        Assert.Equal(images.Keys.Order(), copied.Keys.Order());
        foreach (var (index, png) in images) Assert.Equal(png, copied[index]);

        var files = await source.Artifacts.ListAllArtifactsAsync(trialId);
        Assert.Equal(files, await target.Artifacts.ListAllArtifactsAsync(trialId));
        foreach (var file in files)
            Assert.Equal(await ReadAllAsync(source.Artifacts, trialId, file.Path), await ReadAllAsync(target.Artifacts, trialId, file.Path));
        AssertJson((await source.Artifacts.GetArtifactMetadataAsync(trialId)).OrderBy(m => m.Path, StringComparer.Ordinal).ToList(),
            (await target.Artifacts.GetArtifactMetadataAsync(trialId)).OrderBy(m => m.Path, StringComparer.Ordinal).ToList());
    }

    /// <summary>A whole series, read a page at a time, as comparable tuples.</summary>
    public static async Task<List<(string, string, int, double, long)>> ReadSeriesAsync(IMetricStore metrics, string trialId, string key)
    {
        var points = new List<(string, string, int, double, long)>();
        MetricCursor? cursor = MetricCursor.Start;
        while (cursor is { } at)
        {
            var page = await metrics.ReadMetricsAsync(trialId, key, at, 7_000);
            points.AddRange(page.Points.Select(Tuple));
            cursor = page.Next;
        }
        return points;
    }

    private static (string, string, int, double, long) Tuple(MetricPoint p) => (p.TrialId, p.Key, p.Step, p.Value, p.Timestamp.UtcTicks);

    private static async Task<byte[]> ReadAllAsync(IArtifactStore artifacts, string trialId, string path)
    {
        await using var stream = await artifacts.OpenArtifactAsync(trialId, path);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>What a store holds, in short, to see that a refused migration changed nothing.</summary>
    public static async Task<string> SummaryAsync(TrackerStores stores)
    {
        var parts = new List<string>();
        foreach (var e in await stores.Experiments.ListExperimentsAsync())
        {
            parts.Add(Json(e));
            foreach (var t in await stores.Trials.ListTrialsAsync(e.Id))
            {
                parts.Add(Json(t));
                foreach (var latest in await stores.Metrics.LatestMetricsAsync(t.Id))
                    parts.Add($"{latest.Key}:{(await ReadSeriesAsync(stores.Metrics, t.Id, latest.Key)).Count}");
                parts.Add(Json(await stores.Artifacts.ListAllArtifactsAsync(t.Id)));
            }
        }
        parts.Add(Json(await stores.ApiKeys.ListApiKeysAsync()));
        return string.Join('\n', parts);
    }

    private static void AssertJson<T>(T expected, T actual) => Assert.Equal(Json(expected), Json(actual));

    /// <summary>Tracker's JSON of a record with every object's properties in ordinal order (dictionaries compare regardless of order).</summary>
    private static string Json<T>(T value) => Canonical(JsonSerializer.SerializeToNode(value, TrackerJson.Options))?.ToJsonString() ?? "null";

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonical).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>The fields the JSON comparison might hide (instants compared as instants).</summary>
    private sealed class TrialComparer : IEqualityComparer<Trial>
    {
        public static readonly TrialComparer Instance = new();

        public bool Equals(Trial? x, Trial? y) => x is not null && y is not null
            && x.Id == y.Id && x.ExperimentId == y.ExperimentId && x.Number == y.Number && x.State == y.State
            && x.Tags.SequenceEqual(y.Tags) && x.Notes == y.Notes && x.CreatedAt == y.CreatedAt && x.StartedAt == y.StartedAt
            && x.FinishedAt == y.FinishedAt && x.Objective == y.Objective && x.LifecycleStage == y.LifecycleStage
            && x.Logged?.ArtifactUri == y.Logged?.ArtifactUri;

        public int GetHashCode(Trial obj) => obj.Id.GetHashCode();
    }
}
