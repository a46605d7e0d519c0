using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary><see cref="IExperimentStore"/>: round trips, replacement, order, compare-and-swap updates and deletion.</summary>
public abstract class ExperimentStoreConformance : StoreConformance
{
    [Fact]
    public async Task SaveExperimentAsync_ThenGet_RoundTripsSpecAndSearchSpace()
    {
        var experiment = FullExperiment();

        await Experiments.SaveExperimentAsync(experiment);
        var read = await Experiments.GetExperimentAsync("exp1");

        AssertSameRecord(experiment, read);
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
        Assert.Equal("vision", read.ExperimentTags["team"]);
        Assert.Empty(space.Validate());
    }

    [Fact]
    public async Task LoggedExperimentNames_AreUnique_BuiltInOnesNeedNotBe()
    {
        await Experiments.SaveExperimentAsync(Experiment("a", "shared", execution: TrialExecution.Logged));
        await Experiments.SaveExperimentAsync(Experiment("a", "shared", execution: TrialExecution.Logged) with { State = ExperimentState.Completed });
        await Experiments.SaveExperimentAsync(Experiment("b1", "sweep"));
        await Experiments.SaveExperimentAsync(Experiment("b2", "sweep"));
        await Experiments.SaveExperimentAsync(Experiment("b3", "shared")); // a search may share a logged experiment's name

        var taken = await Assert.ThrowsAsync<ExperimentNameTakenException>(() =>
            Experiments.SaveExperimentAsync(Experiment("c", "shared", execution: TrialExecution.Logged)));
        await Experiments.SaveExperimentAsync(Experiment("d", "other", execution: TrialExecution.Logged));
        var renamed = await Assert.ThrowsAsync<ExperimentNameTakenException>(() =>
            Experiments.UpdateExperimentAsync("d", e => e with { Spec = e.Spec with { Name = "shared" } }));

        Assert.Equal("shared", taken.Name);
        Assert.Equal("shared", renamed.Name);
        Assert.Null(await Experiments.GetExperimentAsync("c"));
        Assert.Equal("other", (await Experiments.GetExperimentAsync("d"))!.Spec.Name);
        Assert.Equal(ExperimentState.Completed, (await Experiments.GetExperimentAsync("a"))!.State);
        Assert.Equal(["a", "b1", "b2", "b3", "d"], (await Experiments.ListExperimentsAsync()).Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task LoggedExperimentNames_ConcurrentCreates_ExactlyOneWins()
    {
        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await Experiments.SaveExperimentAsync(Experiment($"x{i}", "race", execution: TrialExecution.Logged));
                return true;
            }
            catch (ExperimentNameTakenException)
            {
                return false;
            }
        })).ToList();

        var won = await Task.WhenAll(attempts);

        Assert.Equal(1, won.Count(w => w));
        Assert.Single(await Experiments.ListExperimentsAsync());
    }

    [Fact]
    public async Task SaveExperimentAsync_Twice_ReplacesAndListsNewestFirst()
    {
        await Experiments.SaveExperimentAsync(FullExperiment("old", T0));
        await Experiments.SaveExperimentAsync(FullExperiment("new", T0.AddDays(1)));
        await Experiments.SaveExperimentAsync(FullExperiment("middle", T0.AddHours(1)));
        await Experiments.SaveExperimentAsync(FullExperiment("old", T0) with { State = ExperimentState.Failed, Message = "strategy threw" });

        var all = await Experiments.ListExperimentsAsync();

        Assert.Equal(["new", "middle", "old"], all.Select(e => e.Id));
        Assert.Equal(ExperimentState.Failed, all[2].State);
        Assert.Equal("strategy threw", all[2].Message);
    }

    [Fact]
    public async Task GetExperimentAsync_Missing_ReturnsNull()
    {
        Assert.Null(await Experiments.GetExperimentAsync("missing"));
        Assert.Empty(await Experiments.ListExperimentsAsync());
    }

    [Fact]
    public async Task UpdateExperimentAsync_Change_WritesAndReturnsTheResult()
    {
        await Experiments.SaveExperimentAsync(FullExperiment());

        var written = await Experiments.UpdateExperimentAsync("exp1", e => e with { State = ExperimentState.Paused, Message = "paused by ann" });

        Assert.NotNull(written);
        Assert.Equal((ExperimentState.Paused, "paused by ann"), (written.State, written.Message));
        var read = await Experiments.GetExperimentAsync("exp1");
        Assert.Equal((ExperimentState.Paused, "paused by ann"), (read!.State, read.Message));
        Assert.Equal(7, read.Spec.MaxTrials);
    }

    [Fact]
    public async Task UpdateExperimentAsync_NullChange_WritesNothingAndReturnsTheExperiment()
    {
        var experiment = FullExperiment();
        await Experiments.SaveExperimentAsync(experiment);

        var returned = await Experiments.UpdateExperimentAsync("exp1", _ => null);

        AssertSameRecord(experiment, returned);
        AssertSameRecord(experiment, await Experiments.GetExperimentAsync("exp1"));
    }

    [Fact]
    public async Task UpdateExperimentAsync_Missing_ReturnsNullWithoutCallingChange()
    {
        bool called = false;

        var result = await Experiments.UpdateExperimentAsync("missing", e => { called = true; return e; });

        Assert.Null(result);
        Assert.False(called);
        Assert.Null(await Experiments.GetExperimentAsync("missing"));
    }

    [Fact]
    public async Task UpdateExperimentAsync_ConcurrentWriters_LoseNoUpdate()
    {
        await Experiments.SaveExperimentAsync(FullExperiment() with { Spec = FullExperiment().Spec with { MaxTrials = 0 } });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
                await Experiments.UpdateExperimentAsync("exp1", e => e with { Spec = e.Spec with { MaxTrials = e.Spec.MaxTrials + 1 } });
        })));

        Assert.Equal(80, (await Experiments.GetExperimentAsync("exp1"))!.Spec.MaxTrials);
    }

    [Fact]
    public async Task SaveExperimentAsync_AfterReopen_IsStillThere()
    {
        var experiment = FullExperiment();
        await Experiments.SaveExperimentAsync(experiment);

        await ReopenAsync();

        AssertSameRecord(experiment, await Experiments.GetExperimentAsync("exp1"));
        Assert.Equal(["exp1"], (await Experiments.ListExperimentsAsync()).Select(e => e.Id));
    }

    // A trial with something in every place a trial keeps things: two metric series (one over several chunks), a
    // report, predictions with a thumbnail, a file and its record.
    private async Task FillTrialAsync(string experimentId, string trialId)
    {
        await Trials.SaveTrialAsync(Trial(trialId, experimentId, await Trials.NextTrialNumberAsync(experimentId)));
        await Metrics.AppendMetricsAsync(Enumerable.Range(0, 2500).Select(step => Point(trialId, "loss", step, 1.0 / (step + 1))).ToList());
        await Metrics.AppendMetricsAsync([Point(trialId, "acc", 0, 0.5)]);
        await Evaluations.SaveReportAsync(Report(trialId, "test", 1, [0, 1, 1], [0, 1, 0]));
        await Evaluations.SavePredictionsAsync(new PredictionSet(trialId, "test", ["cat", "dog"], [new Prediction(0, 1, 1, 0.8)], [0]),
            new Dictionary<int, byte[]> { [0] = [1, 2, 3] });
        await Artifacts.WriteArtifactAsync(trialId, "plots/loss.png", new MemoryStream([7, 7, 7]));
        await Artifacts.SaveArtifactMetadataAsync(new ArtifactMetadata(trialId, "plots/loss.png", "image/png", "loss", null, null, T0));
    }

    private async Task AssertTrialIntactAsync(string trialId)
    {
        Assert.NotNull(await Trials.GetTrialAsync(trialId));
        Assert.Equal(["acc", "loss"], (await Metrics.LatestMetricsAsync(trialId)).Select(p => p.Key));
        Assert.Equal(2500, (await Metrics.ReadMetricsAsync(trialId, "loss", MetricCursor.Start, 5000)).Points.Count);
        Assert.NotNull(await Evaluations.GetLatestReportAsync(trialId));
        Assert.NotNull(await Evaluations.GetPredictionsAsync(trialId));
        Assert.Equal([1, 2, 3], await Evaluations.GetSampleImageAsync(trialId, 0));
        Assert.Equal(["plots/loss.png"], (await Artifacts.ListAllArtifactsAsync(trialId)).Select(e => e.Path));
        Assert.Equal(["plots/loss.png"], (await Artifacts.GetArtifactMetadataAsync(trialId)).Select(m => m.Path));
    }

    private async Task AssertTrialGoneAsync(string trialId)
    {
        Assert.Null(await Trials.GetTrialAsync(trialId));
        Assert.Empty(await Metrics.LatestMetricsAsync(trialId));
        Assert.Empty((await Metrics.ReadMetricsAsync(trialId, "loss", MetricCursor.Start, 5000)).Points);
        Assert.Empty(await Metrics.ReadMetricsDownsampledAsync(trialId, "loss", 100));
        Assert.Null(await Evaluations.GetLatestReportAsync(trialId));
        Assert.Empty(await Evaluations.ListReportsAsync(trialId));
        Assert.Null(await Evaluations.GetPredictionsAsync(trialId));
        Assert.Null(await Evaluations.GetSampleImageAsync(trialId, 0));
        Assert.Empty(await Evaluations.GetSampleImagesAsync(trialId));
        Assert.Empty(await Artifacts.ListAllArtifactsAsync(trialId));
        Assert.Empty(await Artifacts.GetArtifactMetadataAsync(trialId));
        Assert.False(Directory.Exists(new Uri(Artifacts.ArtifactUri(trialId)).LocalPath), $"the files of {trialId} are still there");
    }

    [Fact]
    public async Task DeleteExperimentAsync_RemovesItsTrialsAndAllTheyKept_AndNothingOfAnother()
    {
        await Experiments.SaveExperimentAsync(Experiment("gone") with { State = ExperimentState.Cancelled });
        await Experiments.SaveExperimentAsync(Experiment("kept"));
        await FillTrialAsync("gone", "g1");
        await FillTrialAsync("gone", "g2");
        await FillTrialAsync("kept", "k1");
        Assert.Equal(3, (await Trials.QueryTrialsAsync(new TrialQuery())).Total); // the queries' indexes are built before the deletion

        var deleted = await Experiments.DeleteExperimentAsync("gone");

        Assert.NotNull(deleted);
        Assert.Equal(("gone", ExperimentState.Cancelled), (deleted.Experiment.Id, deleted.Experiment.State));
        Assert.Equal(["g1", "g2"], deleted.TrialIds.Order(StringComparer.Ordinal));
        Assert.Empty(deleted.FoldersLeft);
        Assert.Null(await Experiments.GetExperimentAsync("gone"));
        Assert.Equal(["kept"], (await Experiments.ListExperimentsAsync()).Select(e => e.Id));
        Assert.Empty(await Trials.ListTrialsAsync("gone"));
        Assert.Empty((await Trials.TallyTrialsAsync("gone", ObjectiveDirection.Maximize)).ByState);
        var left = await Trials.QueryTrialsAsync(new TrialQuery());
        Assert.Equal((1, "k1"), (left.Total, left.Items.Single().Trial.Id));
        Assert.Empty((await Trials.QueryTrialsAsync(new TrialQuery { ExperimentIds = ["gone"] })).Items);
        await AssertTrialGoneAsync("g1");
        await AssertTrialGoneAsync("g2");
        await AssertTrialIntactAsync("k1");
        Assert.Equal(0, await Trials.NextTrialNumberAsync("gone")); // its trial counter went too
        Assert.Equal(1, await Trials.NextTrialNumberAsync("kept"));

        await ReopenAsync();

        Assert.Null(await Experiments.GetExperimentAsync("gone"));
        Assert.Equal(["k1"], (await Trials.QueryTrialsAsync(new TrialQuery())).Items.Select(r => r.Trial.Id));
        await AssertTrialGoneAsync("g1");
        await AssertTrialIntactAsync("k1");
    }

    [Fact]
    public async Task DeleteExperimentAsync_UnknownOrAlreadyDeleted_Null()
    {
        await Experiments.SaveExperimentAsync(Experiment("e1"));

        Assert.Null(await Experiments.DeleteExperimentAsync("missing"));
        Assert.Empty((await Experiments.DeleteExperimentAsync("e1"))!.TrialIds);
        Assert.Null(await Experiments.DeleteExperimentAsync("e1"));
        Assert.Empty(await Experiments.ListExperimentsAsync());
    }

    [Fact]
    public async Task DeleteExperimentAsync_LoggedExperiment_FreesItsName()
    {
        await Experiments.SaveExperimentAsync(Experiment("first", "shared name", execution: TrialExecution.Logged));

        await Experiments.DeleteExperimentAsync("first");
        await Experiments.SaveExperimentAsync(Experiment("second", "shared name", execution: TrialExecution.Logged));

        Assert.Equal(["second"], (await Experiments.ListExperimentsAsync()).Select(e => e.Id));
    }
}
