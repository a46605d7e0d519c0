using System.Collections.Concurrent;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary>
/// <see cref="ITrialStore"/>'s records: round trips, lists, annotations that saves keep, the trial-number counter and
/// compare-and-swap updates under concurrent writers, and durability across a reopen.
/// </summary>
public abstract class TrialStoreConformance : StoreConformance
{
    [Fact]
    public async Task SaveTrialAsync_ThenGet_RoundTripsEveryField()
    {
        var trial = FullTrial("t1", "exp1", 1, TrialState.Completed);

        await Trials.SaveTrialAsync(trial);
        var read = await Trials.GetTrialAsync("t1");

        AssertSameRecord(trial, read);
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
        Assert.Equal("run t1", read.RunTags["mlflow.runName"]);
        Assert.Equal(2, read.Attempts);
    }

    [Fact]
    public async Task Attempts_TrialQueuedAndStartedAgain_KeepsItsCountThroughSavesUpdatesAndReopen()
    {
        // The runner's path for a trial a server stop cut off: running, queued for its next attempt, running again.
        var trial = Trial("t", "e1", 0, TrialState.Running) with { Attempts = 1, EpochsDone = 2 };
        await Trials.SaveTrialAsync(trial);
        await Trials.SaveTrialAsync(trial with { State = TrialState.Queued });
        Assert.Equal(["t"], (await Trials.ListTrialsInStateAsync([TrialState.Queued, TrialState.Running])).Select(t => t.Id));

        await ReopenAsync();
        await Trials.UpdateTrialAsync("t", t => new TrialWrite(t with { State = TrialState.Running, Attempts = t.Attempts + 1 }));
        await ReopenAsync();

        var read = await Trials.GetTrialAsync("t");
        Assert.Equal((TrialState.Running, 2, 2), (read!.State, read.Attempts, read.EpochsDone));
        Assert.Equal(2, Assert.Single(await Trials.ListTrialsAsync("e1")).Attempts);
        Assert.Empty(await Trials.ListTrialsInStateAsync([TrialState.Queued]));
    }

    [Fact]
    public async Task TallyTrialsAsync_CountsByStateWithoutDeletedRuns_AndFindsTheBestFiniteObjective()
    {
        await Trials.SaveTrialsAsync(
        [
            Trial("a", "e1", 0, TrialState.Completed) with { Objective = 0.7 },
            Trial("b", "e1", 1, TrialState.Completed) with { Objective = 0.9 },
            Trial("c", "e1", 2, TrialState.Completed) with { Objective = double.NaN },
            Trial("d", "e1", 3, TrialState.Completed) with { Objective = double.PositiveInfinity },
            Trial("e", "e1", 4, TrialState.Running) with { Objective = 5.0 },
            Trial("f", "e1", 5, TrialState.Failed) with { Objective = null },
            Trial("g", "e1", 6, TrialState.Completed) with { Objective = 9.0, LifecycleStage = LifecycleStage.Deleted },
            Trial("h", "e1", 7, TrialState.Completed) with { Objective = 0.2 },
            Trial("x", "e2", 0, TrialState.Completed) with { Objective = 100.0 },
        ]);

        var max = await Trials.TallyTrialsAsync("e1", ObjectiveDirection.Maximize);
        var min = await Trials.TallyTrialsAsync("e1", ObjectiveDirection.Minimize);

        Assert.Equal(7, max.Total);
        Assert.Equal(5, max.ByState[TrialState.Completed]);
        Assert.Equal(1, max.ByState[TrialState.Running]);
        Assert.Equal(1, max.ByState[TrialState.Failed]);
        Assert.False(max.ByState.ContainsKey(TrialState.Pruned));
        Assert.Equal(("b", 0.9), (max.BestTrialId, max.BestObjective));
        Assert.Equal(("h", 0.2), (min.BestTrialId, min.BestObjective));
    }

    [Fact]
    public async Task TallyTrialsAsync_TiesGoToTheLowestNumber_AndAnEmptyExperimentHasNoBest()
    {
        await Trials.SaveTrialsAsync(
        [
            Trial("late", "e1", 4, TrialState.Completed) with { Objective = 0.5 },
            Trial("early", "e1", 2, TrialState.Completed) with { Objective = 0.5 },
            Trial("lower", "e1", 3, TrialState.Completed) with { Objective = 0.1 },
        ]);

        var tally = await Trials.TallyTrialsAsync("e1", ObjectiveDirection.Maximize);
        var none = await Trials.TallyTrialsAsync("nothing-here", ObjectiveDirection.Maximize);

        Assert.Equal(("early", 0.5), (tally.BestTrialId, tally.BestObjective));
        Assert.Equal(0, none.Total);
        Assert.Empty(none.ByState);
        Assert.Null(none.BestTrialId);
        Assert.Null(none.BestObjective);
    }

