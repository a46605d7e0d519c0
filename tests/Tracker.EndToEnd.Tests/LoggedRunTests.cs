using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// A run that a script logs over the REST API, as any training script in any language would, shows up live in the
/// dashboard beside the server's own trials: no reload, just the points arriving.
/// </summary>
public sealed class LoggedRunTests(BrowserFixture fixture) : BrowserTest(fixture)
{
    [Fact]
    public async Task RunLoggedOverRest_ItsExperimentPageGrowsLive_AndShowsItCompleted()
    {
        using var http = new HttpClient { BaseAddress = Fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
        string experimentName = $"script {Guid.NewGuid():N}"[..15];
        var created = await http.PostAsJsonAsync("/api/runs", new { experiment = experimentName, name = "baseline", parameters = new { lr = 0.01 } }, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var run = await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        string runId = run.GetProperty("id").GetString()!, experimentId = run.GetProperty("experimentId").GetString()!;

        await OpenAsync($"/experiments/{experimentId}");
        await Assertions.Expect(Page.Locator("h1")).ToContainTextAsync(experimentName);
        await Assertions.Expect(Page.Locator("[data-testid=trials] tbody tr")).ToHaveCountAsync(1);
        var chart = Page.Locator("[data-testid=objective-chart]");
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-points", "0");
        await Page.EvaluateAsync("() => { window.__marker = 1; }");

        // The script logs its objective (val_f1_macro, the default) for two epochs, then ends the run.
        var points = new { points = new[] { new { key = "val_f1_macro", value = 0.5, step = 1 }, new { key = "val_f1_macro", value = 0.75, step = 2 } } };
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync($"/api/runs/{runId}/metrics", points, Cancellation)).StatusCode);
        await WaitForPageAsync("() => Number(document.querySelector('[data-testid=objective-chart]').dataset.points) > 0", null,
            TimeSpan.FromSeconds(30), "the logged points on the objective chart");
        Assert.Equal(HttpStatusCode.OK, (await http.PatchAsJsonAsync($"/api/runs/{runId}", new { state = "completed" }, Cancellation)).StatusCode);
        await WaitForPageAsync("() => [...document.querySelectorAll('[data-testid=trials] tbody [data-testid=state]')].some(c => c.textContent.trim() === 'Completed')",
            null, TimeSpan.FromSeconds(30), "the run completed in the table");

        await Assertions.Expect(Page.Locator("[data-testid=best-objective]")).ToHaveTextAsync("0.7500");
        // The client drives its runs: the page offers no pause or cancel of a search that is not there.
        Assert.Equal(0, await Page.Locator("[data-testid=pause-experiment], [data-testid=cancel-experiment]").CountAsync());
        Assert.Equal(1, await Page.EvaluateAsync<int?>("() => window.__marker")); // no reload happened
        Assert.Empty(PageErrors);
        await ScreenshotAsync("logged-run");
    }
}
