using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Tracker.Core.Storage;
using Tracker.Storage.Postgres;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// The dashboard unchanged on PostgreSQL: a second server on a fresh database of the throwaway cluster (skipped, saying
/// why, without PostgreSQL's binaries), an experiment made with the form that trains live on its page, and a run that a
/// script logs over REST in the runs browser.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PostgresSmokeTests(BrowserFixture fixture, PostgresCluster cluster)
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostgresServer_FormExperimentTrainsLive_AndALoggedRunShowsOnTheRunsPage()
    {
        await using var server = new TrackerServerFactory { PostgresConnectionString = await cluster.CreateDatabaseAsync() };
        server.Start();
        Assert.IsType<PostgresStore>(server.Services.GetRequiredService<ITrialStore>());
        var page = await fixture.NewPageAsync(server);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        try
        {
            // An experiment through the form.
            await OpenAsync(page, "/experiments/new");
            await FillAsync(page, "#maxTrials", "2");
            await FillAsync(page, "#epochs", "2");
            await FillAsync(page, "#dataset-samples", "240");
            await FillAsync(page, "#dataset-image_size", "16");
            await page.ClickAsync("[data-testid=create]");
            await page.WaitForFunctionAsync("() => !location.pathname.endsWith('/experiments/new') || document.querySelector('[data-testid=form-errors]')",
                null, new() { Timeout = 15_000 });
            var formErrors = page.Locator("[data-testid=form-errors]");
            if (await formErrors.CountAsync() > 0) Assert.Fail($"the form was rejected: {await formErrors.InnerTextAsync()}");
            await page.WaitForURLAsync(url => !url.EndsWith("/experiments/new", StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
            string id = new Uri(page.Url).AbsolutePath["/experiments/".Length..];
            Assert.NotNull(await server.Services.GetRequiredService<IExperimentStore>().GetExperimentAsync(id, Cancellation));

            // It trains live on its page: the chart grows and both trials complete without a reload.
            await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
            await page.EvaluateAsync("() => { window.__marker = 1; }");
            int initialPoints = int.Parse((await page.Locator("[data-testid=objective-chart]").GetAttributeAsync("data-points"))!);
            await WaitForPageAsync(page, server, "n => Number(document.querySelector('[data-testid=objective-chart]').dataset.points) > n", initialPoints,
                "the objective chart to grow");
            await WaitForPageAsync(page, server,
                "() => [...document.querySelectorAll('[data-testid=trials] tbody [data-testid=state]')].filter(c => c.textContent.trim() === 'Completed').length === 2",
                null, "two completed trials in the table");
            // Each trial's first epoch (2), the 2 trial results and the 2 best-so-far vertices.
            await Assertions.Expect(page.Locator("[data-testid=objective-chart]")).ToHaveAttributeAsync("data-points", "6");
            await Assertions.Expect(page.Locator("h1 + .mud-chip-container [data-testid=state]")).ToHaveTextAsync("Completed");
            Assert.Equal(1, await page.EvaluateAsync<int?>("() => window.__marker"));

            // A run a script logs over REST shows in the runs browser, as do the trained trials.
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
            var created = await http.PostAsJsonAsync("/api/runs", new { experiment = "pg script", name = "baseline", parameters = new { lr = 0.01 } }, Cancellation);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var run = await created.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
            string runId = run.GetProperty("id").GetString()!, runExperimentId = run.GetProperty("experimentId").GetString()!;
            var points = new { points = new[] { new { key = "val_f1_macro", value = 0.5, step = 1 }, new { key = "val_f1_macro", value = 0.75, step = 2 } } };
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync($"/api/runs/{runId}/metrics", points, Cancellation)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.PatchAsJsonAsync($"/api/runs/{runId}", new { state = "completed" }, Cancellation)).StatusCode);

            var rows = page.Locator("[data-testid=runs] tbody tr").Filter(new() { Has = page.Locator("[data-testid=trial-link]") });
            await OpenAsync(page, $"/runs?experiment={runExperimentId}");
            await Assertions.Expect(rows).ToHaveCountAsync(1);
            await Assertions.Expect(rows.First.Locator("[data-testid=trial-link]")).ToHaveAttributeAsync("href", $"/trials/{runId}");
            await OpenAsync(page, $"/runs?experiment={id}&sort=number&desc=false");
            await Assertions.Expect(rows).ToHaveCountAsync(2);
            await OpenAsync(page, "/runs?sort=objective&desc=true");
            await Assertions.Expect(rows).ToHaveCountAsync(3);
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
        finally
        {
            await page.Context.DisposeAsync();
        }
    }

    private static async Task OpenAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(path);
        Assert.Equal(200, response?.Status);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    /// <summary>Types into a MudBlazor field and leaves it, which is when it binds.</summary>
    private static async Task FillAsync(IPage page, string selector, string value)
    {
        await page.FillAsync(selector, value);
        await page.PressAsync(selector, "Tab");
        await Assertions.Expect(page.Locator(selector)).ToHaveValueAsync(value);
    }

    /// <summary>Waits for a browser-side condition; on timeout fails with what the server held and logged.</summary>
    private static async Task WaitForPageAsync(IPage page, TrackerServerFactory server, string expression, object? argument, string what)
    {
        try
        {
            await page.WaitForFunctionAsync(expression, argument, new() { Timeout = (float)TrainingTimeout.TotalMilliseconds, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            var stores = server.Services.GetRequiredService<TrackerStores>();
            var text = new System.Text.StringBuilder($"Timed out after {TrainingTimeout.TotalSeconds:0} s waiting for {what} on {page.Url}.\n");
            foreach (var experiment in await stores.Experiments.ListExperimentsAsync())
            {
                text.AppendLine($"experiment {experiment.Id} '{experiment.Spec.Name}': {experiment.State} {experiment.Message}");
                foreach (var t in await stores.Trials.ListTrialsAsync(experiment.Id))
                    text.AppendLine($"  trial #{t.Number} {t.Id}: {t.State}, epoch {t.EpochsDone}/{t.Epochs} {t.Error}");
            }
            foreach (var line in server.Log.TakeLast(40)) text.AppendLine("  " + line);
            Assert.Fail(text.ToString());
        }
    }
}