    [Fact]
    public async Task SaveTrialAsync_LoggedRun_RoundTripsLoggedInfoAndLifecycle()
    {
        var trial = Trial("r1") with
        {
            LifecycleStage = LifecycleStage.Deleted,
            RunTags = new() { ["mlflow.runName"] = "bold-owl", ["team"] = "vision" },
            Logged = new LoggedRunInfo
            {
                UserId = "ann",
                ArtifactUri = "file:///data/artifacts/r1",
                Params = new() { ["lr"] = "1e-3", ["layers"] = "[64, 32]" },
                Latest = new() { ["acc"] = new MetricStamp(7, T0.AddSeconds(9)) },
            },
        };

        await Trials.SaveTrialAsync(trial);

        AssertSameRecord(trial, await Trials.GetTrialAsync("r1"));
    }

    [Fact]
    public async Task SaveTrialAsync_NonFiniteMetric_RoundTrips()
    {
        var trial = FullTrial("t1", "exp1", 0, TrialState.Failed) with
        {
            FinalMetrics = new() { [MetricNames.TrainLoss] = double.NaN, [MetricNames.ValLoss] = double.PositiveInfinity, ["margin"] = double.NegativeInfinity },
        };

        await Trials.SaveTrialAsync(trial);
        var read = (await Trials.GetTrialAsync("t1"))!;

        Assert.True(double.IsNaN(read.FinalMetrics[MetricNames.TrainLoss]));
        Assert.Equal(double.PositiveInfinity, read.FinalMetrics[MetricNames.ValLoss]);
        Assert.Equal(double.NegativeInfinity, read.FinalMetrics["margin"]);
    }

    [Fact]
    public async Task GetTrialAsync_Missing_ReturnsNull()
    {
        Assert.Null(await Trials.GetTrialAsync("missing"));
        Assert.Empty(await Trials.ListTrialsAsync("none"));
    }

    [Fact]
    public async Task ListTrialsAsync_ByExperiment_InNumberOrder()
    {
        await Trials.SaveTrialAsync(FullTrial("c", "exp1", 2, TrialState.Completed));
        await Trials.SaveTrialAsync(FullTrial("a", "exp1", 0, TrialState.Completed));
        await Trials.SaveTrialAsync(FullTrial("x", "exp2", 0, TrialState.Completed));
        await Trials.SaveTrialAsync(FullTrial("b", "exp1", 1, TrialState.Running));
        await Trials.SaveTrialAsync(FullTrial("k", "exp1", 10, TrialState.Running));

        Assert.Equal(["a", "b", "c", "k"], (await Trials.ListTrialsAsync("exp1")).Select(t => t.Id));
        Assert.Equal(["x"], (await Trials.ListTrialsAsync("exp2")).Select(t => t.Id));
    }

    [Fact]
    public async Task ListTrialsInStateAsync_GivenStates_ReturnsOnlyThose()
    {
        await Trials.SaveTrialAsync(FullTrial("q", "exp1", 0, TrialState.Queued));
        await Trials.SaveTrialAsync(FullTrial("r", "exp1", 1, TrialState.Running));
        await Trials.SaveTrialAsync(FullTrial("c", "exp1", 2, TrialState.Completed));
        await Trials.SaveTrialAsync(FullTrial("f", "exp2", 0, TrialState.Failed));
        await Trials.SaveTrialAsync(FullTrial("r2", "exp2", 1, TrialState.Running));

        Assert.Equal(["q", "r", "r2"], (await Trials.ListTrialsInStateAsync([TrialState.Queued, TrialState.Running])).Select(t => t.Id).Order());
        Assert.Equal(["f"], (await Trials.ListTrialsInStateAsync([TrialState.Failed])).Select(t => t.Id));
        Assert.Empty(await Trials.ListTrialsInStateAsync([TrialState.Pruned]));
        Assert.Empty(await Trials.ListTrialsInStateAsync([]));
    }

    [Fact]
    public async Task ListTrialsInStateAsync_AfterStateChange_FollowsTheLatestSave()
    {
        var trial = FullTrial("t", "exp1", 0, TrialState.Running);
        await Trials.SaveTrialAsync(trial);
        await Trials.SaveTrialAsync(trial with { State = TrialState.Interrupted });

        Assert.Empty(await Trials.ListTrialsInStateAsync([TrialState.Running]));
        Assert.Equal(["t"], (await Trials.ListTrialsInStateAsync([TrialState.Interrupted])).Select(t => t.Id));
    }

