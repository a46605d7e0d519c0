using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>The run comparison page over a real LiteDB store: runs of two experiments side by side, curves overlaid, live.</summary>
public sealed class RunComparePageTests : StoreBackedTest, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);

    public async ValueTask InitializeAsync()
    {
        await Store.SaveExperimentAsync(new Experiment { Id = "e1", CreatedAt = T0, Spec = new ExperimentSpec { Name = "Shapes sweep", Model = "small-cnn", Strategy = "random" } });
        await Store.SaveExperimentAsync(new Experiment { Id = "e2", CreatedAt = T0, Spec = new ExperimentSpec { Name = "Fashion", Model = "resnet18", Strategy = "tpe" } });
        await Store.SaveTrialsAsync(
        [
            Trial("a", "e1", 3, 0.01, 0.81),
            Trial("b", "e2", 0, 0.001, 0.74),
        ]);
        await Store.AppendMetricsAsync([.. Curve("a", MetricNames.ValF1Macro, 0.5, 0.7, 0.81), .. Curve("a", MetricNames.ValLoss, 1.2, 0.9, 0.8), .. Curve("b", MetricNames.ValF1Macro, 0.6, 0.74)]);
    }

    private static Trial Trial(string id, string experimentId, int number, double lr, double f1) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        Parameters = new() { ["learning_rate"] = lr },
        ResolvedParameters = new() { ["learning_rate"] = lr, ["dropout"] = 0.2 },
        State = TrialState.Completed,
        Epochs = 3,
        Objective = f1,
        FinalMetrics = new() { [MetricNames.ValF1Macro] = f1 },
        CreatedAt = T0.AddMinutes(number),
    };

    private static IEnumerable<MetricPoint> Curve(string trialId, string key, params double[] values) =>
        values.Select((v, i) => new MetricPoint(trialId, key, i + 1, v, T0.AddSeconds(i)));

    private IRenderedComponent<RunCompare> RenderAt(string relativeUrl) => RenderAt<RunCompare>(relativeUrl);

    private static Dictionary<string, (string[] Values, bool Differs)> Rows(IRenderedComponent<RunCompare> page, string testId) =>
        page.FindAll($"[data-testid={testId}]").ToDictionary(r => r.GetAttribute("data-name")!,
            r => (r.QuerySelectorAll("td").Skip(1).Select(c => c.TextContent.Trim()).ToArray(), r.ClassList.Contains("differs")));

    [Fact]
    public void Render_TwoRunsOfTwoExperiments_SideBySideWithDifferencesMarked()
    {
        var page = RenderAt("/runs/compare?t=a&t=b&t=unknown&t=a");

        Assert.Equal(["Shapes sweep #3", "Fashion #0"], page.FindAll("[data-testid=run-diff] thead a").Select(a => a.TextContent.Trim()));
        var parameters = Rows(page, "parameter-row");
        Assert.Equal(["0.01", "0.001"], parameters["learning_rate"].Values);
        Assert.True(parameters["learning_rate"].Differs);
        Assert.Equal(["0.2", "0.2"], parameters["dropout"].Values);
        Assert.False(parameters["dropout"].Differs);
        var results = Rows(page, "result-row");
        Assert.Equal(["0.8100", "0.7400"], results[MetricNames.ValF1Macro].Values);
        Assert.Equal(["Completed", "Completed"], results["state"].Values);
        Assert.False(results["state"].Differs);
        // The default curves are validation macro-F1: 3 points of one run and 2 of the other.
        Assert.Equal("5", page.Find("[data-testid=run-curves]").GetAttribute("data-points"));
    }

    [Fact]
    public void OnlyDifferences_Switched_HidesTheRowsThatAgree()
    {
        var page = RenderAt("/runs/compare?t=a&t=b");

        page.Find("input[data-testid=only-differences]").Change(true);

        var parameters = Rows(page, "parameter-row");
        Assert.Equal(["learning_rate"], parameters.Keys);
        Assert.DoesNotContain("state", Rows(page, "result-row").Keys);
    }

    [Fact]
    public async Task Curves_AnotherMetric_OnlyTheRunsThatHaveIt()
    {
        var comparison = await RunComparison.LoadAsync(Services.GetRequiredService<TrackerStores>(), ["a", "b"]);

        Assert.Equal([MetricNames.ValF1Macro, MetricNames.ValLoss], comparison.MetricKeys);
        var curves = comparison.Curves(MetricNames.ValLoss);
        Assert.Equal([3, 0], curves.Select(c => c.Points.Count));
        Assert.Equal([(1.0, 1.2), (2.0, 0.9), (3.0, 0.8)], curves[0].Points);
    }

    [Fact]
    public async Task Live_ARunLogsAnotherEpoch_CurveGrowsWithoutReload()
    {
        var page = RenderAt("/runs/compare?t=a&t=b");
        page.WaitForAssertion(() => Assert.Equal("5", page.Find("[data-testid=run-curves]").GetAttribute("data-points")));

        await Store.AppendMetricsAsync([new MetricPoint("b", MetricNames.ValF1Macro, 3, 0.78, T0)]);
        Feed.Publish(new MetricsRecorded("e2", "b", 3, new Dictionary<string, double> { [MetricNames.ValF1Macro] = 0.78 }));

        page.WaitForAssertion(() => Assert.Equal("6", page.Find("[data-testid=run-curves]").GetAttribute("data-points")));
    }

    [Fact]
    public void Render_NoRunsChosen_SaysHowToChoose()
    {
        var page = RenderAt("/runs/compare");

        Assert.Contains("Tick two or more runs", page.Find("[data-testid=no-runs-chosen]").TextContent);
    }
}
