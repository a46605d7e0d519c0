using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Storage.LiteDb;

namespace Tracker.Core.Tests;

/// <summary>RunLog over a real LiteDB file: what logged runs look like as trials, and MLflow's rules.</summary>
public sealed class MlflowRunLogTests : IDisposable
{
    private const long T0 = 1_700_000_000_000;
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-runlog-").FullName;
    private readonly MetricFeed feed = new();
    private LiteDbStore store;
    private RunLog log;

    public MlflowRunLogTests()
    {
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        log = NewLog(store);
    }

    public void Dispose()
    {
        store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private RunLog NewLog(LiteDbStore s) => new(s, s, s, s, feed);

    private void Reopen()
    {
        store.Dispose();
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        log = NewLog(store);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static T Ok<T>(TrackingResult<T> result)
    {
        Assert.True(result.Succeeded, result.Error?.Message);
        return result.Value!;
    }

    private async Task<string> NewRunAsync(string? experimentId = null) =>
        Ok(await log.CreateRunAsync(new RunCreate { ExperimentId = experimentId, StartTime = T0 }, Ct)).Id;

    private async Task<IReadOnlyList<MetricPoint>> PointsAsync(string trialId, string key) =>
        (await store.ReadMetricsAsync(trialId, key, MetricCursor.Start, int.MaxValue, Ct)).Points;

    [Fact]
    public async Task CreateRun_NoExperiment_GoesToTheDefaultExperimentMadeOnFirstUse()
    {
        Assert.Null(await store.GetExperimentAsync(RunLog.DefaultExperimentId, Ct));
        var run = Ok(await log.GetRunAsync(await NewRunAsync(), Ct));
        var experiment = (await store.GetExperimentAsync(RunLog.DefaultExperimentId, Ct))!;
        Assert.Equal((RunLog.DefaultExperimentName, TrialExecution.Logged), (experiment.Spec.Name, experiment.Spec.Execution));
        Assert.Equal(RunLog.DefaultExperimentId, run.ExperimentId);
        Assert.Equal(TrialState.Running, run.State);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0), run.StartedAt);
    }

    [Fact]
    public async Task LogBatch_DottedKeys_SurviveTheStoreAndAReopen()
    {
        string id = await NewRunAsync();
        Ok(await log.LogBatchAsync(id, [new LoggedMetric("val/f1.macro", 0.5, T0 + 1, 1)], [new("optim.lr", "0.1")], [new("mlflow.source.name", "train.py")], Ct));
        Reopen();
        var run = Ok(await log.GetRunAsync(id, Ct));
        Assert.Equal(0.5, run.FinalMetrics["val/f1.macro"]);
        Assert.Equal("0.1", run.Logged!.Params["optim.lr"]);
        Assert.Equal("train.py", run.RunTags["mlflow.source.name"]);
        Assert.Equal(new MetricStamp(1, DateTimeOffset.FromUnixTimeMilliseconds(T0 + 1)), run.Logged.Latest["val/f1.macro"]);
        var point = Assert.Single(await PointsAsync(id, "val/f1.macro"));
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
    public async Task LogParam_PlainNumbersBecomeNumbers_TextIsKeptVerbatim(string text, double? number)
    {
        string id = await NewRunAsync();
        Ok(await log.LogParamAsync(id, "p", text, Ct));
        var run = Ok(await log.GetRunAsync(id, Ct));
        Assert.Equal(text, run.Logged!.Params["p"]);
        Assert.Equal(number, run.Parameters["p"].Number);
        if (number is null) Assert.Equal(text, run.Parameters["p"].Text);
    }

    [Fact]
    public async Task LogBatch_OneBadEntry_NothingIsWritten()
    {
        string id = await NewRunAsync();
        var result = await log.LogBatchAsync(id, [new LoggedMetric("ok", 1, T0), new LoggedMetric("bad key!", 2, T0)], [new("p", "1")], [], Ct);
        Assert.Equal(TrackingErrorKind.InvalidParameter, result.Error!.Kind);
        var run = Ok(await log.GetRunAsync(id, Ct));
        Assert.Empty(run.FinalMetrics);
        Assert.Empty(run.Logged!.Params);
        // No point of any key was stored.
        Assert.Empty(await store.LatestMetricsAsync(id, Ct));
        Assert.Empty(await PointsAsync(id, "ok"));
        Assert.Empty(await PointsAsync(id, "bad key!"));
    }

    [Fact]
    public async Task LogBatch_ObjectiveMetric_GivesObjectiveCurveAndSteps()
    {
        string id = await NewRunAsync();
        Ok(await log.LogBatchAsync(id, [new LoggedMetric(MetricNames.ValF1Macro, 0.4, T0, 1), new LoggedMetric(MetricNames.ValF1Macro, 0.6, T0 + 1, 2),
            new LoggedMetric(MetricNames.ValF1Macro, 0.65, T0 + 2, 2), new LoggedMetric("lr", 0.1, T0, 7)], [], [], Ct));
        var run = Ok(await log.GetRunAsync(id, Ct));
        Assert.Equal(0.65, run.Objective);
        Assert.Equal([new IntermediateValue(1, 0.4), new IntermediateValue(2, 0.65)], run.Intermediate);
        Assert.Equal((7, 7), (run.EpochsDone, run.Epochs));
    }

    [Fact]
    public async Task GetMetricHistory_Pages_ContinueFromTheTokenAndGiveEveryPointOnce()
    {
        string id = await NewRunAsync();
        // Steps 0..9, with three points at step 4 so that a page boundary falls inside a step.
        var logged = Enumerable.Range(0, 10).Select(step => new LoggedMetric("loss", step, T0 + step, step))
            .Concat([new LoggedMetric("loss", 4.1, T0 + 20, 4), new LoggedMetric("loss", 4.2, T0 + 21, 4)])
            .ToList();
        Ok(await log.LogBatchAsync(id, logged, [], [], Ct));

        var whole = Ok(await log.GetMetricHistoryAsync(id, "loss", cancellationToken: Ct));
        Assert.Null(whole.NextPageToken);
        Assert.Equal(12, whole.Items.Count);

        var seen = new List<MetricPoint>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = Ok(await log.GetMetricHistoryAsync(id, "loss", maxResults: 5, pageToken: token, cancellationToken: Ct));
            Assert.InRange(page.Items.Count, 1, 5);
            if (seen.Count > 0) Assert.True(page.Items[0].Step >= seen[^1].Step, "a page continues where the last one ended");
            seen.AddRange(page.Items);
            token = page.NextPageToken;
            Assert.True(++pages <= 12, "paging ends");
        }
        while (token is not null);

        Assert.Equal(12, seen.Count);
        Assert.Equal(whole.Items.Select(p => (p.Step, p.Value)), seen.Select(p => (p.Step, p.Value)));
        Assert.Equal(logged.Select(m => m.Value).Order(), seen.Select(p => p.Value).Order());
        Assert.Equal(seen.Select(p => p.Step).Order(), seen.Select(p => p.Step));

        var bad = await log.GetMetricHistoryAsync(id, "loss", pageToken: "not-a-token", cancellationToken: Ct);
        Assert.Equal(TrackingErrorKind.InvalidParameter, bad.Error!.Kind);
    }