    [Fact]
    public async Task SaveTrialAsync_RunningTrialAfterAnnotation_KeepsTagsAndNotes()
    {
        await Experiments.SaveExperimentAsync(Experiment("e1"));
        // The runner holds this record for the whole trial and saves it after every epoch.
        var running = Trial("t", state: TrialState.Running);
        await Trials.SaveTrialAsync(running);
        var stale = (await Trials.GetTrialAsync("t"))!;

        await Trials.UpdateTrialAnnotationsAsync("t", ["watch"], "diverging?");
        await Trials.SaveTrialAsync(running with { EpochsDone = 1, FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.4 } });
        await Trials.SaveTrialAsync(stale with { EpochsDone = 2, Tags = ["from", "a", "stale", "read"], Notes = "stale" });
        await Trials.SaveTrialsAsync([running with { State = TrialState.Completed, EpochsDone = 2, Objective = 0.6, FinishedAt = T0.AddMinutes(9) }]);

        var read = (await Trials.GetTrialAsync("t"))!;
        Assert.Equal((TrialState.Completed, 2, 0.6), (read.State, read.EpochsDone, read.Objective));
        Assert.Equal(["watch"], read.Tags);
        Assert.Equal("diverging?", read.Notes);
        Assert.Equal(["t"], (await Trials.QueryTrialsAsync(new TrialQuery { Tag = "watch" })).Items.Select(r => r.Trial.Id));
        Assert.Equal(["t"], (await Trials.QueryTrialsAsync(new TrialQuery { Text = "diverging" })).Items.Select(r => r.Trial.Id));

