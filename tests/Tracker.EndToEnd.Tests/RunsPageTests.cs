using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>The runs browser: every trial in one grid, filtered in the store, with the filters in a shareable URL.</summary>
public sealed class RunsPageTests(BrowserFixture fixture) : BrowserTest(fixture)
{

    [Fact]
    public async Task RunsPage_FilteredByUrlAndTag_ShowsExactlyTheMatchingTrials()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(TestContext.Current.CancellationToken);
        var trials = await Fixture.Stores.Trials.ListTrialsAsync(experiment.Id, Cancellation);
        var tagged = trials.First(t => t.State == TrialState.Completed);
        await Fixture.Stores.Trials.UpdateTrialAnnotationsAsync(tagged.Id, ["e2e-baseline"], "picked by the browser test", Cancellation);

        // A shared link: this experiment's trials, best objective first.
        await OpenAsync($"/runs?experiment={experiment.Id}&sort=objective&desc=true");
        var rows = Page.Locator("[data-testid=runs] tbody tr").Filter(new() { Has = Page.Locator("[data-testid=trial-link]") });
        await Assertions.Expect(rows).ToHaveCountAsync(trials.Count);
        var best = trials.Where(t => t.Objective is not null).MaxBy(t => t.Objective)!;
        await Assertions.Expect(rows.First.Locator("[data-testid=trial-link]")).ToHaveTextAsync($"#{best.Number}");
        await Assertions.Expect(Page.Locator("[data-testid=page-summary]")).ToContainTextAsync($"of {trials.Count} trials");
        await ScreenshotAsync("runs");

        // Filtering by the tag narrows the grid to the tagged trial, with its notes.
        await OpenAsync($"/runs?tag=e2e-baseline");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First.Locator("[data-testid=notes]")).ToHaveTextAsync("picked by the browser test");
        await Assertions.Expect(rows.First.Locator("[data-testid=trial-link]")).ToHaveAttributeAsync("href", $"/trials/{tagged.Id}");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task RunsPage_TwoRunsTicked_CompareShowsTheirCurvesAndParametersSideBySide()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(TestContext.Current.CancellationToken);
        var trials = (await Fixture.Stores.Trials.ListTrialsAsync(experiment.Id, Cancellation)).Where(t => t.State == TrialState.Completed).Take(2).ToList();
        Assert.Equal(2, trials.Count);

        await OpenAsync($"/runs?experiment={experiment.Id}&sort=number&desc=false");
        foreach (var trial in trials)
            await Page.Locator("[data-testid=runs] tbody tr").Filter(new() { Has = Page.Locator($"a[href='/trials/{trial.Id}']") })
                .Locator("input[data-testid=choose-run]").CheckAsync();
        await Assertions.Expect(Page.Locator("[data-testid=compare-runs]")).ToContainTextAsync("Compare (2)");
        await Page.ClickAsync("[data-testid=compare-runs]");

        await Page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/runs/compare");
        await WaitForInteractiveAsync();
        Assert.Equal(trials.Select(t => t.Id), new Uri(Page.Url).Query.TrimStart('?').Split('&').Select(p => Uri.UnescapeDataString(p["t=".Length..])));
        await Assertions.Expect(Page.Locator("[data-testid=run-diff] thead a")).ToHaveTextAsync(trials.Select(t => $"{experiment.Spec.Name} #{t.Number}").ToArray());
        // Each run's validation macro-F1 at every epoch.
        int points = 0;
        foreach (var t in trials) points += await Fixture.CountMetricPointsAsync(t.Id, MetricNames.ValF1Macro, Cancellation);
        await Assertions.Expect(Page.Locator("[data-testid=run-curves]")).ToHaveAttributeAsync("data-points", points.ToString());
        await Assertions.Expect(Page.Locator("[data-testid=parameter-row][data-name=learning_rate]")).ToHaveClassAsync("differs");
        Assert.Empty(PageErrors);
        await ScreenshotAsync("run-compare");
    }
}
