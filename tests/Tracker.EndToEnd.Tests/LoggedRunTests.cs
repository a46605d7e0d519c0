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
        // The experiment's state follows its runs: no search ends a logged experiment.
        await Assertions.Expect(Page.Locator("[data-testid=state]").First).ToHaveTextAsync("Completed");
        await Assertions.Expect(Page.Locator("[data-testid=best-heading]")).ToHaveTextAsync("Best run");
        // The client drives its runs: the page offers no pause or cancel of a search that is not there.
        Assert.Equal(0, await Page.Locator("[data-testid=pause-experiment], [data-testid=cancel-experiment]").CountAsync());
        Assert.Equal(1, await Page.EvaluateAsync<int?>("() => window.__marker")); // no reload happened
        Assert.Empty(PageErrors);
        await ScreenshotAsync("logged-run");
    }

    // The run page of a run logged over each API: its name, its tags, a chart per key, and a key logged while the page
    // is open gets its chart without a reload.
    [Theory]
    [InlineData("native")]
    [InlineData("mlflow")]
    public async Task RunLoggedOverEitherApi_ItsPageShowsNameTagsAndEveryCurve_Live(string api)
    {
        using var http = new HttpClient { BaseAddress = Fixture.Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
        string experimentName = $"{api} {Guid.NewGuid():N}"[..16];
        string runId = api == "native" ? await StartNativeRunAsync(http, experimentName) : await StartMlflowRunAsync(http, experimentName);
        async Task LogAsync(string key, int steps, int from = 0)
        {
            if (api == "native")
            {
                var batch = new { points = Enumerable.Range(from, steps).Select(s => new { key, value = 1.0 / (s + 1), step = s }).ToArray() };
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync($"/api/runs/{runId}/metrics", batch, Cancellation)).StatusCode);
            }
            else
            {
                var batch = new { run_id = runId, metrics = Enumerable.Range(from, steps).Select(s => new { key, value = 1.0 / (s + 1), timestamp = 1_700_000_000_000L + s, step = s }).ToArray() };
                Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch", batch, Cancellation)).StatusCode);
            }
        }
        await LogAsync("train/loss", 50);
        await LogAsync("val_f1", 50);

        await OpenAsync($"/trials/{runId}");
        await Assertions.Expect(Page.Locator("h1")).ToHaveTextAsync("baseline");
        await Assertions.Expect(Page.Locator("[data-testid=run-tag]")).ToHaveTextAsync(["team: vision"]);
        await Assertions.Expect(Page.Locator("[data-testid='metric-chart-train/loss']")).ToHaveAttributeAsync("data-points", "50");
        await Assertions.Expect(Page.Locator("[data-testid='metric-chart-val_f1']")).ToHaveAttributeAsync("data-points", "50");
        await Page.EvaluateAsync("() => { window.__marker = 1; }");

        await LogAsync("val_f1", 10, from: 50);
        await LogAsync("grad_norm", 5);
        await Assertions.Expect(Page.Locator("[data-testid='metric-chart-grad_norm']")).ToHaveAttributeAsync("data-points", "5");
        await Assertions.Expect(Page.Locator("[data-testid='metric-chart-val_f1']")).ToHaveAttributeAsync("data-points", "60");
        // plotly.js drew the points that arrived live, and hovering one shows its value.
        var valF1 = Page.Locator("[data-testid='metric-chart-val_f1']");
        await Assertions.Expect(valF1.Locator(".scatterlayer .point")).ToHaveCountAsync(60);
        await Assertions.Expect(valF1.Locator(".modebar-btn[data-title='Download plot as a PNG']")).ToHaveCountAsync(1);
        await valF1.Locator(".scatterlayer .point").Nth(59).HoverAsync(new() { Force = true });
        await Assertions.Expect(Page.Locator(".hoverlayer .hovertext").First).ToContainTextAsync("(59, 0.01667)");
        // Zoomed to steps 10–20 (as a drag would), the x ticks are asked again for the view: whole 1-2-5 steps within it.
        await valF1.Locator(".js-plotly-plot").EvaluateAsync("el => Plotly.relayout(el, { 'xaxis.range[0]': 10, 'xaxis.range[1]': 20 })");
        await Assertions.Expect(valF1.Locator(".xtick text")).ToHaveTextAsync(["10", "12", "14", "16", "18", "20"]);
        Assert.Equal(1, await Page.EvaluateAsync<int?>("() => window.__marker")); // no reload happened
        string text = await Page.Locator("[data-interactive=true]").InnerTextAsync();
        Assert.DoesNotContain("epochs", text);
        Assert.DoesNotContain("searched", text);
        Assert.DoesNotContain("Confusion matrix", text);
        Assert.Equal(0, await Page.Locator("[data-testid=cancel-trial]").CountAsync()); // the script ends its run
        Assert.Empty(PageErrors);
        if (api == "mlflow") await ScreenshotAsync("logged-run-page");
    }

    private static async Task<string> StartNativeRunAsync(HttpClient http, string experimentName)
    {
        var created = await http.PostAsJsonAsync("/api/runs", new { experiment = experimentName, name = "baseline", tags = new { team = "vision" } }, Cancellation);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("id").GetString()!;
    }

    private static async Task<string> StartMlflowRunAsync(HttpClient http, string experimentName)
    {
        var experiment = await http.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = experimentName }, Cancellation);
        Assert.Equal(HttpStatusCode.OK, experiment.StatusCode);
        string experimentId = (await experiment.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("experiment_id").GetString()!;
        var run = await http.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new
        {
            experiment_id = experimentId,
            start_time = 1_700_000_000_000L,
            tags = new[] { new { key = "mlflow.runName", value = "baseline" }, new { key = "team", value = "vision" }, new { key = "mlflow.user", value = "ci" } },
        }, Cancellation);
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        return (await run.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
    }
}
