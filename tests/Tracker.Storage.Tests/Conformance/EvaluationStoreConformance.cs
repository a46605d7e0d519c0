using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary><see cref="IEvaluationStore"/>: reports by split and step, predictions and thumbnails, each replaced on save.</summary>
public abstract class EvaluationStoreConformance : StoreConformance
{
    [Fact]
    public async Task GetLatestReportAsync_SeveralSteps_ReturnsHighestStepOfTheSplit()
    {
        await Trials.SaveTrialsAsync([Trial("t1"), Trial("t2", number: 1)]);
        await Evaluations.SaveReportAsync(Report("t1", "validation", 2, [0, 0, 1], [0, 1, 1]));
        await Evaluations.SaveReportAsync(Report("t1", "validation", 10, [0, 1, 1], [0, 1, 1]));
        await Evaluations.SaveReportAsync(Report("t1", "validation", 9, [1, 1, 1], [0, 0, 0]));
        await Evaluations.SaveReportAsync(Report("t1", "test", 3, [0, 0], [1, 1]));
        await Evaluations.SaveReportAsync(Report("t2", "validation", 11, [0], [0]));

        var latest = await Evaluations.GetLatestReportAsync("t1", "validation");

        Assert.NotNull(latest);
        Assert.Equal(10, latest.Step);
        Assert.Equal([[1, 0], [0, 2]], latest.Scores.Confusion);
        Assert.Equal(1.0, latest.Scores.MacroF1);
        Assert.Equal(["cat", "dog"], latest.ClassNames);
        Assert.Equal(10, (await Evaluations.GetLatestReportAsync("t1"))!.Step); // any split: the highest step
        Assert.Equal([[0, 2], [0, 0]], (await Evaluations.GetLatestReportAsync("t1", "test"))!.Scores.Confusion);
        Assert.Null(await Evaluations.GetLatestReportAsync("none"));
        Assert.Null(await Evaluations.GetLatestReportAsync("t1", "train"));
    }

    [Fact]
    public async Task ListReportsAsync_SeveralSplitsAndSteps_AllOfTheTrialBySplitThenStep()
    {
        await Trials.SaveTrialsAsync([Trial("t1"), Trial("t2", number: 1)]);
        await Evaluations.SaveReportAsync(Report("t1", "validation", 10, [0, 1], [0, 1]));
        await Evaluations.SaveReportAsync(Report("t1", "validation", 2, [0, 0], [0, 1]));
        await Evaluations.SaveReportAsync(Report("t1", "test", 3, [0, 0], [1, 1]));
        await Evaluations.SaveReportAsync(Report("t2", "validation", 11, [0], [0]));

        var all = await Evaluations.ListReportsAsync("t1");

        Assert.Equal([("test", 3), ("validation", 2), ("validation", 10)], all.Select(r => (r.Split, r.Step)).ToList());
        Assert.Equal([[1, 1], [0, 0]], all[1].Scores.Confusion); // truth [0, 0], predicted [0, 1]: rows are the true class
        Assert.Empty(await Evaluations.ListReportsAsync("none"));
    }

    [Fact]
    public async Task SaveReportAsync_SameTrialSplitAndStep_Replaces()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Evaluations.SaveReportAsync(Report("t1", "validation", 3, [0, 1], [1, 0]));
        await Evaluations.SaveReportAsync(Report("t1", "test", 3, [0, 0], [0, 0]));
        await Evaluations.SaveReportAsync(Report("t1", "validation", 3, [0, 1], [0, 1]));

        var latest = (await Evaluations.GetLatestReportAsync("t1", "validation"))!;

        Assert.Equal([[1, 0], [0, 1]], latest.Scores.Confusion);
        Assert.Equal([1.0, 1.0], latest.Scores.F1);
        Assert.Equal([[2, 0], [0, 0]], (await Evaluations.GetLatestReportAsync("t1", "test"))!.Scores.Confusion); // another split is kept
    }

    [Fact]
    public async Task SavePredictionsAsync_WithThumbnails_RoundTripsAndReplaces()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        var set = new PredictionSet("t1", "test", ["cat", "dog"],
            [new Prediction(0, 0, 0, 0.9), new Prediction(1, 1, 0, 0.6), new Prediction(2, 1, 1, 0.75)], [1, 2]);
        await Evaluations.SavePredictionsAsync(set, new Dictionary<int, byte[]> { [1] = [1, 2, 3], [2] = [4, 5] });

        var read = (await Evaluations.GetPredictionsAsync("t1"))!;
        Assert.Equal(set.Items, read.Items);
        Assert.Equal([1, 2], read.SampleIndices);
        Assert.Equal(["cat", "dog"], read.ClassNames);
        Assert.Equal([1, 2, 3], await Evaluations.GetSampleImageAsync("t1", 1));
        Assert.Null(await Evaluations.GetSampleImageAsync("t1", 0));
        Assert.Equal([1, 2], (await Evaluations.GetSampleImagesAsync("t1")).Keys.Order());

        await Evaluations.SavePredictionsAsync(set with { Split = "validation", SampleIndices = [0] }, new Dictionary<int, byte[]> { [0] = [9] });

        Assert.Equal("validation", (await Evaluations.GetPredictionsAsync("t1"))!.Split);
        Assert.Equal([9], await Evaluations.GetSampleImageAsync("t1", 0));
        Assert.Null(await Evaluations.GetSampleImageAsync("t1", 1)); // the earlier thumbnails are gone
        var images = await Evaluations.GetSampleImagesAsync("t1");
        Assert.Equal([0], images.Keys);
        Assert.Equal([9], images[0]);
    }

    [Fact]
    public async Task GetPredictionsAsync_Missing_ReturnsNothing()
    {
        Assert.Null(await Evaluations.GetPredictionsAsync("none"));
        Assert.Null(await Evaluations.GetSampleImageAsync("none", 0));
        Assert.Empty(await Evaluations.GetSampleImagesAsync("none"));
    }

    [Fact]
    public async Task SavePredictionsAsync_TwoTrials_KeepEachOthersThumbnails()
    {
        await Trials.SaveTrialsAsync([Trial("t1"), Trial("t10", number: 1)]);
        var set = new PredictionSet("t1", "test", ["cat"], [new Prediction(0, 0, 0, 1)], [0]);
        await Evaluations.SavePredictionsAsync(set, new Dictionary<int, byte[]> { [0] = [1] });
        await Evaluations.SavePredictionsAsync(set with { TrialId = "t10" }, new Dictionary<int, byte[]> { [0] = [2] });
        await Evaluations.SavePredictionsAsync(set with { TrialId = "t10" }, new Dictionary<int, byte[]> { [0] = [3] });

        Assert.Equal([1], await Evaluations.GetSampleImageAsync("t1", 0));
        Assert.Equal([3], await Evaluations.GetSampleImageAsync("t10", 0));
    }
}
