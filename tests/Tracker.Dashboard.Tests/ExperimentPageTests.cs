using System.Runtime.CompilerServices;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Server.Components.Pages;
using Tracker.Server.Components.Shared;
using ChartSeries = Tracker.Server.Components.Shared.ChartSeries;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// The experiment page over a real store with more trials than one page: the table shows one page read by the store,
/// the count and the best trial cover them all, charts are bounded, and the feed's changes reach the counts, the best
/// trial and the table.
/// </summary>
public sealed class ExperimentPageTests : StoreBackedTest, IAsyncLifetime
{
    private const int Count = 120;

    public ExperimentPageTests()
    {
        // The page's buttons call the service; these tests press none, so it needs no engine behind it.
        Services.AddSingleton((ExperimentService)RuntimeHelpers.GetUninitializedObject(typeof(ExperimentService)));
    }

    private static Trial Trial(int number, TrialState state, double? objective) => new()
    {
        Id = $"t{number:D3}",
        ExperimentId = "e1",
        Number = number,
        Parameters = new() { ["learning_rate"] = 0.001 * (number + 1) },
        State = state,
        Epochs = 4,
        EpochsDone = state == TrialState.Completed ? 4 : 1,
        Intermediate = state == TrialState.Completed ? [new(1, 0.1), new(2, 0.2), new(3, 0.3), new(4, objective ?? 0)] : [new(1, 0.1)],
        Objective = objective,
        CreatedAt = DateTimeOffset.UnixEpoch.AddMinutes(number),
    };

    public async ValueTask InitializeAsync()
    {
        await Store.SaveExperimentAsync(new Experiment
        {
            Id = "e1",
            State = ExperimentState.Running,
            Spec = new ExperimentSpec { Name = "sweep", Model = "small-cnn", Strategy = "random", MaxTrials = 500, Epochs = 4 },
        });
        // Objectives 0.5 + number/1000, except #7, the best; the last trial is still running.
        await Store.SaveTrialsAsync(Enumerable.Range(0, Count).Select(n => n == Count - 1
            ? Trial(n, TrialState.Running, null)
            : Trial(n, TrialState.Completed, n == 7 ? 0.99 : 0.5 + n / 1000.0)));
    }

    /// <summary>The page of experiment e1, interactive (bUnit does not route: the id is given as the router would).</summary>
    private IRenderedComponent<ExperimentPage> RenderPage()
    {
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Render<MudPopoverProvider>();
        return Render<ExperimentPage>(p => p.Add(x => x.Id, "e1"));
    }

    private static IReadOnlyList<string> RowNumbers(IRenderedComponent<ExperimentPage> page) =>
        page.FindAll("[data-testid=trials] tbody tr td:first-child a").Select(a => a.TextContent.Trim()).ToList();

