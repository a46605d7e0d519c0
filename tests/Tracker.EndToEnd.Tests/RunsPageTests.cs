using System.Net.Http.Json;
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

    // Runs of one setting repeated over seeds, compared as W&B's grouped runs are: F1's mean ± s.d. per learning rate.
    [Fact]
    public async Task RunsGroupedByAParameter_ShowMeanAndSdOfF1PerGroup()
    {
        using var http = new HttpClient { BaseAddress = Fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
        string experiment = $"seeds {Guid.NewGuid():N}"[..14];
        string? experimentId = null;
        foreach (var (lr, f1) in new[] { (0.01, 0.80), (0.01, 0.84), (0.1, 0.60), (0.1, 0.70), (0.1, 0.65) })
        {
            var created = await http.PostAsJsonAsync("/api/runs", new { experiment, parameters = new { lr } }, Cancellation);
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
            var run = await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Cancellation);
            string id = run.GetProperty("id").GetString()!;
            experimentId = run.GetProperty("experimentId").GetString();
            var points = new { points = new[] { new { key = "val_f1_macro", value = f1, step = 1 } } };
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.PostAsJsonAsync($"/api/runs/{id}/metrics", points, Cancellation)).StatusCode);
        }

        await OpenAsync($"/runs?experiment={experimentId}&group=param:lr");

        var groups = Page.Locator("[data-testid=run-group]");
        await Assertions.Expect(groups).ToHaveCountAsync(2);
        await Assertions.Expect(groups.Nth(0).Locator("td")).ToHaveTextAsync(["0.01", "2", "0.8200 ± 0.0283", "0.8000", "0.8400"]);
        await Assertions.Expect(groups.Nth(1).Locator("td")).ToHaveTextAsync(["0.1", "3", "0.6500 ± 0.0500", "0.6000", "0.7000"]);
        Assert.Empty(PageErrors);
        await ScreenshotAsync("runs-grouped");
    }
}
