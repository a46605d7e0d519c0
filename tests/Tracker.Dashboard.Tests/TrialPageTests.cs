using System.Runtime.CompilerServices;
using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// The run page of a run a script logged, over a real store: its name as the title, its tags, one chart per metric key
/// grouped by prefix (new keys appear live), its params as logged, and none of the sections or words that belong to the
/// server's own trials.
/// </summary>
public sealed class TrialPageTests : StoreBackedTest, IAsyncLifetime
{
    private readonly RunRegistry registry;
    private readonly RunIngest ingest;
    private string runId = "";

    public TrialPageTests()
    {
        registry = new RunRegistry(Store, Store, Store, Store, Feed);
        ingest = new RunIngest(registry, Store, Store, Feed);
        Services.AddSingleton(new RunArtifacts(Store, Store, registry, Feed, Options.Create(new TrackingOptions())));
        // The page's buttons and Grad-CAM dialog use these; a logged run shows neither.
        Services.AddSingleton((ExperimentService)RuntimeHelpers.GetUninitializedObject(typeof(ExperimentService)));
        Services.AddSingleton((PluginCatalog)RuntimeHelpers.GetUninitializedObject(typeof(PluginCatalog)));
    }

    public async ValueTask InitializeAsync()
    {
        var experiment = await registry.CreateExperimentAsync("scripts", cancellationToken: Xunit.TestContext.Current.CancellationToken);
        var run = await registry.CreateRunAsync(new RunCreate
        {
            ExperimentId = experiment.Value!.Id,
            Name = "baseline",
            Tags = new Dictionary<string, string> { ["team"] = "vision", ["mlflow.user"] = "ci" },
        }, Xunit.TestContext.Current.CancellationToken);
        runId = run.Value!.Id;
        Assert.True((await ingest.LogCheckedAsync(runId, [], [ParamWrite.OfText("lr", "0.001"), ParamWrite.OfText("optimizer", "adam")], [],
            Xunit.TestContext.Current.CancellationToken)).Succeeded);
        long t0 = 1_700_000_000_000;
        string[] keys = ["train/loss", "train/accuracy", "val_loss", "val_f1", "lr"];
        var points = Enumerable.Range(0, 200).SelectMany(step => keys.Select(key => new LoggedMetric(key, 1.0 / (step + 1), t0 + step, step))).ToList();
        Assert.True((await ingest.LogMetricsAsync(runId, points, Xunit.TestContext.Current.CancellationToken)).Succeeded);
    }

    /// <summary>The run's page, interactive (bUnit does not route: the id is given as the router would).</summary>
    private IRenderedComponent<TrialPage> RenderRun()
    {
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Render<MudPopoverProvider>();
        return Render<TrialPage>(p => p.Add(x => x.Id, runId));
    }

    [Fact]
    public void LoggedRun_EveryKeyGetsAChart_GroupedByPrefix()
    {
        var page = RenderRun();

        page.WaitForAssertion(() =>
        {
            var charts = page.FindAll("[data-testid^='metric-chart-']").Select(c => c.GetAttribute("data-testid")).ToList();
            Assert.Equal(["metric-chart-train/accuracy", "metric-chart-train/loss", "metric-chart-val_f1", "metric-chart-val_loss", "metric-chart-lr"], charts);
        });
        Assert.Equal(["train", "val", "Metrics"], page.FindAll("[data-testid='panel-group']").Select(g => g.TextContent.Trim()));
        // Each chart draws the run's own series: 200 steps, from 0 to 199, with both axes titled.
        var valF1 = page.FindComponents<LineChart>().Single(c => c.Instance.TestId == "metric-chart-val_f1").Instance;
        var points = valF1.Layout.Series.Single().Points;
        Assert.Equal((0, 199), (points[0].X, points[^1].X));
        var figure = valF1.Figure.Layout;
        Assert.Equal(("step", "val_f1"), (figure.XAxis.Single().Title.Text, figure.YAxis.Single().Title.Text));
    }

    [Fact]
    public void LoggedRun_NameTagsAndParamsShown_NothingOfBuiltInTrials()
    {
        var page = RenderRun();

        page.WaitForAssertion(() => Assert.Equal("baseline", page.Find("[data-testid='run-title']").TextContent.Trim()));
        Assert.Equal(["team: vision"], page.FindAll("[data-testid='run-tag']").Select(t => t.TextContent.Trim()));
        Assert.Contains("logged run · steps 0–199", page.Find("[data-testid='run-progress']").TextContent);
        string parameters = page.Find("[data-testid='parameters']").TextContent;
        Assert.Contains("lr", parameters);
        Assert.Contains("adam", parameters);
        Assert.DoesNotContain("searched", page.Markup);
        Assert.DoesNotContain("epochs", page.Markup);
        Assert.Empty(page.FindAll("[data-testid='confusion-section']"));
        Assert.Empty(page.FindAll("[data-testid='gallery']"));
        Assert.DoesNotContain("Appears after the first epoch", page.Markup);
        Assert.DoesNotContain("Shown when the trial has finished", page.Markup);
    }

    [Fact]
    public async Task LoggedRun_ANewKeyGetsItsChartLive()
    {
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("[data-testid^='metric-chart-']").Count));

        Assert.True((await ingest.LogMetricsAsync(runId, [new LoggedMetric("grad_norm", 3.5, 1_700_000_001_000, 200)], Xunit.TestContext.Current.CancellationToken)).Succeeded);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid='metric-chart-grad_norm']")));
        var chart = page.FindComponents<LineChart>().Single(c => c.Instance.TestId == "metric-chart-grad_norm").Instance;
        Assert.Equal((200, 3.5), (chart.Layout.Series.Single().Points.Single().X, chart.Layout.Series.Single().Points.Single().Y));
    }
}