    [Fact]
    public void ManyTrials_TableShowsTheFirstPageInNumberOrder_CountAndBestCoverAll()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(ExperimentPage.PageSize, RowNumbers(page).Count));
        Assert.Equal(Enumerable.Range(0, ExperimentPage.PageSize).Select(n => $"#{n}"), RowNumbers(page));
        Assert.Contains($"{Count} / 500 trials", page.Markup);
        Assert.Equal("0.9900", page.Find("[data-testid=best-objective]").TextContent.Trim());
        Assert.NotEmpty(page.FindAll("[data-testid=trials-pager]"));
        // 119 results, 119 best-so-far vertices (fewer than the cap: drawn as before), and the epochs of the kept trials.
        int points = int.Parse(page.Find("[data-testid=objective-chart]").GetAttribute("data-points")!);
        Assert.InRange(points, 2 * (Count - 1), 2 * (Count - 1) + 3 * (ExperimentTrials.EpochTrials + 1));
    }

    [Fact]
    public async Task FeedEvents_ABetterTrialFinishesAndARowChanges_BestCountAndTableFollow()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(ExperimentPage.PageSize, RowNumbers(page).Count));

        // A new trial beats #7; trial #0 (on the shown page) fails.
        var better = Trial(Count, TrialState.Completed, 0.995);
        await Store.SaveTrialAsync(better);
        Feed.Publish(new TrialChanged(better));
        var failed = Trial(0, TrialState.Failed, null) with { Error = "out of memory" };
        await Store.SaveTrialAsync(failed);
        Feed.Publish(new TrialChanged(failed));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("0.9950", page.Find("[data-testid=best-objective]").TextContent.Trim());
            Assert.Contains($"{Count + 1} / 500 trials", page.Markup);
            Assert.Equal("Failed", page.Find("[data-testid=trials] tbody tr [data-testid=state]").TextContent.Trim());
            Assert.Contains("out of memory", page.Find("[data-testid=trials] tbody tr").TextContent);
        });
        Assert.Equal(Enumerable.Range(0, ExperimentPage.PageSize).Select(n => $"#{n}"), RowNumbers(page));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Controls_OnlyForARoleThatMayEdit(bool editor)
    {
        if (!editor) Authorization.SetPolicies(); // a viewer: signed in, admitted by no role policy

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(ExperimentPage.PageSize, RowNumbers(page).Count));
        string[] controls = ["pause-experiment", "cancel-experiment", "start-sensitivity"];
        Assert.Equal(editor ? controls : [], controls.Where(id => page.FindAll($"[data-testid={id}]").Count > 0));
        Assert.Equal("0.9900", page.Find("[data-testid=best-objective]").TextContent.Trim()); // what there is to read is there for both
    }

    // ---- The metric overlay, over a logged experiment's runs ----

    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// Experiment e2, logged by a client with objective val_loss: run #0 "baseline" logs val_loss at 5 steps, run #1
    /// (unnamed) val_loss at 3 and accuracy at 2, run #2 only lr, run #3 a long val_loss of 3,000 steps.
    /// </summary>
    private async Task SeedLoggedRunsAsync()
    {
        await Store.SaveExperimentAsync(new Experiment
        {
            Id = "e2",
            State = ExperimentState.Running,
            Spec = new ExperimentSpec
            {
                Name = "scripts", Execution = TrialExecution.Logged,
                Objective = new ObjectiveSpec { Metric = "val_loss", Direction = ObjectiveDirection.Minimize },
            },
        });
        Trial Run(int number, string[] keys, string? name = null) => new()
        {
            Id = $"r{number}",
            ExperimentId = "e2",
            Number = number,
            Parameters = [],
            Epochs = 0,
            State = TrialState.Running,
            FinalMetrics = keys.ToDictionary(k => k, _ => 0.5),
            RunTags = name is null ? [] : new() { [Tracker.Core.Tracking.RunRegistry.RunNameTag] = name },
            CreatedAt = T0.AddMinutes(number),
        };
        await Store.SaveTrialsAsync([Run(0, ["val_loss"], "baseline"), Run(1, ["val_loss", "accuracy"]), Run(2, ["lr"]), Run(3, ["val_loss"])]);
        await Store.AppendMetricsAsync([
            .. Series("r0", "val_loss", 5), .. Series("r1", "val_loss", 3), .. Series("r1", "accuracy", 2), .. Series("r2", "lr", 1), .. Series("r3", "val_loss", 3000),
        ]);
    }

    private static IEnumerable<MetricPoint> Series(string runId, string key, int steps, int first = 0) =>
        Enumerable.Range(first, steps).Select(step => new MetricPoint(runId, key, step, 1.0 / (step + 1), T0.AddSeconds(step)));

    /// <summary>Experiment <paramref name="id"/>'s page at <paramref name="query"/>, as the router would give it, with the popover host.</summary>
    private (IRenderedComponent<ExperimentPage> Page, IRenderedComponent<MudPopoverProvider> Popovers) RenderPageAt(string id, string query = "")
    {
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/experiments/{id}{query}");
        var popovers = Render<MudPopoverProvider>();
        return (Render<ExperimentPage>(p => p.Add(x => x.Id, id)), popovers);
    }

    private static IReadOnlyList<ChartSeries> OverlayLines(IRenderedComponent<ExperimentPage> page) =>
        page.FindComponents<LineChart>().Single(c => c.Instance.TestId == "metric-overlay").Instance.Series;

    private static IReadOnlyList<(string Name, int Points)> Lines(IRenderedComponent<ExperimentPage> page) =>
        OverlayLines(page).Select(s => (s.Name, s.Points.Count)).ToList();

    [Fact]
    public async Task Overlay_LoggedRuns_PickerListsEveryKey_ObjectiveDrawnOneLinePerRunThinnedByTheStore()
    {
        await SeedLoggedRunsAsync();

        var (page, popovers) = RenderPageAt("e2");

        page.WaitForAssertion(() => Assert.Equal(3, OverlayLines(page).Count));
        var lines = OverlayLines(page);
        Assert.Equal(["baseline", "run #1", "run #3"], lines.Select(s => s.Name)); // run #2 has no val_loss
        Assert.Equal([5, 3], lines.Take(2).Select(s => s.Points.Count));
        Assert.Equal([(0.0, 1.0), (1.0, 0.5), (2.0, 1.0 / 3)], lines[1].Points);
        Assert.InRange(lines[2].Points.Count, 4, MetricOverlay.MaxPointsPerRun); // 3,000 steps, read thinned
        Assert.Equal((2999.0, 1.0 / 3000), lines[2].Points[^1]);
        Assert.Equal([ChartPalette.Color(0), ChartPalette.Color(1), ChartPalette.Color(3)], lines.Select(s => s.Color)); // each run keeps its place

        var select = page.FindComponent<MudSelect<string>>(); // the page's only select when it is not a built-in search
        Assert.Equal("val_loss", select.Instance.Value);
        await page.InvokeAsync(() => select.Instance.OpenMenu());
        popovers.WaitForAssertion(() => Assert.Equal(["accuracy", "lr", "val_loss"],
            popovers.FindAll(".mud-list-item").Select(item => item.TextContent.Trim()).ToList()));
    }

    [Fact]
    public async Task Overlay_MetricInTheUrl_IsDrawn_AndAChoiceGoesIntoTheUrl()
    {
        await SeedLoggedRunsAsync();

        var (page, _) = RenderPageAt("e2", "?metric=accuracy");

        page.WaitForAssertion(() => Assert.Equal([("run #1", 2)], Lines(page)));
        var select = page.FindComponent<MudSelect<string>>();
        Assert.Equal("accuracy", select.Instance.Value);

        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("lr"));

        page.WaitForAssertion(() => Assert.Equal([("run #2", 1)], Lines(page)));
        Assert.EndsWith("/experiments/e2?metric=lr", Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public async Task Overlay_RunsLogPoints_LinesAndKeysFollowLive()
    {
        await SeedLoggedRunsAsync();
        var (page, popovers) = RenderPageAt("e2");
        page.WaitForAssertion(() => Assert.Equal(("run #1", 3), Lines(page)[1]));

        // Run #1 logs three more steps in one batch, run #2 its first val_loss and a new key.
        await Store.AppendMetricsAsync([.. Series("r1", "val_loss", 3, first: 3), .. Series("r2", "val_loss", 2), .. Series("r2", "grad_norm", 2)]);
        for (int step = 3; step < 6; step++)
            Feed.Publish(new MetricsRecorded("e2", "r1", step, new Dictionary<string, double> { ["val_loss"] = 1.0 / (step + 1) }));
        for (int step = 0; step < 2; step++)
            Feed.Publish(new MetricsRecorded("e2", "r2", step, new Dictionary<string, double> { ["val_loss"] = 1.0 / (step + 1), ["grad_norm"] = 1.0 / (step + 1) }));

        page.WaitForAssertion(() => Assert.Equal([("baseline", 5), ("run #1", 6), ("run #2", 2)], Lines(page).Take(3)));
        await page.InvokeAsync(() => page.FindComponent<MudSelect<string>>().Instance.OpenMenu());
        popovers.WaitForAssertion(() => Assert.Equal(["accuracy", "grad_norm", "lr", "val_loss"],
            popovers.FindAll(".mud-list-item").Select(item => item.TextContent.Trim()).ToList()));
    }

    [Fact]
    public void OverlayRuns_MoreThanTheCap_TheBestHalfAndTheLatest_InNumberOrder()
    {
        // Objectives 0.5 + n/1000, except #7 (0.99) and #3 (0.98): the best ten are #7, #3 and #112–#119; the ten latest of the others #102–#111.
        var trials = Enumerable.Range(0, Count).Select(n => Trial(n, TrialState.Completed, n == 7 ? 0.99 : n == 3 ? 0.98 : 0.5 + n / 1000.0)).ToList();

        var chosen = OverlayRuns.Choose(trials, ObjectiveDirection.Maximize);
        var latestOnly = OverlayRuns.Choose(trials, ObjectiveDirection.Maximize, rankByObjective: false);

        Assert.Equal(OverlayRuns.MaxRuns, chosen.Shown.Count);
        Assert.Equal([3, 7, .. Enumerable.Range(Count - 18, 18)], chosen.Shown.Select(t => t.Number));
        Assert.Equal("The 10 best by val_f1_macro and the 10 latest of 120 trials.", chosen.Description("trial", "val_f1_macro"));
        Assert.Equal(Enumerable.Range(Count - 20, 20), latestOnly.Shown.Select(t => t.Number));
        Assert.Equal("The 20 latest of 120 trials.", latestOnly.Description("trial", "val_f1_macro"));
        Assert.Null(OverlayRuns.Choose(trials.Take(5).ToList(), ObjectiveDirection.Maximize).Description("trial", "val_f1_macro"));
    }

    // ---- A sensitivity study's own page ----

    /// <summary>
    /// Study s1 of e1's learning rate (tuned to 0.008 by trial #7) at ×0.1, ×1 and ×10 over 2 seeds: trial n trains
    /// factor n mod 3, and its val_f1_macro is given per trial.
    /// </summary>
    private async Task SeedStudyAsync(params double[] f1)
    {
        double[] factors = [0.1, 1, 10];
        var spec = new ExperimentSpec
        {
            Name = "sweep: learning_rate × 0.1 / 1 / 10", Model = "small-cnn", Strategy = SensitivityStudy.StrategyName, MaxTrials = 6, Epochs = 2, Seed = 5,
            Sensitivity = new SensitivitySpec
            {
                SourceExperimentId = "e1", SourceTrialId = "t007", Parameter = "learning_rate", BaseValue = 0.008, Factors = factors, Seeds = 2,
            },
        };
        await Store.SaveExperimentAsync(new Experiment { Id = "s1", State = ExperimentState.Completed, Spec = spec });
        await Store.SaveTrialsAsync(f1.Select((value, n) => new Trial
        {
            Id = $"s1-{n}",
            ExperimentId = "s1",
            Number = n,
            Parameters = new() { ["learning_rate"] = 0.008 * factors[n % 3] },
            State = TrialState.Completed,
            Epochs = 2,
            EpochsDone = 2,
            Intermediate = [new(1, value / 2), new(2, value)],
            Objective = value,
            FinalMetrics = new() { [MetricNames.ValF1Macro] = value },
            CreatedAt = T0.AddMinutes(n),
        }));
    }

    [Fact]
    public async Task SensitivityStudy_OwnPage_FigureSeedsAndSource_NoBestTrial()
    {
        // ×0.1: 0.40 and 0.50; ×1: 0.90 and 0.80 (the lucky seed, 0.90, is no "best trial"); ×10: 0.20 and 0.20.
        await SeedStudyAsync(0.40, 0.90, 0.20, 0.50, 0.80, 0.20);

        var (page, _) = RenderPageAt("s1");

        page.WaitForAssertion(() => Assert.Equal(6, page.FindAll("[data-testid=trial-seed]").Count));
        Assert.Equal("Study of learning_rate around sweep — 3 settings × 2 seeds",
            string.Join(' ', page.Find("[data-testid=study-summary]").TextContent.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)).Split(" · ")[0]);
        Assert.Equal("/experiments/e1", page.Find("[data-testid=study-source]").GetAttribute("href"));

        var figure = page.FindComponents<BarChart>().Single(c => c.Instance.TestId == "study-bars").Instance;
        Assert.Equal(["×0.1", "×1", "×10"], figure.Groups);
        var bars = Assert.Single(figure.Series);
        Assert.Equal([0.45, 0.85, 0.20], bars.Values.Select(v => Math.Round(v, 6)));
        Assert.Equal([Math.Round(Math.Sqrt(0.005), 6), Math.Round(Math.Sqrt(0.005), 6), 0.0], bars.Errors!.Select(v => Math.Round(v, 6)));
        Assert.Equal(["0.4500 ± 0.0707", "0.8500 ± 0.0707", "0.2000 ± 0.0000"],
            page.FindAll("[data-testid=study-table] tbody tr").Select(row => row.Children[2].TextContent.Trim()));

        Assert.Contains("Seed", page.FindAll("[data-testid=trials] thead th").Select(th => th.TextContent.Trim()));
        var seeds = page.FindAll("[data-testid=trial-seed]").Select(td => int.Parse(td.TextContent.Trim())).ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(n => Seeds.Derive(5, n)), seeds); // the seeds the trainer used
        Assert.Equal(6, seeds.Distinct().Count());

        Assert.Empty(page.FindAll("[data-testid=best-heading]"));
        Assert.Empty(page.FindAll("[data-testid=analytics]"));
        Assert.DoesNotContain("best", page.Markup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SensitivityStudy_ATrainingFinishes_TheFigureGrows()
    {
        await SeedStudyAsync(0.40, 0.90, 0.20);
        var (page, _) = RenderPageAt("s1");
        BarSeries Bars() => page.FindComponents<BarChart>().Single(c => c.Instance.TestId == "study-bars").Instance.Series.Single();
        page.WaitForAssertion(() => Assert.Equal([0.40, 0.90, 0.20], Bars().Values));

        var second = new Trial
        {
            Id = "s1-3", ExperimentId = "s1", Number = 3, Parameters = new() { ["learning_rate"] = 0.0008 }, State = TrialState.Completed,
            Epochs = 2, EpochsDone = 2, Objective = 0.5, FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.5 }, CreatedAt = T0.AddMinutes(3),
        };
        await Store.SaveTrialAsync(second);
        Feed.Publish(new TrialChanged(second));

        page.WaitForAssertion(() => Assert.Equal(0.45, Bars().Values[0], 9));
        // The figure and the table may come in separate renders on a busy machine: wait for the table as well.
        page.WaitForAssertion(() => Assert.Equal("2 / 2", page.FindAll("[data-testid=study-table] tbody tr")[0].Children[3].TextContent.Trim()));
    }

    [Fact]
    public void ObjectiveSeries_ThousandsOfTrials_EachSeriesCapped_BestAndLastKept()
    {
        var trials = Enumerable.Range(0, 6000).Select(n => Trial(n, TrialState.Completed, n == 1234 ? 2.0 : Math.Sin(n))).ToList();

        var series = ExperimentTrials.ObjectiveSeries(ObjectiveDirection.Maximize, trials, maxPoints: 2000);

        Assert.All(series, s => Assert.InRange(s.Points.Count, 1, 2000));
        var results = series.Single(s => s.Name == "trial result").Points;
        Assert.Contains((1234.0, 2.0), results);
        Assert.Contains((5999.0, Math.Sin(5999)), results);
        var bestSoFar = series.Single(s => s.Name == "best so far").Points;
        Assert.Equal((5999.0, 2.0), bestSoFar[^1]);
    }

    [Fact]
    public void Brackets_ThousandsOfConfigurations_ShowsOnlyTheFurthestPromoted()
    {
        // 300 configurations at 1 epoch; every 10th promoted to 3 epochs.
        var trials = new List<Trial>();
        for (int i = 0; i < 300; i++) trials.Add(Trial(i, TrialState.Completed, 0.5) with { Epochs = 1 });
        for (int i = 0; i < 300; i += 10) trials.Add(Trial(300 + i, TrialState.Completed, 0.6) with { Epochs = 3, ResumedFrom = $"t{i:D3}", Id = $"p{i:D3}" });

        var bracket = Promotions.From(trials).Brackets.Single();
        var shown = bracket.Shown();

        Assert.Equal(300, bracket.Chains.Count);
        Assert.Equal(Promotions.MaxChainsShown, shown.Count);
        Assert.Equal(30, shown.Count(c => c.Rungs.Count == 2));
        Assert.Equal(shown.OrderBy(c => c.Rungs[0].Trial.Number), shown);
    }
}
