using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>The dashboard in a real browser against the real server, training real (tiny) trials.</summary>
public sealed class DashboardTests(BrowserFixture fixture) : BrowserTest(fixture)
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task NewExperimentForm_SmallSearch_ChartGrowsLiveUntilThreeTrialsComplete()
    {
        await OpenAsync("/experiments/new");

        // Prefilled from the catalog: small-cnn, random search, shapes, learning_rate searched.
        Assert.Equal("small-cnn", await SelectValueAsync("model"));
        Assert.Equal("random", await SelectValueAsync("strategy"));
        Assert.True(await Page.Locator("[data-testid=search-space] input[aria-label='search learning_rate']").IsCheckedAsync());
        Assert.Equal("400", await Page.InputValueAsync("#dataset-samples"));

        await FillAsync("#maxTrials", "3");
        await FillAsync("#epochs", "2");
        await FillAsync("#dataset-samples", "240");
        await FillAsync("#dataset-image_size", "16");
        await Page.ClickAsync("[data-testid=create]");

        // Blazor navigates client-side: the URL changes, no load event follows. A rejected spec shows its errors instead.
        await Page.WaitForFunctionAsync("() => !location.pathname.endsWith('/experiments/new') || document.querySelector('[data-testid=form-errors]')",
            null, new() { Timeout = 15_000 });
        var formErrors = Page.Locator("[data-testid=form-errors]");
        if (await formErrors.CountAsync() > 0) Assert.Fail($"the form was rejected: {await formErrors.InnerTextAsync()}");
        await Page.WaitForURLAsync(url => !url.EndsWith("/experiments/new", StringComparison.Ordinal), new() { WaitUntil = WaitUntilState.Commit });
        Assert.Matches("^/experiments/[0-9a-z]+$", new Uri(Page.Url).AbsolutePath);
        string id = new Uri(Page.Url).AbsolutePath["/experiments/".Length..];
        var experiment = await Fixture.Stores.Experiments.GetExperimentAsync(id, Cancellation);
        Assert.NotNull(experiment);
        Assert.Equal(("small-cnn", "random", 3, 2), (experiment.Spec.Model, experiment.Spec.Strategy, experiment.Spec.MaxTrials, experiment.Spec.Epochs));
        Assert.Equal(240, experiment.Spec.Dataset.Options["samples"].AsInt());
        Assert.Equal(16, experiment.Spec.Dataset.Options["image_size"].AsInt());
        Assert.Equal(["learning_rate"], experiment.Spec.SearchSpace.Parameters.Select(p => p.Name));

        await WaitForInteractiveAsync();
        await Page.EvaluateAsync("() => { window.__marker = 1; }");
        var chart = Page.Locator("[data-testid=objective-chart]");
        int initialPoints = int.Parse((await chart.GetAttributeAsync("data-points"))!);
        TestContext.Current.TestOutputHelper?.WriteLine($"objective chart points when the page became interactive: {initialPoints}");

        // The chart grows while trials train, pushed over the circuit: no reload, no navigation.
        await WaitForPageAsync("n => Number(document.querySelector('[data-testid=objective-chart]').dataset.points) > n",
            initialPoints, TrainingTimeout, "the objective chart to grow");
        await WaitForPageAsync(
            "() => [...document.querySelectorAll('[data-testid=trials] tbody [data-testid=state]')].filter(c => c.textContent.trim() === 'Completed').length === 3",
            null, TrainingTimeout, "three completed trials in the table");

        // Each trial's first epoch (3), the 3 trial results (the last epoch of each) and the 3 best-so-far vertices.
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-points", "9");
        Assert.True(initialPoints < 9, $"the chart started with {initialPoints} points, so it cannot have grown live");
        Assert.Equal(1, await Page.EvaluateAsync<int?>("() => window.__marker"));
        Assert.Equal(3, await Page.Locator("[data-testid=trials] tbody tr").CountAsync());
        await Assertions.Expect(Page.Locator("h1 + .mud-chip-container [data-testid=state]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(Page.GetByText("3 / 3 trials × 2 epochs")).ToBeVisibleAsync();
        await Assertions.Expect(Page.Locator("[data-testid=best-objective]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d\.\d{4}$"));
        Assert.Empty(PageErrors);

        await ScreenshotAsync("experiment");
        Fixture.OfferCompletedExperiment(id);
    }

    [Fact]
    public async Task PluginsPage_BuiltInPlugins_ListedAsActive()
    {
        await OpenAsync("/plugins");

        var rows = Page.Locator("[data-testid=plugins] tbody tr");
        var statuses = new Dictionary<string, string>();
        for (int i = 0; i < await rows.CountAsync(); i++)
        {
            var row = rows.Nth(i);
            statuses[(await row.Locator("[data-testid=plugin-name]").InnerTextAsync()).Trim()] =
                (await row.Locator("[data-testid=plugin-status]").InnerTextAsync()).Trim();
        }
        Assert.Equal("Active", statuses.GetValueOrDefault("small-cnn"));
        Assert.Equal("Active", statuses.GetValueOrDefault("random"));
        Assert.Empty(PageErrors);

        await ScreenshotAsync("plugins");
    }

    [Fact]
    public async Task TrialPage_CompletedTrial_ShowsLossCurveAndConfusionMatrix()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(Cancellation);
        var trial = (await Fixture.Stores.Trials.ListTrialsAsync(experiment.Id, Cancellation)).First(t => t.State == TrialState.Completed);

        await OpenAsync($"/trials/{trial.Id}");

        await Assertions.Expect(Page.Locator("h1")).ToHaveTextAsync($"Trial #{trial.Number}");
        // train_loss and val_loss at every epoch.
        await Assertions.Expect(Page.Locator("[data-testid=loss-chart]")).ToHaveAttributeAsync("data-points", (2 * trial.Epochs).ToString());
        await Assertions.Expect(Page.Locator("[data-testid=loss-chart] .scatterlayer .point")).ToHaveCountAsync(2 * trial.Epochs);
        var confusion = Page.Locator("[data-testid=confusion]");
        await Assertions.Expect(confusion).ToBeVisibleAsync();
        // A header row plus one row per class (the shapes set has 4 classes by default).
        await Assertions.Expect(confusion.Locator("tr")).ToHaveCountAsync(5);
        Assert.Empty(PageErrors);

        await ScreenshotAsync("trial");
    }

    [Fact]
    public async Task HomePage_CompletedExperiment_IsListed()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(Cancellation);

        await OpenAsync("/");

        var link = Page.Locator($"a[href='/experiments/{experiment.Id}']");
        var row = Page.Locator("[data-testid=experiments] tbody tr").Filter(new() { Has = link });
        await Assertions.Expect(row.Locator(link)).ToHaveTextAsync(experiment.Spec.Name);
        await Assertions.Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("Completed");
        await Assertions.Expect(row).ToContainTextAsync($"{experiment.Spec.MaxTrials} / {experiment.Spec.MaxTrials}");
        Assert.Empty(PageErrors);

        await ScreenshotAsync("experiments");
    }

    /// <summary>Types into a MudBlazor field and leaves it, which is when it binds.</summary>
    private async Task FillAsync(string selector, string value)
    {
        await Page.FillAsync(selector, value);
        await Page.PressAsync(selector, "Tab");
        await Assertions.Expect(Page.Locator(selector)).ToHaveValueAsync(value);
    }

    /// <summary>The value of a MudSelect (its data-testid lands on the hidden input that holds the value).</summary>
    private Task<string> SelectValueAsync(string testId) => Page.Locator($"input[data-testid={testId}]").InputValueAsync();
}
