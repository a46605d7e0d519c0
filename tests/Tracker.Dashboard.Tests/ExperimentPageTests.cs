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
