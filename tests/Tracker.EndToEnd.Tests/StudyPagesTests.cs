using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// The pages people use to understand results: the prediction gallery and its confusion matrix, the sensitivity
/// study (the reference study's ×0.1 / ×1 / ×10 figure) started in a click, the compare page, the model table.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class StudyPagesTests(BrowserFixture fixture) : IAsyncLifetime
{
    private readonly List<string> pageErrors = [];
    private IPage page = default!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        page = await fixture.NewPageAsync();
        page.PageError += (_, error) => pageErrors.Add(error);
        // Blazor reports a broken circuit on the console, not as a page error.
        page.Console += (_, m) => { if (m.Type == "error") pageErrors.Add(m.Text); };
    }

    public async ValueTask DisposeAsync() => await page.Context.DisposeAsync();

    [Fact]
    public async Task TrialPage_Gallery_FiltersByMistakesAndByConfusionCell()
    {
        var experiment = await fixture.GetCompletedExperimentAsync(Cancellation);
        var trial = fixture.Store.ListTrials(experiment.Id).First(t => t.State == TrialState.Completed);
        var predictions = fixture.Store.GetPredictions(trial.Id)!;
        int mistakes = predictions.SampleIndices.Count(i => predictions.Items[i].TrueLabel != predictions.Items[i].PredictedLabel);

        await OpenAsync($"/trials/{trial.Id}");

        var items = page.Locator("[data-testid=gallery-item]");
        await Assertions.Expect(items).ToHaveCountAsync(predictions.SampleIndices.Count);
        await Assertions.Expect(page.Locator("[data-testid=class-report] tbody tr")).ToHaveCountAsync(predictions.ClassNames.Count + 2);
        // Thumbnails are real images served by the API.
        Assert.True(await items.First.Locator("img").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"));

        await page.GetByLabel("misclassified only").CheckAsync();
        await Assertions.Expect(items).ToHaveCountAsync(mistakes);
        await page.GetByLabel("misclassified only").UncheckAsync();

        // Clicking the cell (true 0, predicted 0) shows the sampled images of that cell.
        int cell = predictions.SampleIndices.Count(i => predictions.Items[i] is { TrueLabel: 0, PredictedLabel: 0 });
        await page.Locator("[data-testid=confusion] tbody tr").First.Locator("td").First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=cell-filter]")).ToBeVisibleAsync();
        await Assertions.Expect(items).ToHaveCountAsync(cell);
        Assert.Empty(pageErrors);
        await BrowserFixture.ScreenshotAsync(page, "trial-gallery");
    }

    [Fact]
    public async Task SensitivityStudy_OneClickFromExperimentPage_BarsAppearAndCompareShowsThem()
    {
        var experiment = await fixture.GetCompletedExperimentAsync(Cancellation);
        await OpenAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(page.Locator("input[data-testid=sensitivity-parameter]")).ToHaveValueAsync("learning_rate");
        await page.FillAsync("#sensitivity-seeds", "2");
        await page.PressAsync("#sensitivity-seeds", "Tab");
        await page.ClickAsync("[data-testid=start-sensitivity]");

        // Three factors, each bar filled in live as its trainings finish (2 seeds × 3 factors × 2 epochs of a tiny CNN).
        var bars = page.Locator("[data-testid=sensitivity] [data-testid=sensitivity-bars]");
        await Assertions.Expect(bars).ToHaveAttributeAsync("data-bars", "3", new() { Timeout = 120_000 });
        var study = fixture.Store.ListExperiments().Single(e => e.Spec.Sensitivity?.SourceExperimentId == experiment.Id);
        await WaitUntilAsync(() => fixture.Store.GetExperiment(study.Id)!.State == ExperimentState.Completed);
        await Assertions.Expect(bars.Locator("rect")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("[data-testid=sensitivity]")).ToContainTextAsync(study.Spec.Name);
        await BrowserFixture.ScreenshotAsync(page, "sensitivity");

        await OpenAsync($"/compare?e={experiment.Id}");
        await Assertions.Expect(page.Locator("[data-testid=best-f1-bars]")).ToHaveAttributeAsync("data-bars", "2"); // validation and test
        await Assertions.Expect(page.Locator("[data-testid=sensitivity-bars]")).ToHaveAttributeAsync("data-bars", "3");
        await Assertions.Expect(page.Locator("[data-testid=parameter-diff] tbody tr").First).ToContainTextAsync("model");
        Assert.Empty(pageErrors);
        await BrowserFixture.ScreenshotAsync(page, "compare");
    }

    [Fact]
    public async Task ModelsPage_BuiltInModels_ShowTheirParameterCounts()
    {
        await OpenAsync("/models");

        var rows = page.Locator("[data-testid=models] tbody tr");
        var counts = new Dictionary<string, string>();
        for (int i = 0; i < await rows.CountAsync(); i++)
            counts[(await rows.Nth(i).Locator("[data-testid=model-name]").InnerTextAsync()).Trim()] =
                (await rows.Nth(i).Locator("[data-testid=model-params]").InnerTextAsync()).Trim();
        Assert.Equal("3,504,872", counts["mobilenet-v2"]);
        Assert.Equal("7,139,704", counts["efficientnetv2-b0"]);
        Assert.Equal("11,689,512", counts["resnet-18"]);
        Assert.Empty(pageErrors);
        await BrowserFixture.ScreenshotAsync(page, "models");
    }

    private async Task OpenAsync(string path)
    {
        var response = await page.GotoAsync(path);
        Assert.Equal(200, response?.Status);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("not reached in 120 s");
            await Task.Delay(200, Cancellation);
        }
    }
}
