using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Storage.LiteDb;

namespace Tracker.Core.Tests;

/// <summary>The tracking services (registry, ingest, queries) over a real LiteDB file: what logged runs look like as trials.</summary>
public sealed class RunTrackingTests : IDisposable
{
    private const long T0 = 1_700_000_000_000;
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-runlog-").FullName;
    private readonly MetricFeed feed = new();
    private LiteDbStore store;
    private RunRegistry registry;
    private RunIngest ingest;
    private RunQueries queries;

    public RunTrackingTests()
    {
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        (registry, ingest, queries) = Services(store);
    }

    public void Dispose()
    {
        store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private (RunRegistry, RunIngest, RunQueries) Services(LiteDbStore s)
    {
        var r = new RunRegistry(s, s, s, s, feed);
        return (r, new RunIngest(r, s, s, feed), new RunQueries(r, s, s, s, s));
    }

    private void Reopen()
    {
        store.Dispose();
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        (registry, ingest, queries) = Services(store);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static T Ok<T>(TrackingResult<T> result)
    {
        Assert.True(result.Succeeded, result.Error?.Message);
        return result.Value!;
    }

    private async Task<string> NewRunAsync(string? experimentId = null) =>
        Ok(await registry.CreateRunAsync(new RunCreate { ExperimentId = experimentId, StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(T0) }, Ct)).Id;

    private async Task<IReadOnlyList<MetricPoint>> PointsAsync(string trialId, string key) =>
        (await store.ReadMetricsAsync(trialId, key, MetricCursor.Start, int.MaxValue, Ct)).Points;

    [Fact]
    public async Task CreateRun_NoExperiment_GoesToTheDefaultExperimentMadeOnFirstUse()
    {
        Assert.Null(await store.GetExperimentAsync(RunRegistry.DefaultExperimentId, Ct));
        var run = Ok(await registry.GetRunAsync(await NewRunAsync(), Ct));
        var experiment = (await store.GetExperimentAsync(RunRegistry.DefaultExperimentId, Ct))!;
        Assert.Equal((RunRegistry.DefaultExperimentName, TrialExecution.Logged), (experiment.Spec.Name, experiment.Spec.Execution));
        Assert.Equal(RunRegistry.DefaultExperimentId, run.ExperimentId);
        Assert.Equal(TrialState.Running, run.State);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0), run.StartedAt);
    }

    [Fact]
    public async Task LogBatch_DottedKeys_SurviveTheStoreAndAReopen()
    {
        string id = await NewRunAsync();
        Ok(await ingest.LogCheckedAsync(id, [new LoggedMetric("val/f1.macro", 0.5, T0 + 1, 1)], [ParamWrite.OfText("optim.lr", "0.1")], [new("mlflow.source.name", "train.py")], Ct));
        Reopen();
        var run = Ok(await registry.GetRunAsync(id, Ct));
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
        Ok(await ingest.LogCheckedAsync(id, [], [ParamWrite.OfText("p", text)], [], Ct));
        var run = Ok(await registry.GetRunAsync(id, Ct));
        Assert.Equal(text, run.Logged!.Params["p"]);
        Assert.Equal(number, run.Parameters["p"].Number);
        if (number is null) Assert.Equal(text, run.Parameters["p"].Text);
    }

    [Fact]
    public async Task LogBatch_OneBadEntry_NothingIsWritten()
    {
        string id = await NewRunAsync();
        var result = await ingest.LogMetricsAsync(id, [new LoggedMetric("ok", 1, T0), new LoggedMetric("bad", double.NaN, T0)], Ct);
        Assert.Equal((TrackingErrorKind.InvalidParameter, "points[1].value"), (result.Error!.Kind, result.Error.Field));
        var run = Ok(await registry.GetRunAsync(id, Ct));
        Assert.Empty(run.FinalMetrics);
        // No point of any key was stored.
        Assert.Empty(await store.LatestMetricsAsync(id, Ct));
        Assert.Empty(await PointsAsync(id, "ok"));
        Assert.Empty(await PointsAsync(id, "bad"));
    }

