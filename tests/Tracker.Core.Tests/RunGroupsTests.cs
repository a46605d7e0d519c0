using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

/// <summary>Runs grouped by a parameter, a tag or their experiment, with a metric's mean, sample s.d. and range per group.</summary>
public sealed class RunGroupsTests
{
    private static TrialRow Row(string id, double? lr, double? f1, string? team = null, string experiment = "sweep") => new(new Trial
    {
        Id = id,
        ExperimentId = experiment,
        Number = 0,
        Parameters = lr is { } l ? new() { ["lr"] = l } : [],
        Epochs = 1,
        FinalMetrics = f1 is { } f ? new() { ["val_f1"] = f } : [],
        RunTags = team is null ? [] : new() { ["team"] = team },
    }, experiment, "small-cnn", "random");

    private static async IAsyncEnumerable<TrialRow> Stream(params TrialRow[] rows)
    {
        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    [Fact]
    public async Task ByParameter_MeanSampleSdAndRangePerGroup_NumbersInNumberOrder_NoneLast()
    {
        var groups = await RunGroups.ComputeAsync(Stream(
            Row("a", 0.01, 0.80), Row("b", 0.01, 0.84), Row("c", 0.01, 0.82),
            Row("d", 0.001, 0.70), Row("e", 0.001, double.NaN),
            Row("f", 0.1, null), Row("g", null, 0.5)),
            new RunGrouping(RunGroupingKind.Parameter, "lr"), "val_f1");

        Assert.Equal(["0.001", "0.01", "0.1", RunGroups.None], groups.Select(g => g.Value));
        var best = groups[1];
        Assert.Equal((3, 3), (best.Runs, best.Measured));
        Assert.Equal(0.82, best.Mean!.Value, 12);
        Assert.Equal(0.02, best.StdDev!.Value, 12); // sqrt(((-0.02)² + 0.02² + 0) / 2)
        Assert.Equal((0.80, 0.84), (best.Min!.Value, best.Max!.Value));
        // One finite value: a mean, no s.d.; a NaN counts as a run without the metric.
        Assert.Equal((2, 1, 0.70, (double?)null), (groups[0].Runs, groups[0].Measured, groups[0].Mean!.Value, groups[0].StdDev));
        Assert.Equal((1, 0, (double?)null), (groups[2].Runs, groups[2].Measured, groups[2].Mean));
    }

    [Fact]
    public async Task ByTagOrExperiment_TextInOrdinalOrder()
    {
        var rows = new[] { Row("a", 0.1, 0.6, "vision", "e2"), Row("b", 0.1, 0.8, "audio", "e1"), Row("c", 0.1, 0.7, null, "e1") };

        var byTeam = await RunGroups.ComputeAsync(Stream(rows), new RunGrouping(RunGroupingKind.Tag, "team"), "val_f1");
        var byExperiment = await RunGroups.ComputeAsync(Stream(rows), new RunGrouping(RunGroupingKind.Experiment, ""), "val_f1");

        Assert.Equal(["audio", "vision", RunGroups.None], byTeam.Select(g => g.Value));
        Assert.Equal(["e1", "e2"], byExperiment.Select(g => g.Value));
        Assert.Equal(0.75, byExperiment[0].Mean!.Value, 12);
    }

    [Theory]
    [InlineData("param:lr", RunGroupingKind.Parameter, "lr")]
    [InlineData("tag:team", RunGroupingKind.Tag, "team")]
    [InlineData("experiment", RunGroupingKind.Experiment, "")]
    public void Grouping_TextRoundTrips(string text, RunGroupingKind kind, string name)
    {
        Assert.True(RunGrouping.TryParse(text, out var grouping));
        Assert.Equal(new RunGrouping(kind, name), grouping);
        Assert.Equal(text, grouping.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("param:")]
    [InlineData("seed")]
    public void Grouping_OtherText_Refused(string text) => Assert.False(RunGrouping.TryParse(text, out _));
}