    [Fact]
    public async Task CreateRun_Concurrently_NumbersAreDistinct()
    {
        string experimentId = Ok(await log.CreateExperimentAsync("parallel", cancellationToken: Ct)).Id;
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => NewRunAsync(experimentId), Ct)));
        Assert.Equal(Enumerable.Range(0, 20), (await store.ListTrialsAsync(experimentId, Ct)).Select(t => t.Number));
        Reopen();
        Assert.Equal(20, Ok(await log.GetRunAsync(await NewRunAsync(experimentId), Ct)).Number);
    }

    [Fact]
    public async Task DeleteExperiment_RunsFollow_AndRestoreBringsThemBack()
    {
        string experimentId = Ok(await log.CreateExperimentAsync("lifecycle", cancellationToken: Ct)).Id;
        string a = await NewRunAsync(experimentId), b = await NewRunAsync(experimentId);
        Ok(await log.DeleteExperimentAsync(experimentId, Ct));
        foreach (var id in new[] { a, b }) Assert.Equal(LifecycleStage.Deleted, Ok(await log.GetRunAsync(id, Ct)).LifecycleStage);
        Assert.Equal(TrackingErrorKind.InvalidParameter, (await log.LogMetricAsync(a, new LoggedMetric("m", 1, T0), Ct)).Error!.Kind);
        Ok(await log.RestoreExperimentAsync(experimentId, Ct));
        foreach (var id in new[] { a, b }) Assert.Equal(LifecycleStage.Active, Ok(await log.GetRunAsync(id, Ct)).LifecycleStage);
        Assert.Equal(TrackingErrorKind.InvalidParameter, (await log.DeleteExperimentAsync(RunLog.DefaultExperimentId, Ct)).Error!.Kind);
    }

    [Fact]
    public async Task Writes_PublishOnTheFeed()
    {
        var events = new List<FeedEvent>();
        using var subscription = feed.Subscribe(e => { lock (events) events.Add(e); });
        string experimentId = Ok(await log.CreateExperimentAsync("feed", cancellationToken: Ct)).Id;
        string id = await NewRunAsync(experimentId);
        Ok(await log.LogMetricAsync(id, new LoggedMetric("m", 1, T0, 3), Ct));
        List<FeedEvent> seen;
        lock (events) seen = [.. events];
        Assert.Contains(seen, e => e is ExperimentChanged c && c.Experiment.Id == experimentId);
        Assert.Contains(seen, e => e is MetricsRecorded { Step: 3 } r && r.TrialId == id && r.Values["m"] == 1);
        Assert.Contains(seen, e => e is TrialChanged c && c.Trial.Id == id && c.Trial.FinalMetrics.ContainsKey("m"));
    }
}
