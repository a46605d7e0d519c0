using Tracker.Core.Metrics;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

public sealed class LiteDbRunStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 4, 5, 6, 7, 123, TimeSpan.FromHours(2));
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-store-").FullName;
    private readonly List<LiteDbRunStore> opened = [];

    private string DatabasePath => Path.Combine(folder, "data", "tracker.db");

    public void Dispose()
    {
        foreach (var store in opened) store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private LiteDbRunStore Open()
    {
        var store = new LiteDbRunStore(DatabasePath);
        opened.Add(store);
        return store;
    }

    private static Experiment SampleExperiment(string id = "exp1", DateTimeOffset? createdAt = null) => new()
    {
        Id = id,
        CreatedAt = createdAt ?? T0,
        State = ExperimentState.Running,
        Spec = new ExperimentSpec
        {
            Name = "shapes sweep",
            Model = "small-cnn",
            Strategy = "random",
            StrategyOptions = new() { ["eta"] = 3, ["mode"] = "aggressive" },
            Dataset = new DatasetSpec { Name = "shapes", Options = new() { ["classes"] = 4, ["noise"] = 0.05 } },
            SearchSpace = new SearchSpace(
            [
                new FloatParameter { Name = "learning_rate", Low = 1e-7, High = 0.5, Log = true, Default = 1e-3 },
                new IntParameter { Name = "width", Low = 8, High = 64, Step = 8, Default = 16, Description = "channels" },
                new ChoiceParameter { Name = "optimizer", Values = ["adam", "sgd"], Default = "adam" },
                new FloatParameter
                {
                    Name = "momentum_like", Low = 0.1, High = 0.9,
                    Condition = new ParameterCondition("optimizer", ["sgd"]),
                },
            ]),
            Fixed = new() { ["dropout"] = 0.25, ["batch_size"] = 64 },
            Objective = new ObjectiveSpec { Metric = MetricNames.ValLoss, Direction = ObjectiveDirection.Minimize },
            MaxTrials = 7,
            Epochs = 2,
            Seed = 42,
            MaxConcurrentTrials = 2,
        },
    };

    private static Trial SampleTrial(string id, string experimentId, int number, TrialState state) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        // Digits that a lossy text conversion would drop, a tiny value and a string.
        Parameters = new() { ["learning_rate"] = 0.000123456789012345, ["width"] = 24, ["optimizer"] = "sgd", ["momentum_like"] = 1.0 / 3 },
        ResolvedParameters = new() { ["learning_rate"] = 0.000123456789012345, ["dropout"] = 0.25, ["tiny"] = 3.5e-12, ["head.drop-out"] = 0.2, ["optimizer"] = "sgd" },
        State = state,
        Epochs = 3,
        EpochsDone = 2,
        Intermediate = [new IntermediateValue(1, 0.5), new IntermediateValue(2, 0.6180339887498949)],
        Objective = state == TrialState.Completed ? 0.6180339887498949 : null,
        FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.6180339887498949, [MetricNames.TrainLoss] = 1.2345678901234e-7 },
        ResumedFrom = number > 0 ? "t0" : null,
        Error = state == TrialState.Failed ? "loss became NaN at epoch 2" : null,
        CreatedAt = T0,
        StartedAt = T0.AddSeconds(1.5),
        FinishedAt = state is TrialState.Queued or TrialState.Running ? null : T0.AddMinutes(3),
    };

    /// <summary>A deep comparison: the records hold dictionaries and lists, which compare by reference.</summary>
    private static void AssertSame<T>(T expected, T? actual) where T : class
    {
        Assert.NotNull(actual);
        Assert.Equal(JsonSerializer.Serialize(expected, TrackerJson.Options), JsonSerializer.Serialize(actual, TrackerJson.Options));
    }

    [Fact]
    public void SaveExperiment_ThenGet_RoundTripsSpecAndSearchSpace()
    {
        var store = Open();
        var experiment = SampleExperiment();

        store.SaveExperiment(experiment);
        var read = store.GetExperiment("exp1");

        AssertSame(experiment, read);
        var space = read!.Spec.SearchSpace;
        var lr = Assert.IsType<FloatParameter>(space["learning_rate"]);
        Assert.Equal((1e-7, 0.5, true), (lr.Low, lr.High, lr.Log));
        Assert.Equal(ParameterValue.Of(1e-3), lr.Default);
        var width = Assert.IsType<IntParameter>(space["width"]);
        Assert.Equal((8, 64, 8), (width.Low, width.High, width.Step));
        var optimizer = Assert.IsType<ChoiceParameter>(space["optimizer"]);
        Assert.Equal([ParameterValue.Of("adam"), ParameterValue.Of("sgd")], optimizer.Values);
        var conditional = Assert.IsType<FloatParameter>(space["momentum_like"]);
        Assert.Equal("optimizer", conditional.Condition!.Parameter);
        Assert.Equal([ParameterValue.Of("sgd")], conditional.Condition.Values);
        Assert.Equal(ParameterValue.Of(0.25), read.Spec.Fixed["dropout"]);
        Assert.Equal(ParameterValue.Of(3), read.Spec.StrategyOptions["eta"]);
        Assert.Equal(ParameterValue.Of("aggressive"), read.Spec.StrategyOptions["mode"]);
        Assert.Equal(ObjectiveDirection.Minimize, read.Spec.Objective.Direction);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Empty(space.Validate());
    }

    [Fact]
    public void SaveExperiment_Twice_ReplacesAndListsNewestFirst()
    {
        var store = Open();
        store.SaveExperiment(SampleExperiment("old", T0));
        store.SaveExperiment(SampleExperiment("new", T0.AddDays(1)));
        store.SaveExperiment(SampleExperiment("old", T0) with { State = ExperimentState.Failed, Message = "strategy threw" });

        var all = store.ListExperiments();

        Assert.Equal(["new", "old"], all.Select(e => e.Id));
        Assert.Equal(ExperimentState.Failed, all[1].State);
        Assert.Equal("strategy threw", all[1].Message);
        Assert.Null(store.GetExperiment("missing"));
    }

    [Fact]
    public void SaveTrial_ThenGet_RoundTripsParametersIntermediateAndMetrics()
    {
        var store = Open();
        var trial = SampleTrial("t1", "exp1", 1, TrialState.Completed);

        store.SaveTrial(trial);
        var read = store.GetTrial("t1");

        AssertSame(trial, read);
        Assert.Equal(ParameterValue.Of(0.000123456789012345), read!.Parameters["learning_rate"]);
        Assert.Equal(ParameterValue.Of(24), read.Parameters["width"]);
        Assert.Equal(ParameterValue.Of("sgd"), read.Parameters["optimizer"]);
        Assert.Equal(ParameterValue.Of(1.0 / 3), read.Parameters["momentum_like"]);
        Assert.Equal(ParameterValue.Of(3.5e-12), read.ResolvedParameters["tiny"]);
        Assert.Equal(ParameterValue.Of(0.2), read.ResolvedParameters["head.drop-out"]);
        Assert.Equal([new IntermediateValue(1, 0.5), new IntermediateValue(2, 0.6180339887498949)], read.Intermediate);
        Assert.Equal(0.6180339887498949, read.Objective);
        Assert.Equal(1.2345678901234e-7, read.FinalMetrics[MetricNames.TrainLoss]);
        Assert.Equal(TrialState.Completed, read.State);
        Assert.Equal(T0.AddMinutes(3), read.FinishedAt);
        Assert.Null(store.GetTrial("missing"));
    }

    [Fact]
    public void SaveTrial_NonFiniteMetric_RoundTrips()
    {
        var store = Open();
        var trial = SampleTrial("t1", "exp1", 0, TrialState.Failed) with
        {
            FinalMetrics = new() { [MetricNames.TrainLoss] = double.NaN, [MetricNames.ValLoss] = double.PositiveInfinity },
        };

        store.SaveTrial(trial);
        var read = store.GetTrial("t1")!;

        Assert.True(double.IsNaN(read.FinalMetrics[MetricNames.TrainLoss]));
        Assert.Equal(double.PositiveInfinity, read.FinalMetrics[MetricNames.ValLoss]);
    }

    [Fact]
    public void ListTrials_ByExperiment_InNumberOrder()
    {
        var store = Open();
        store.SaveTrial(SampleTrial("c", "exp1", 2, TrialState.Completed));
        store.SaveTrial(SampleTrial("a", "exp1", 0, TrialState.Completed));
        store.SaveTrial(SampleTrial("x", "exp2", 0, TrialState.Completed));
        store.SaveTrial(SampleTrial("b", "exp1", 1, TrialState.Running));

        Assert.Equal(["a", "b", "c"], store.ListTrials("exp1").Select(t => t.Id));
        Assert.Equal(["x"], store.ListTrials("exp2").Select(t => t.Id));
        Assert.Empty(store.ListTrials("none"));
    }

    [Fact]
    public void ListTrialsInState_GivenStates_ReturnsOnlyThose()
    {
        var store = Open();
        store.SaveTrial(SampleTrial("q", "exp1", 0, TrialState.Queued));
        store.SaveTrial(SampleTrial("r", "exp1", 1, TrialState.Running));
        store.SaveTrial(SampleTrial("c", "exp1", 2, TrialState.Completed));
        store.SaveTrial(SampleTrial("f", "exp2", 0, TrialState.Failed));
        store.SaveTrial(SampleTrial("r2", "exp2", 1, TrialState.Running));

        Assert.Equal(["q", "r", "r2"], store.ListTrialsInState(TrialState.Queued, TrialState.Running).Select(t => t.Id).Order());
        Assert.Equal(["f"], store.ListTrialsInState(TrialState.Failed).Select(t => t.Id));
        Assert.Empty(store.ListTrialsInState(TrialState.Pruned));
        Assert.Empty(store.ListTrialsInState());
    }

    [Fact]
    public void ListTrialsInState_AfterStateChange_FollowsTheLatestSave()
    {
        var store = Open();
        var trial = SampleTrial("t", "exp1", 0, TrialState.Running);
        store.SaveTrial(trial);
        store.SaveTrial(trial with { State = TrialState.Interrupted });

        Assert.Empty(store.ListTrialsInState(TrialState.Running));
        Assert.Equal(["t"], store.ListTrialsInState(TrialState.Interrupted).Select(t => t.Id));
    }

    [Fact]
    public void GetMetrics_AfterBatchAppend_OrderedByKeyThenStep()
    {
        var store = Open();
        store.AppendMetrics(
        [
            new MetricPoint("t1", "val_loss", 2, 0.75, T0.AddSeconds(2)),
            new MetricPoint("t1", "val_loss", 1, 0.9, T0.AddSeconds(1)),
            new MetricPoint("t1", "train_loss", 2, 0.5, T0.AddSeconds(2)),
            new MetricPoint("t2", "val_loss", 1, 0.1, T0),
        ]);
        store.AppendMetrics([new MetricPoint("t1", "train_loss", 1, 0.123456789012345678, T0.AddSeconds(1)), new MetricPoint("t1", "val_loss", 10, 0.7, T0.AddSeconds(10))]);
        store.AppendMetrics([]);

        var all = store.GetMetrics("t1");

        Assert.Equal(
            [("train_loss", 1), ("train_loss", 2), ("val_loss", 1), ("val_loss", 2), ("val_loss", 10)],
            all.Select(p => (p.Key, p.Step)));
        Assert.All(all, p => Assert.Equal("t1", p.TrialId));
        Assert.Equal(0.123456789012345678, all[0].Value);
        Assert.Equal([0.9, 0.75, 0.7], store.GetMetrics("t1", "val_loss").Select(p => p.Value));
        Assert.Equal(T0.AddSeconds(1).UtcTicks, all[0].Timestamp.UtcTicks); // whole milliseconds survive exactly
        Assert.Equal(TimeSpan.Zero, all[0].Timestamp.Offset);
        Assert.Equal([0.1], store.GetMetrics("t2").Select(p => p.Value));
        Assert.Empty(store.GetMetrics("t1", "val_accuracy"));
        Assert.Empty(store.GetMetrics("none"));
    }

    [Fact]
    public void AppendMetrics_LongSeries_StoredInChunksReadBackInStepOrder()
    {
        var points = Enumerable.Range(1, 2500).Select(i => new MetricPoint("t1", "loss", i, 1.0 / i, T0.AddMilliseconds(i))).ToList();
        points.Add(new MetricPoint("t1", "lr", 1, 0.1, T0));
        points.Add(new MetricPoint("t1", "lr", 1, 0.05, T0)); // the same step logged twice keeps both, in order
        using (var store = new LiteDbRunStore(DatabasePath))
        {
            store.AppendMetrics(points);
            store.AppendMetrics([new MetricPoint("t1", "loss", 2501, 0.5, T0)]);

            var loss = store.GetMetrics("t1", "loss");
            Assert.Equal(Enumerable.Range(1, 2501), loss.Select(p => p.Step));
            Assert.Equal(1.0 / 2500, loss[2499].Value);
            Assert.Equal(T0.AddMilliseconds(2500).UtcTicks, loss[2499].Timestamp.UtcTicks);
            Assert.Equal([0.1, 0.05], store.GetMetrics("t1", "lr").Select(p => p.Value));
        }

        // 2,500 loss points in chunks of 1,000, the lr series, and the later single point: five documents, not 2,503.
        using var raw = new LiteDB.LiteDatabase(DatabasePath);
        var chunks = raw.GetCollection("metrics").FindAll().ToList();
        Assert.Equal([1000, 1000, 500, 2, 1], chunks.OrderBy(d => d["_id"]).Select(d => d["steps"].AsArray.Count));
    }

    [Fact]
    public void GetMetrics_DatabaseWithOneDocumentPerPoint_ReadTogetherWithNewChunks()
    {
        // The layout databases had before series were chunked.
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using (var raw = new LiteDB.LiteDatabase(DatabasePath))
        {
            raw.GetCollection("metrics").InsertBulk(Enumerable.Range(1, 3).Select(i => new LiteDB.BsonDocument
            {
                ["trialId"] = "t1", ["key"] = "val_loss", ["step"] = i, ["value"] = 1.0 / i, ["time"] = T0.AddSeconds(i).UtcDateTime,
            }));
        }
        var store = Open();

        store.AppendMetrics([new MetricPoint("t1", "val_loss", 4, 0.2, T0.AddSeconds(4))]);

        var all = store.GetMetrics("t1", "val_loss");
        Assert.Equal([1, 2, 3, 4], all.Select(p => p.Step));
        Assert.Equal([1.0, 0.5, 1.0 / 3, 0.2], all.Select(p => p.Value));
        Assert.Equal(T0.AddSeconds(3).UtcTicks, all[2].Timestamp.UtcTicks);
    }

    private static EvaluationReport Report(string trial, string split, int step, int[] truth, int[] predicted) =>
        new(trial, split, step, ["cat", "dog"], ClassificationMetrics.Compute(truth, predicted, 2));

    [Fact]
    public void GetLatestReport_SeveralSteps_ReturnsHighestStepOfTheSplit()
    {
        var store = Open();
        store.SaveReport(Report("t1", "validation", 2, [0, 0, 1], [0, 1, 1]));
        store.SaveReport(Report("t1", "validation", 10, [0, 1, 1], [0, 1, 1]));
        store.SaveReport(Report("t1", "validation", 9, [1, 1, 1], [0, 0, 0]));
        store.SaveReport(Report("t1", "test", 3, [0, 0], [1, 1]));
        store.SaveReport(Report("t2", "validation", 11, [0], [0]));

        var latest = store.GetLatestReport("t1", "validation");

        Assert.NotNull(latest);
        Assert.Equal(10, latest.Step);
        Assert.Equal([[1, 0], [0, 2]], latest.Scores.Confusion);
        Assert.Equal(1.0, latest.Scores.MacroF1);
        Assert.Equal(["cat", "dog"], latest.ClassNames);
        Assert.Equal(10, store.GetLatestReport("t1")!.Step); // any split: the highest step
        Assert.Equal([[0, 2], [0, 0]], store.GetLatestReport("t1", "test")!.Scores.Confusion);
        Assert.Null(store.GetLatestReport("none"));
    }

    [Fact]
    public void SaveReport_SameStepTwice_Replaces()
    {
        var store = Open();
        store.SaveReport(Report("t1", "validation", 3, [0, 1], [1, 0]));
        store.SaveReport(Report("t1", "validation", 3, [0, 1], [0, 1]));

        var latest = store.GetLatestReport("t1", "validation")!;

        Assert.Equal([[1, 0], [0, 1]], latest.Scores.Confusion);
        Assert.Equal([1.0, 1.0], latest.Scores.F1);
    }

    [Fact]
    public void SavePredictions_WithThumbnails_RoundTripsAndReplaces()
    {
        var store = Open();
        var set = new PredictionSet("t1", "test", ["cat", "dog"],
            [new Prediction(0, 0, 0, 0.9), new Prediction(1, 1, 0, 0.6), new Prediction(2, 1, 1, 0.75)], [1, 2]);
        store.SavePredictions(set, new Dictionary<int, byte[]> { [1] = [1, 2, 3], [2] = [4, 5] });

        var read = store.GetPredictions("t1")!;
        Assert.Equal(set.Items, read.Items);
        Assert.Equal([1, 2], read.SampleIndices);
        Assert.Equal([1, 2, 3], store.GetSampleImage("t1", 1));
        Assert.Null(store.GetSampleImage("t1", 0));

        store.SavePredictions(set with { SampleIndices = [0] }, new Dictionary<int, byte[]> { [0] = [9] });
        Assert.Equal([9], store.GetSampleImage("t1", 0));
        Assert.Null(store.GetSampleImage("t1", 1)); // the earlier thumbnails are gone
        Assert.Null(store.GetPredictions("none"));
    }

    [Fact]
    public void Reopen_SameFile_FindsEverythingAgain()
    {
        var experiment = SampleExperiment();
        var trials = new[]
        {
            SampleTrial("t0", "exp1", 0, TrialState.Completed),
            SampleTrial("t1", "exp1", 1, TrialState.Running),
        };
        using (var first = new LiteDbRunStore(DatabasePath))
        {
            first.SaveExperiment(experiment);
            foreach (var t in trials) first.SaveTrial(t);
            first.AppendMetrics([new MetricPoint("t0", "val_loss", 1, 0.5, T0), new MetricPoint("t0", "val_loss", 2, 0.25, T0)]);
            first.SaveReport(Report("t0", "validation", 2, [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1]));
        }

        var second = Open();

        Assert.Equal(System.IO.Path.GetFullPath(DatabasePath), second.Path);
        AssertSame(experiment, second.GetExperiment("exp1"));
        Assert.Equal(["exp1"], second.ListExperiments().Select(e => e.Id));
        AssertSame(trials[0], second.GetTrial("t0"));
        AssertSame(trials[1], second.GetTrial("t1"));
        Assert.Equal(["t0", "t1"], second.ListTrials("exp1").Select(t => t.Id));
        Assert.Equal(["t1"], second.ListTrialsInState(TrialState.Running).Select(t => t.Id));
        Assert.Equal([0.5, 0.25], second.GetMetrics("t0", "val_loss").Select(p => p.Value));
        var report = second.GetLatestReport("t0", "validation")!;
        Assert.Equal(2, report.Step);
        Assert.Equal([[3, 1], [0, 4]], report.Scores.Confusion);
    }
}