        // Clearing them is the user's to do, and a later runner save does not bring them back.
        await Trials.UpdateTrialAnnotationsAsync("t", [], "");
        await Trials.SaveTrialAsync(stale with { Tags = ["watch"], Notes = "diverging?" });
        Assert.Empty((await Trials.GetTrialAsync("t"))!.Tags);
        Assert.Null((await Trials.GetTrialAsync("t"))!.Notes);
        Assert.Equal(0, (await Trials.QueryTrialsAsync(new TrialQuery { Tag = "watch" })).Total);
    }

    [Fact]
    public async Task SaveTrialAsync_NewTrialWithAnnotations_StoresThem()
    {
        await Trials.SaveTrialAsync(Trial("t") with { Tags = ["imported"], Notes = "from the old tracker" });

        var read = (await Trials.GetTrialAsync("t"))!;
        Assert.Equal(["imported"], read.Tags);
        Assert.Equal("from the old tracker", read.Notes);
    }

    [Fact]
    public async Task SaveTrialsAsync_SameIdTwiceInOneCall_LastRecordWins()
    {
        await Trials.SaveTrialsAsync([Trial("t", state: TrialState.Running), Trial("t", state: TrialState.Completed) with { Objective = 0.9 }]);

        Assert.Equal(TrialState.Completed, (await Trials.GetTrialAsync("t"))!.State);
        Assert.Equal(1, (await Trials.QueryTrialsAsync(new TrialQuery())).Total);
    }

    [Fact]
    public async Task SaveTrialsAsync_ManyTrials_StoresEveryOneAndKeepsAnnotations()
    {
        await Trials.SaveTrialAsync(Trial("t0042", number: 42));
        await Trials.UpdateTrialAnnotationsAsync("t0042", ["keep"], "note");
        var trials = Enumerable.Range(0, 1200).Select(i => Trial($"t{i:D4}", i % 2 == 0 ? "e1" : "e2", i / 2) with { EpochsDone = i % 3 }).ToList();

        await Trials.SaveTrialsAsync(trials);

        Assert.Equal(1200, (await Trials.QueryTrialsAsync(new TrialQuery())).Total);
        Assert.Equal(600, (await Trials.ListTrialsAsync("e2")).Count);
        var kept = (await Trials.GetTrialAsync("t0042"))!;
        Assert.Equal(["keep"], kept.Tags);
        Assert.Equal(("note", 0), (kept.Notes, kept.EpochsDone));
        Assert.Equal(1198 % 3, (await Trials.GetTrialAsync("t1198"))!.EpochsDone);
    }

    [Fact]
    public async Task UpdateTrialAnnotationsAsync_NormalisesAndChangesNothingElse()
    {
        await Trials.SaveTrialAsync(FullTrial("a1", "e1", 1, TrialState.Completed));
        var before = (await Trials.GetTrialAsync("a1"))!;

        var updated = await Trials.UpdateTrialAnnotationsAsync("a1", [" keep ", "", "Keep", "lr-sweep", "  "], "  looks good ");
        var read = (await Trials.GetTrialAsync("a1"))!;

        Assert.Equal(["keep", "lr-sweep"], updated!.Tags);
        Assert.Equal(["keep", "lr-sweep"], read.Tags);
        Assert.Equal("  looks good ", read.Notes);
        Assert.Equal(Json(before), Json(read with { Tags = [], Notes = null }));

        await Trials.UpdateTrialAnnotationsAsync("a1", null, "");
        Assert.Equal(["keep", "lr-sweep"], (await Trials.GetTrialAsync("a1"))!.Tags); // null tags: unchanged
        Assert.Null((await Trials.GetTrialAsync("a1"))!.Notes);                        // empty notes: cleared
        await Trials.UpdateTrialAnnotationsAsync("a1", null, "again");
        Assert.Equal("again", (await Trials.GetTrialAsync("a1"))!.Notes);
        await Trials.UpdateTrialAnnotationsAsync("a1", [], null);
        Assert.Empty((await Trials.GetTrialAsync("a1"))!.Tags);
        Assert.Equal("again", (await Trials.GetTrialAsync("a1"))!.Notes);               // null notes: unchanged
        Assert.Null(await Trials.UpdateTrialAnnotationsAsync("missing", ["x"], null));
        Assert.Null(await Trials.GetTrialAsync("missing"));
    }

    [Fact]
    public async Task UpdateTrialAsync_Change_WritesTheTrialAndItsPointsTogether()
    {
        await Trials.SaveTrialAsync(Trial("t", state: TrialState.Running));

        var written = await Trials.UpdateTrialAsync("t", t => new TrialWrite(
            t with { EpochsDone = 1, FinalMetrics = new() { ["loss"] = 0.5 } },
            [Point("t", "loss", 1, 0.5), Point("t", "acc", 1, 0.7)]));

        Assert.Equal(1, written!.EpochsDone);
        Assert.Equal(1, (await Trials.GetTrialAsync("t"))!.EpochsDone);
        Assert.Equal([0.5], (await Metrics.ReadMetricsAsync("t", "loss", MetricCursor.Start, 100)).Points.Select(p => p.Value));
        Assert.Equal([("acc", 0.7), ("loss", 0.5)], (await Metrics.LatestMetricsAsync("t")).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task UpdateTrialAsync_NullChange_WritesNothingAndReturnsTheTrial()
    {
        var trial = FullTrial("t", "e1", 0, TrialState.Running);
        await Trials.SaveTrialAsync(trial);

        var returned = await Trials.UpdateTrialAsync("t", _ => null);

        AssertSameRecord(trial, returned);
        AssertSameRecord(trial, await Trials.GetTrialAsync("t"));
    }

    [Fact]
    public async Task UpdateTrialAsync_Missing_ReturnsNullAndWritesNothing()
    {
        var result = await Trials.UpdateTrialAsync("missing", t => new TrialWrite(t with { EpochsDone = 1 }));

        Assert.Null(result);
        Assert.Null(await Trials.GetTrialAsync("missing"));
    }

    [Fact]
    public async Task UpdateTrialAsync_ChangeWithOtherAnnotations_KeepsTheStoredTagsAndNotes()
    {
        await Trials.SaveTrialAsync(Trial("t", state: TrialState.Running));
        await Trials.UpdateTrialAnnotationsAsync("t", ["watch"], "keep an eye on it");

        var written = await Trials.UpdateTrialAsync("t", t => new TrialWrite(t with { EpochsDone = 2, Tags = ["other"], Notes = null }));

        var read = (await Trials.GetTrialAsync("t"))!;
        Assert.Equal((2, "keep an eye on it"), (read.EpochsDone, read.Notes));
        Assert.Equal(["watch"], read.Tags);
        Assert.Equal(["watch"], written!.Tags);
    }

    [Fact]
    public async Task UpdateTrialAsync_EightConcurrentWriters_LoseNoUpdate()
    {
        await Trials.SaveTrialAsync(Trial("t", state: TrialState.Running) with { EpochsDone = 0, Epochs = 1000 });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                var written = await Trials.UpdateTrialAsync("t", t => new TrialWrite(t with { EpochsDone = t.EpochsDone + 1 }));
                Assert.NotNull(written);
            }
        })));

        Assert.Equal(160, (await Trials.GetTrialAsync("t"))!.EpochsDone);
    }

    [Fact]
    public async Task UpdateTrialAsync_ConcurrentWritersWithPoints_AppendEveryPointOnce()
    {
        await Trials.SaveTrialAsync(Trial("t", state: TrialState.Running) with { Epochs = 1000 });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (int i = 0; i < 10; i++)
            {
                int seq = writer * 10 + i;
                // The change may run more than once; only the attempt that is written may append its points.
                await Trials.UpdateTrialAsync("t", t => new TrialWrite(t with { EpochsDone = t.EpochsDone + 1 }, [Point("t", "n", t.EpochsDone + 1, seq)]));
            }
        })));

        var points = (await Metrics.ReadMetricsAsync("t", "n", MetricCursor.Start, 1000)).Points;
        Assert.Equal(40, (await Trials.GetTrialAsync("t"))!.EpochsDone);
        Assert.Equal(Enumerable.Range(1, 40), points.Select(p => p.Step));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (double)i), points.Select(p => p.Value).Order());
    }

    [Fact]
    public async Task NextTrialNumberAsync_FreshExperiments_CountFromZeroEachOnItsOwn()
    {
        Assert.Equal(0, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(1, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(0, await Trials.NextTrialNumberAsync("e2"));
        Assert.Equal(2, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(1, await Trials.NextTrialNumberAsync("e2"));
    }

    [Fact]
    public async Task NextTrialNumberAsync_EightConcurrentCallers_GiveDistinctConsecutiveNumbers()
    {
        var numbers = new ConcurrentBag<int>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++) numbers.Add(await Trials.NextTrialNumberAsync("e1"));
        })));

        Assert.Equal(Enumerable.Range(0, 200), numbers.Order());
        Assert.Equal(200, await Trials.NextTrialNumberAsync("e1"));
    }

    [Fact]
    public async Task NextTrialNumberAsync_ExistingTrials_ContinuesAfterThem()
    {
        await Trials.SaveTrialsAsync([Trial("a", "e1", 0), Trial("b", "e1", 1), Trial("c", "e1", 4), Trial("x", "e2", 9)]);

        Assert.Equal(5, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(6, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(10, await Trials.NextTrialNumberAsync("e2"));
        Assert.Equal(0, await Trials.NextTrialNumberAsync("e3"));
    }

    [Fact]
    public async Task NextTrialNumberAsync_AfterReopen_NeverRepeatsANumber()
    {
        Assert.Equal(0, await Trials.NextTrialNumberAsync("e1"));
        Assert.Equal(1, await Trials.NextTrialNumberAsync("e1"));

        await ReopenAsync();

        Assert.Equal(2, await Trials.NextTrialNumberAsync("e1"));
    }

    [Fact]
    public async Task Reopen_SameStore_FindsEverythingAgain()
    {
        var experiment = FullExperiment();
        var trials = new[] { FullTrial("t0", "exp1", 0, TrialState.Completed), FullTrial("t1", "exp1", 1, TrialState.Running) };
        await Experiments.SaveExperimentAsync(experiment);
        await Trials.SaveTrialsAsync(trials);
        await Trials.UpdateTrialAnnotationsAsync("t0", ["best"], "the one");
        await Metrics.AppendMetricsAsync([Point("t0", "val_loss", 1, 0.5), Point("t0", "val_loss", 2, 0.25)]);
        await Evaluations.SaveReportAsync(Report("t0", "validation", 2, [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1]));

        await ReopenAsync();

        AssertSameRecord(experiment, await Experiments.GetExperimentAsync("exp1"));
        AssertSameRecord(trials[0] with { Tags = ["best"], Notes = "the one" }, await Trials.GetTrialAsync("t0"));
        AssertSameRecord(trials[1], await Trials.GetTrialAsync("t1"));
        Assert.Equal(["t0", "t1"], (await Trials.ListTrialsAsync("exp1")).Select(t => t.Id));
        Assert.Equal(["t1"], (await Trials.ListTrialsInStateAsync([TrialState.Running])).Select(t => t.Id));
        Assert.Equal(["t0"], (await Trials.QueryTrialsAsync(new TrialQuery { Tag = "best" })).Items.Select(r => r.Trial.Id));
        Assert.Equal([0.5, 0.25], (await Metrics.ReadMetricsAsync("t0", "val_loss", MetricCursor.Start, 10)).Points.Select(p => p.Value));
        Assert.Equal([("val_loss", 2, 0.25)], (await Metrics.LatestMetricsAsync("t0")).Select(p => (p.Key, p.Step, p.Value)));
        var report = (await Evaluations.GetLatestReportAsync("t0", "validation"))!;
        Assert.Equal(2, report.Step);
        Assert.Equal([[3, 1], [0, 4]], report.Scores.Confusion);
    }
}
