using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// What a finished search explains in the browser: the experiment page's parallel coordinates, objective against each
/// parameter and parameter importance; the trial page's Grad-CAM overlay of a gallery image.
/// </summary>
public sealed class AnalyticsPagesTests(BrowserFixture fixture) : BrowserTest(fixture)
{

    [Fact]
    public async Task ExperimentPage_FinishedRandomSearchOfTwoParameters_ParallelCoordinatesAndImportanceRender()
    {
        var experiments = Fixture.Server.Services.GetRequiredService<ExperimentService>();
        var result = await experiments.CreateAsync(new ExperimentSpec
        {
            Name = "analytics fixture",
            Model = "small-cnn",
            Strategy = "random",
            Dataset = new DatasetSpec { Options = new() { ["samples"] = 120, ["image_size"] = 12, ["classes"] = 3 } },
            SearchSpace = new SearchSpace(
            [
                new FloatParameter { Name = "learning_rate", Low = 1e-3, High = 3e-2, Log = true },
                new IntParameter { Name = "width", Low = 8, High = 32, Step = 8 },
            ]),
            MaxTrials = 6,
            Epochs = 1,
            Seed = 3,
        });
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.SelectMany(e => e.Value)));
        string id = result.Experiment!.Id;
        await WaitUntilAsync(async () => (await Fixture.Stores.Experiments.GetExperimentAsync(id, Cancellation))!.State == ExperimentState.Completed, TimeSpan.FromSeconds(120), "the search to complete");
        int completed = (await Fixture.Stores.Trials.ListTrialsAsync(id, Cancellation)).Count(t => t.State == TrialState.Completed && t.Objective is not null);
        Assert.Equal(6, completed);

        await OpenAsync($"/experiments/{id}");

        var parallel = Page.Locator("[data-testid=parallel-coordinates]");
        await Assertions.Expect(parallel).ToHaveAttributeAsync("data-lines", "6");
        await Assertions.Expect(parallel).ToHaveAttributeAsync("data-axes", "3");
        await Assertions.Expect(parallel.Locator("polyline.pc-line")).ToHaveCountAsync(6);
        await Assertions.Expect(parallel.Locator(".pc-axis[data-scale=log]")).ToHaveCountAsync(1);
        await Assertions.Expect(Page.Locator("[data-testid='objective-vs-learning_rate']")).ToHaveAttributeAsync("data-log-x", "true");
        await Assertions.Expect(Page.Locator("[data-testid='objective-vs-width']")).ToHaveAttributeAsync("data-points", "7"); // six trials, the best again
        await Assertions.Expect(Page.Locator("[data-testid=importance-bars]")).ToHaveAttributeAsync("data-bars", "2");
        await Assertions.Expect(Page.Locator("[data-testid=importance-bars] .barlayer .point")).ToHaveCountAsync(2);
        await Assertions.Expect(Page.Locator("[data-testid=importance-bars] .barlayer .bartext")).ToHaveCountAsync(2); // each bar says its number
        await Assertions.Expect(Page.Locator("[data-testid=importance-method]")).ToContainTextAsync("random-forest permutation importance");
        Assert.Empty(PageErrors);
        await ScreenshotAsync("experiment-analytics");
    }

    [Fact]
    public async Task ExperimentPage_RunningSearch_TimeLeftShownAndPauseResumeButtonsWork()
    {
        var experiments = Fixture.Server.Services.GetRequiredService<ExperimentService>();
        var result = await experiments.CreateAsync(new ExperimentSpec
        {
            Name = "long search",
            Model = "small-cnn",
            Strategy = "random",
            Dataset = new DatasetSpec { Options = new() { ["samples"] = 60, ["image_size"] = 8, ["classes"] = 2 } },
            SearchSpace = new SearchSpace([new FloatParameter { Name = "learning_rate", Low = 1e-3, High = 1e-2, Log = true }]),
            MaxTrials = 3,
            Epochs = 400,
        });
        Assert.True(result.Succeeded);
        string id = result.Experiment!.Id;
        try
        {
            await OpenAsync($"/experiments/{id}");

            // After the first epoch, the running trial's row estimates its time left from its epoch times.
            var timeLeft = Page.Locator("[data-testid=trials] [data-testid=time-left]").First;
            await Assertions.Expect(timeLeft).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"· \d+ (s|min \d\d s|h \d\d min) left"), new() { Timeout = 30_000 });

            await Page.ClickAsync("[data-testid=pause-experiment]");
            await Assertions.Expect(Page.Locator("[data-testid=state]").First).ToHaveTextAsync("Paused");
            Assert.Equal(ExperimentState.Paused, (await Fixture.Stores.Experiments.GetExperimentAsync(id, Cancellation))!.State);
            await Page.ClickAsync("[data-testid=resume-experiment]");
            await Assertions.Expect(Page.Locator("[data-testid=state]").First).ToHaveTextAsync("Running");
            Assert.Equal(ExperimentState.Running, (await Fixture.Stores.Experiments.GetExperimentAsync(id, Cancellation))!.State);
            Assert.Empty(PageErrors);
        }
        finally
        {
            // Leave the shared server idle: the next test's trials would otherwise queue behind this one's.
            await experiments.CancelAsync(id);
            await WaitUntilAsync(async () => (await Fixture.Stores.Trials.ListTrialsAsync(id)).All(t => t.IsFinished), TimeSpan.FromSeconds(30), "the cancelled trials to stop");
        }
    }

    [Fact]
    public async Task TrialPage_ClickGalleryImage_GradCamOverlayLoadsForTheChosenClass()
    {
        var experiment = await Fixture.GetCompletedExperimentAsync(Cancellation);
        var trial = (await Fixture.Stores.Trials.ListTrialsAsync(experiment.Id, Cancellation)).First(t => t.State == TrialState.Completed);
        var predictions = (await Fixture.Stores.Evaluations.GetPredictionsAsync(trial.Id, Cancellation))!;
        var first = predictions.Items[predictions.SampleIndices[0]];

        await OpenAsync($"/trials/{trial.Id}");
        await Page.Locator("[data-testid=gallery-item]").First.ClickAsync();

        var dialog = Page.Locator("[data-testid=gradcam-dialog]");
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(dialog.Locator("[data-testid=gradcam-true]")).ToHaveTextAsync(predictions.ClassNames[first.TrueLabel]);
        var overlay = dialog.Locator("img[data-testid=gradcam-overlay]");
        await Assertions.Expect(overlay).ToHaveAttributeAsync("src", $"/api/trials/{trial.Id}/gradcam/{first.Index}.png?class={first.PredictedLabel}");
        await WaitForImageAsync(overlay);

        // Another class: the overlay is asked for that class and loads too.
        int other = (first.PredictedLabel + 1) % predictions.ClassNames.Count;
        await dialog.Locator("div.mud-input-slot.mud-select-input").ClickAsync(); // the shown value opens the list
        await Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextString = predictions.ClassNames[other] }).Last.ClickAsync();
        await Assertions.Expect(overlay).ToHaveAttributeAsync("src", $"/api/trials/{trial.Id}/gradcam/{first.Index}.png?class={other}");
        await WaitForImageAsync(overlay);
        Assert.Empty(PageErrors);
        await ScreenshotAsync("gradcam", fullPage: false); // the dialog is fixed in the viewport; a full-page shot would cut its backdrop
    }


    private async Task WaitForImageAsync(ILocator image)
    {
        await image.EvaluateAsync("img => img.complete ? null : new Promise((ok, fail) => { img.onload = ok; img.onerror = () => fail(new Error('the image failed to load')); })");
        Assert.True(await image.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "the overlay did not load");
    }
}