    [Fact]
    public async Task LogBatch_ObjectiveMetric_GivesObjectiveCurveAndSteps()
    {
        string id = await NewRunAsync();
        Ok(await ingest.LogCheckedAsync(id, [new LoggedMetric(MetricNames.ValF1Macro, 0.4, T0, 1), new LoggedMetric(MetricNames.ValF1Macro, 0.6, T0 + 1, 2),
            new LoggedMetric(MetricNames.ValF1Macro, 0.65, T0 + 2, 2), new LoggedMetric("lr", 0.1, T0, 7)], [], [], Ct));
        var run = Ok(await registry.GetRunAsync(id, Ct));
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
        Ok(await ingest.LogCheckedAsync(id, logged, [], [], Ct));

        var whole = Ok(await queries.GetMetricHistoryAsync(id, "loss", cancellationToken: Ct));
        Assert.Null(whole.NextPageToken);
        Assert.Equal(12, whole.Items.Count);

        var seen = new List<MetricPoint>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = Ok(await queries.GetMetricHistoryAsync(id, "loss", maxResults: 5, pageToken: token, cancellationToken: Ct));
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

        var bad = await queries.GetMetricHistoryAsync(id, "loss", pageToken: "not-a-token", cancellationToken: Ct);
        Assert.Equal(TrackingErrorKind.InvalidParameter, bad.Error!.Kind);
    }

