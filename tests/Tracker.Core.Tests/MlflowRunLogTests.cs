using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Core.Tests;

/// <summary>RunLog over a real LiteDB file: what logged runs look like as trials, and MLflow's rules.</summary>
public sealed class MlflowRunLogTests : IDisposable
{
    private const long T0 = 1_700_000_000_000;
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-runlog-").FullName;
    private readonly MetricFeed feed = new();
    private LiteDbRunStore store;
    private RunLog log;

    public MlflowRunLogTests()
    {
        store = new LiteDbRunStore(Path.Combine(folder, "tracker.db"));
        log = new RunLog(store, feed);
    }

    public void Dispose()
    {
        store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private void Reopen()
    {
        store.Dispose();
        store = new LiteDbRunStore(Path.Combine(folder, "tracker.db"));
        log = new RunLog(store, feed);
    }

    private static T Ok<T>(TrackingResult<T> result)
    {
        Assert.True(result.Succeeded, result.Error?.Message);
        return result.Value!;
    }

    private string NewRun(string? experimentId = null) => Ok(log.CreateRun(new RunCreate { ExperimentId = experimentId, StartTime = T0 })).Id;

    [Fact]
    public void CreateRun_NoExperiment_GoesToTheDefaultExperimentMadeOnFirstUse()
    {
        Assert.Null(store.GetExperiment(RunLog.DefaultExperimentId));
        var run = Ok(log.GetRun(NewRun()));
        var experiment = store.GetExperiment(RunLog.DefaultExperimentId)!;
        Assert.Equal((RunLog.DefaultExperimentName, TrialExecution.Logged), (experiment.Spec.Name, experiment.Spec.Execution));
        Assert.Equal(RunLog.DefaultExperimentId, run.ExperimentId);
        Assert.Equal(TrialState.Running, run.State);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0), run.StartedAt);
    }

    [Fact]
    public void LogBatch_DottedKeys_SurviveTheStoreAndAReopen()
    {
        string id = NewRun();
        Ok(log.LogBatch(id, [new LoggedMetric("val/f1.macro", 0.5, T0 + 1, 1)], [new("optim.lr", "0.1")], [new("mlflow.source.name", "train.py")]));
        Reopen();
        var run = Ok(log.GetRun(id));
        Assert.Equal(0.5, run.FinalMetrics["val/f1.macro"]);
        Assert.Equal("0.1", run.Logged!.Params["optim.lr"]);
        Assert.Equal("train.py", run.RunTags["mlflow.source.name"]);
        Assert.Equal(new MetricStamp(1, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1)), run.Logged.Latest["val/f1.macro"]);
        var point = Assert.Single(store.GetMetrics(id, "val/f1.macro"));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1), point.Timestamp);
    }

    [Theory]
    [InlineData("32", 32.0)]
    [InlineData("-0.5", -0.5)]
    [InlineData("1e-3", 0.001)]
    [InlineData("adam", null)]
    [InlineData(" 5", null)]
    [InlineData("NaN", null)]
    [InlineData("Infinity", null)]
    [InlineData("1,5", null)]
    [InlineData("0x10", null)]
    [InlineData("", null)]
    public void LogParam_PlainNumbersBecomeNumbers_TextIsKeptVerbatim(string text, double? number)
    {
        string id = NewRun();
        Ok(log.LogParam(id, "p", text));
        var run = Ok(log.GetRun(id));
        Assert.Equal(text, run.Logged!.Params["p"]);
        Assert.Equal(number, run.Parameters["p"].Number);
        if (number is null) Assert.Equal(text, run.Parameters["p"].Text);
    }

    [Fact]
    public void LogBatch_OneBadEntry_NothingIsWritten()
    {
        string id = NewRun();
        var result = log.LogBatch(id, [new LoggedMetric("ok", 1, T0), new LoggedMetric("bad key!", 2, T0)], [new("p", "1")], []);
        Assert.Equal(TrackingErrorKind.InvalidParameter, result.Error!.Kind);
        var run = Ok(log.GetRun(id));
        Assert.Empty(run.FinalMetrics);
        Assert.Empty(run.Logged!.Params);
        Assert.Empty(store.GetMetrics(id));
    }

    [Fact]
    public void LogBatch_ObjectiveMetric_GivesObjectiveCurveAndSteps()
    {
        string id = NewRun();
        Ok(log.LogBatch(id, [new LoggedMetric(MetricNames.ValF1Macro, 0.4, T0, 1), new LoggedMetric(MetricNames.ValF1Macro, 0.6, T0 + 1, 2),
            new LoggedMetric(MetricNames.ValF1Macro, 0.65, T0 + 2, 2), new LoggedMetric("lr", 0.1, T0, 7)], [], []));
        var run = Ok(log.GetRun(id));
        Assert.Equal(0.65, run.Objective);
        Assert.Equal([new IntermediateValue(1, 0.4), new IntermediateValue(2, 0.65)], run.Intermediate);
        Assert.Equal((7, 7), (run.EpochsDone, run.Epochs));
    }

    [Fact]
    public void CreateRun_Concurrently_NumbersAreDistinct()
    {
        string experimentId = Ok(log.CreateExperiment("parallel")).Id;
        Parallel.For(0, 20, _ => NewRun(experimentId));
        Assert.Equal(Enumerable.Range(0, 20), store.ListTrials(experimentId).Select(t => t.Number));
        Reopen();
        Assert.Equal(20, Ok(log.GetRun(NewRun(experimentId))).Number);
    }

    [Fact]
    public void DeleteExperiment_RunsFollow_AndRestoreBringsThemBack()
    {
        string experimentId = Ok(log.CreateExperiment("lifecycle")).Id;
        string a = NewRun(experimentId), b = NewRun(experimentId);
        Ok(log.DeleteExperiment(experimentId));
        Assert.All(new[] { a, b }, id => Assert.Equal(LifecycleStage.Deleted, Ok(log.GetRun(id)).LifecycleStage));
        Assert.Equal(TrackingErrorKind.InvalidParameter, log.LogMetric(a, new LoggedMetric("m", 1, T0)).Error!.Kind);
        Ok(log.RestoreExperiment(experimentId));
        Assert.All(new[] { a, b }, id => Assert.Equal(LifecycleStage.Active, Ok(log.GetRun(id)).LifecycleStage));
        Assert.Equal(TrackingErrorKind.InvalidParameter, log.DeleteExperiment(RunLog.DefaultExperimentId).Error!.Kind);
    }

    [Fact]
    public void Writes_PublishOnTheFeed()
    {
        var events = new List<FeedEvent>();
        using var subscription = feed.Subscribe(events.Add);
        string experimentId = Ok(log.CreateExperiment("feed")).Id;
        string id = NewRun(experimentId);
        Ok(log.LogMetric(id, new LoggedMetric("m", 1, T0, 3)));
        Assert.Contains(events, e => e is ExperimentChanged c && c.Experiment.Id == experimentId);
        Assert.Contains(events, e => e is MetricsRecorded { Step: 3 } r && r.TrialId == id && r.Values["m"] == 1);
        Assert.Contains(events, e => e is TrialChanged c && c.Trial.Id == id && c.Trial.FinalMetrics.ContainsKey("m"));
    }
}
