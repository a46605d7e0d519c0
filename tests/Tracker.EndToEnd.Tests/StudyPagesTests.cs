using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// The pages people use to understand results: the prediction gallery and its confusion matrix, the sensitivity
/// study (the reference study's ×0.1 / ×1 / ×10 figure) started in a click, the compare page, the model table.
/// </summary>
public sealed class StudyPagesTests(BrowserFixture fixture) : BrowserTest(fixture)
{

    [Fact]
    public async Task TrialPage_Gallery_FiltersByMistakesAndByConfusionCell()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(Cancellation);
        var trial = (await Fixture.Stores.Trials.ListTrialsAsync(experiment.Id, Cancellation)).First(t => t.State == TrialState.Completed);
        var predictions = (await Fixture.Stores.Evaluations.GetPredictionsAsync(trial.Id, Cancellation))!;
        int mistakes = predictions.SampleIndices.Count(i => predictions.Items[i].TrueLabel != predictions.Items[i].PredictedLabel);

        await OpenAsync($"/trials/{trial.Id}");

        var items = Page.Locator("[data-testid=gallery-item]");
        await Assertions.Expect(items).ToHaveCountAsync(predictions.SampleIndices.Count);
        await Assertions.Expect(Page.Locator("[data-testid=class-report] tbody tr")).ToHaveCountAsync(predictions.ClassNames.Count + 2);
        // Thumbnails are real images served by the API.
        Assert.True(await items.First.Locator("img").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"));

        await Page.GetByLabel("misclassified only").CheckAsync();
        await Assertions.Expect(items).ToHaveCountAsync(mistakes);
        await Page.GetByLabel("misclassified only").UncheckAsync();

        // Clicking the cell (true 0, predicted 0) shows the sampled images of that cell.
        int cell = predictions.SampleIndices.Count(i => predictions.Items[i] is { TrueLabel: 0, PredictedLabel: 0 });
        await Page.Locator("[data-testid=confusion] tbody tr").First.Locator("td").First.ClickAsync();
        await Assertions.Expect(Page.Locator("[data-testid=cell-filter]")).ToBeVisibleAsync();
        await Assertions.Expect(items).ToHaveCountAsync(cell);
        await Assertions.Expect(Page.Locator("[data-testid=chosen-cell]")).ToHaveCountAsync(1); // the clicked cell stands out
        await ScreenshotAsync("trial-gallery");

        // A diagonal cell holds no mistakes: asking for them says so instead of showing nothing.
        await Page.GetByLabel("misclassified only").CheckAsync();
        await Assertions.Expect(items).ToHaveCountAsync(0);
        await Assertions.Expect(Page.Locator("[data-testid=gallery-empty]")).ToContainTextAsync("misclassified only");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task SensitivityStudy_OneClickFromExperimentPage_BarsAppearAndCompareShowsThem()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(Cancellation);
        await OpenAsync($"/experiments/{experiment.Id}");

        await Assertions.Expect(Page.Locator("input[data-testid=sensitivity-parameter]")).ToHaveValueAsync("learning_rate");
        await Page.FillAsync("#sensitivity-seeds", "2");
        await Page.PressAsync("#sensitivity-seeds", "Tab");
        await Page.ClickAsync("[data-testid=start-sensitivity]");

        // Three factors, each bar filled in live as its trainings finish (2 seeds × 3 factors × 2 epochs of a tiny CNN).
        var bars = Page.Locator("[data-testid=sensitivity] [data-testid=sensitivity-bars]");
        await Assertions.Expect(bars).ToHaveAttributeAsync("data-bars", "3", new() { Timeout = 120_000 });
        var study = (await Fixture.Stores.Experiments.ListExperimentsAsync(Cancellation)).Single(e => e.Spec.Sensitivity?.SourceExperimentId == experiment.Id);
        await WaitUntilAsync(async () => (await Fixture.Stores.Experiments.GetExperimentAsync(study.Id, Cancellation))!.State == ExperimentState.Completed, TimeSpan.FromSeconds(120), "the sensitivity study to complete");
        await Assertions.Expect(bars.Locator(".barlayer .point")).ToHaveCountAsync(3);
        await Assertions.Expect(Page.Locator("[data-testid=sensitivity]")).ToContainTextAsync(study.Spec.Name);
        await ScreenshotAsync("sensitivity");

        // The study's own page: its figure, a seed per training, and no lucky seed called the best trial.
        await OpenAsync($"/experiments/{study.Id}");
        await Assertions.Expect(Page.Locator("[data-testid=study-bars]")).ToHaveAttributeAsync("data-bars", "3");
        await Assertions.Expect(Page.Locator("[data-testid=trial-seed]")).ToHaveCountAsync(6);
        await Assertions.Expect(Page.Locator("[data-testid=study-summary]")).ToContainTextAsync("3 settings × 2 seeds");
        Assert.DoesNotContain("Best trial", await Page.Locator("[data-interactive=true]").InnerTextAsync());
        await ScreenshotAsync("sensitivity-study");

        await OpenAsync($"/compare?e={experiment.Id}");
        await Assertions.Expect(Page.Locator("[data-testid=best-f1-bars]")).ToHaveAttributeAsync("data-bars", "2"); // validation and test
        await Assertions.Expect(Page.Locator("[data-testid=sensitivity-bars]")).ToHaveAttributeAsync("data-bars", "3");
        await Assertions.Expect(Page.Locator("[data-testid=parameter-diff] tbody tr").First).ToContainTextAsync("model");
        Assert.Empty(PageErrors);
        await ScreenshotAsync("compare");
    }

    [Fact]
    public async Task ModelsPage_BuiltInModels_ShowTheirParameterCounts()
    {
        await OpenAsync("/models");

        // The counts are measured in the background once the page is interactive.
        await WaitForPageAsync("() => { const cells = [...document.querySelectorAll('[data-testid=model-params]')]; return cells.length > 0 && !cells.some(c => c.textContent.includes('measuring')); }",
            null, TimeSpan.FromSeconds(60), "the parameter counts");
        var rows = Page.Locator("[data-testid=models] tbody tr");
        var counts = new Dictionary<string, string>();
        for (int i = 0; i < await rows.CountAsync(); i++)
            counts[(await rows.Nth(i).Locator("[data-testid=model-name]").InnerTextAsync()).Trim()] =
                (await rows.Nth(i).Locator("[data-testid=model-params]").InnerTextAsync()).Trim();
        Assert.Equal("3,504,872", counts["mobilenet-v2"]);
        Assert.Equal("7,139,704", counts["efficientnetv2-b0"]);
        Assert.Equal("11,689,512", counts["resnet-18"]);
        Assert.Empty(PageErrors);
        await ScreenshotAsync("models");
    }
}
