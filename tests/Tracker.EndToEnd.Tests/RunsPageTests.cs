using Microsoft.Playwright;
using Tracker.Abstractions;

namespace Tracker.EndToEnd.Tests;

/// <summary>The runs browser: every trial in one grid, filtered in the store, with the filters in a shareable URL.</summary>
[Collection(BrowserCollection.Name)]
public sealed class RunsPageTests(BrowserFixture fixture) : IAsyncLifetime
{
    private readonly List<string> pageErrors = [];
    private IPage page = default!;

    public async ValueTask InitializeAsync()
    {
        page = await fixture.NewPageAsync();
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Console += (_, m) => { if (m.Type == "error") pageErrors.Add(m.Text); };
    }

    public async ValueTask DisposeAsync() => await page.Context.DisposeAsync();

    [Fact]
    public async Task RunsPage_FilteredByUrlAndTag_ShowsExactlyTheMatchingTrials()
    {
        var experiment = await fixture.GetCompletedExperimentAsync(TestContext.Current.CancellationToken);
        var trials = fixture.Store.ListTrials(experiment.Id);
        var tagged = trials.First(t => t.State == TrialState.Completed);
        fixture.Store.UpdateTrialAnnotations(tagged.Id, ["e2e-baseline"], "picked by the browser test");

        // A shared link: this experiment's trials, best objective first.
        await OpenAsync($"/runs?experiment={experiment.Id}&sort=objective&desc=true");
        var rows = page.Locator("[data-testid=runs] tbody tr").Filter(new() { Has = page.Locator("[data-testid=trial-link]") });
        await Assertions.Expect(rows).ToHaveCountAsync(trials.Count);
        var best = trials.Where(t => t.Objective is not null).MaxBy(t => t.Objective)!;
        await Assertions.Expect(rows.First.Locator("[data-testid=trial-link]")).ToHaveTextAsync($"#{best.Number}");
        await Assertions.Expect(page.Locator("[data-testid=page-summary]")).ToContainTextAsync($"of {trials.Count} trials");
        await BrowserFixture.ScreenshotAsync(page, "runs");

        // Filtering by the tag narrows the grid to the tagged trial, with its notes.
        await OpenAsync($"/runs?tag=e2e-baseline");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First.Locator("[data-testid=notes]")).ToHaveTextAsync("picked by the browser test");
        await Assertions.Expect(rows.First.Locator("[data-testid=trial-link]")).ToHaveAttributeAsync("href", $"/trials/{tagged.Id}");
        Assert.Empty(pageErrors);
    }

    private async Task OpenAsync(string path)
    {
        var response = await page.GotoAsync(path);
        Assert.Equal(200, response?.Status);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }
}