    [Fact]
    public async Task CreateRun_Concurrently_NumbersAreDistinct()
    {
        string experimentId = Ok(await registry.CreateExperimentAsync("parallel", cancellationToken: Ct)).Id;
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => NewRunAsync(experimentId), Ct)));
        Assert.Equal(Enumerable.Range(0, 20), (await store.ListTrialsAsync(experimentId, Ct)).Select(t => t.Number));
        Reopen();
        Assert.Equal(20, Ok(await registry.GetRunAsync(await NewRunAsync(experimentId), Ct)).Number);
    }

    [Fact]
    public async Task DeleteExperiment_RunsFollow_AndRestoreBringsThemBack()
    {
        string experimentId = Ok(await registry.CreateExperimentAsync("lifecycle", cancellationToken: Ct)).Id;
        string a = await NewRunAsync(experimentId), b = await NewRunAsync(experimentId);
        Ok(await registry.DeleteExperimentAsync(experimentId, Ct));
        foreach (var id in new[] { a, b }) Assert.Equal(LifecycleStage.Deleted, Ok(await registry.GetRunAsync(id, Ct)).LifecycleStage);
        Assert.Equal(TrackingErrorKind.InvalidParameter, (await ingest.LogMetricsAsync(a, [new LoggedMetric("m", 1, T0)], Ct)).Error!.Kind);
        Ok(await registry.RestoreExperimentAsync(experimentId, Ct));
        foreach (var id in new[] { a, b }) Assert.Equal(LifecycleStage.Active, Ok(await registry.GetRunAsync(id, Ct)).LifecycleStage);
        Assert.Equal(TrackingErrorKind.InvalidParameter, (await registry.DeleteExperimentAsync(RunRegistry.DefaultExperimentId, Ct)).Error!.Kind);
    }

    [Fact]
    public async Task Writes_PublishOnTheFeed()
    {
        var events = new List<FeedEvent>();
        using var subscription = feed.Subscribe(e => { lock (events) events.Add(e); });
        string experimentId = Ok(await registry.CreateExperimentAsync("feed", cancellationToken: Ct)).Id;
        string id = await NewRunAsync(experimentId);
        Ok(await ingest.LogMetricsAsync(id, [new LoggedMetric("m", 1, T0, 3)], Ct));
        List<FeedEvent> seen;
        lock (events) seen = [.. events];
        Assert.Contains(seen, e => e is ExperimentChanged c && c.Experiment.Id == experimentId);
        Assert.Contains(seen, e => e is MetricsRecorded { Step: 3 } r && r.TrialId == id && r.Values["m"] == 1);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(T0), seen.OfType<MetricsRecorded>().Single().LoggedAt); // the logged time, for a live time axis
        Assert.Contains(seen, e => e is TrialChanged c && c.Trial.Id == id && c.Trial.FinalMetrics.ContainsKey("m"));
    }

    [Fact]
    public async Task EditParams_FinishedRun_ValueCorrectedAndRecorded_LoggingStillRefusesAChange()
    {
        string id = await NewRunAsync();
        Ok(await ingest.LogCheckedAsync(id, [new LoggedMetric("val_f1_macro", 0.7, T0 + 1, 1)], [ParamWrite.OfText("lr", "0.1"), ParamWrite.OfText("opt", "sgd")], [], Ct));
        Ok(await registry.SetRunStateAsync(id, TrialState.Completed, null, null, Ct));

        var run = Ok(await ingest.EditParamsAsync(id, new Dictionary<string, string> { ["lr"] = "0.2", ["opt"] = "sgd", ["seed"] = "7" }, "ana", Ct));

        Assert.Equal(("0.2", "sgd", "7"), (run.Logged!.Params["lr"], run.Logged.Params["opt"], run.Logged.Params["seed"]));
        Assert.Equal((0.2, 7.0), (run.Parameters["lr"].Number, run.Parameters["seed"].Number));
        Assert.Equal(0.7, run.Objective); // the rest of the run as it was
        Assert.Equal(TrialState.Completed, run.State);
        // Only what changed is recorded; a key the correction added has no old value.
        Assert.Equal([("lr", (string?)"0.1", "0.2", "ana"), ("seed", null, "7", "ana")],
            run.Logged.ParamEdits.Select(e => (e.Key, e.OldText, e.NewText, e.By)).OrderBy(e => e.Key));
        Reopen();
        Assert.Equal(2, Ok(await registry.GetRunAsync(id, Ct)).Logged!.ParamEdits.Count);

        // Logging keeps MLflow's rule: the corrected value may be logged again, another one may not.
        Assert.True((await ingest.LogCheckedAsync(id, [], [ParamWrite.OfText("lr", "0.2")], [], Ct)).Succeeded);
        Assert.Equal(TrackingErrorKind.Conflict, (await ingest.LogCheckedAsync(id, [], [ParamWrite.OfText("lr", "0.3")], [], Ct)).Error!.Kind);
        // The same value again is no correction.
        Assert.Equal(2, Ok(await ingest.EditParamsAsync(id, new Dictionary<string, string> { ["lr"] = "0.2" }, "ana", Ct)).Logged!.ParamEdits.Count);
    }

    [Fact]
    public async Task EditParams_DeletedRunOrOverLongValue_Refused_NothingWritten()
    {
        string id = await NewRunAsync();
        Ok(await ingest.LogCheckedAsync(id, [], [ParamWrite.OfText("lr", "0.1")], [], Ct));

        var tooLong = await ingest.EditParamsAsync(id, new Dictionary<string, string> { ["lr"] = new string('9', LoggingRules.MaxParamValueLength + 1) }, "ana", Ct);
        var emptyKey = await ingest.EditParamsAsync(id, new Dictionary<string, string> { [""] = "1" }, "ana", Ct);
        Ok(await registry.DeleteRunAsync(id, Ct));
        var deleted = await ingest.EditParamsAsync(id, new Dictionary<string, string> { ["lr"] = "0.2" }, "ana", Ct);

        Assert.Equal([TrackingErrorKind.InvalidParameter, TrackingErrorKind.InvalidParameter, TrackingErrorKind.InvalidParameter],
            new[] { tooLong, emptyKey, deleted }.Select(r => r.Error!.Kind));
        var run = Ok(await registry.GetRunAsync(id, Ct));
        Assert.Equal("0.1", run.Logged!.Params["lr"]);
        Assert.Empty(run.Logged.ParamEdits);
    }
}
