using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// What a finished search explains in the browser: the experiment page's parallel coordinates, objective against each
/// parameter and parameter importance; the trial page's Grad-CAM overlay of a gallery image.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AnalyticsPagesTests(BrowserFixture fixture) : IAsyncLifetime
{
    private readonly List<string> pageErrors = [];
    private IPage page = default!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        page = await fixture.NewPageAsync();
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Console += (_, m) => { if (m.Type == "error") pageErrors.Add(m.Text); };
    }

    public async ValueTask DisposeAsync() => await page.Context.DisposeAsync();

    [Fact]
    public async Task ExperimentPage_FinishedRandomSearchOfTwoParameters_ParallelCoordinatesAndImportanceRender()
    {
        var experiments = fixture.Server.Services.GetRequiredService<ExperimentService>();
        var result = experiments.Create(new ExperimentSpec
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
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (fixture.Store.GetExperiment(id)!.State != ExperimentState.Completed)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"the search did not complete: {fixture.Store.GetExperiment(id)!.State}");
            await Task.Delay(200, Cancellation);
        }
        int completed = fixture.Store.ListTrials(id).Count(t => t.State == TrialState.Completed && t.Objective is not null);
        Assert.Equal(6, completed);

        await OpenAsync($"/experiments/{id}");

        var parallel = page.Locator("[data-testid=parallel-coordinates]");
        await Assertions.Expect(parallel).ToHaveAttributeAsync("data-lines", "6");
        await Assertions.Expect(parallel).ToHaveAttributeAsync("data-axes", "3");
        await Assertions.Expect(parallel.Locator("polyline.pc-line")).ToHaveCountAsync(6);
        await Assertions.Expect(parallel.Locator(".pc-axis[data-scale=log]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid='objective-vs-learning_rate']")).ToHaveAttributeAsync("data-log-x", "true");
        await Assertions.Expect(page.Locator("[data-testid='objective-vs-width']")).ToHaveAttributeAsync("data-points", "7"); // six trials, the best again
        await Assertions.Expect(page.Locator("[data-testid=importance-bars]")).ToHaveAttributeAsync("data-bars", "2");
        await Assertions.Expect(page.Locator("[data-testid=importance-bars] rect")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=importance-method]")).ToContainTextAsync("random-forest permutation importance");
        Assert.Empty(pageErrors);
        await BrowserFixture.ScreenshotAsync(page, "experiment-analytics");
    }

    [Fact]
    public async Task ExperimentPage_RunningSearch_TimeLeftShownAndPauseResumeButtonsWork()
    {
        var experiments = fixture.Server.Services.GetRequiredService<ExperimentService>();
        var result = experiments.Create(new ExperimentSpec
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
            var timeLeft = page.Locator("[data-testid=trials] [data-testid=time-left]").First;
            await Assertions.Expect(timeLeft).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"· \d+ (s|min \d\d s|h \d\d min) left"), new() { Timeout = 30_000 });

            await page.ClickAsync("[data-testid=pause-experiment]");
            await Assertions.Expect(page.Locator("[data-testid=state]").First).ToHaveTextAsync("Paused");
            Assert.Equal(ExperimentState.Paused, fixture.Store.GetExperiment(id)!.State);
            await page.ClickAsync("[data-testid=resume-experiment]");
            await Assertions.Expect(page.Locator("[data-testid=state]").First).ToHaveTextAsync("Running");
            Assert.Equal(ExperimentState.Running, fixture.Store.GetExperiment(id)!.State);
            Assert.Empty(pageErrors);
        }
        finally
        {
            experiments.Cancel(id);
        }
    }

    [Fact]
    public async Task TrialPage_ClickGalleryImage_GradCamOverlayLoadsForTheChosenClass()
    {
        var experiment = await fixture.GetCompletedExperimentAsync(Cancellation);
        var trial = fixture.Store.ListTrials(experiment.Id).First(t => t.State == TrialState.Completed);
        var predictions = fixture.Store.GetPredictions(trial.Id)!;
        var first = predictions.Items[predictions.SampleIndices[0]];

        await OpenAsync($"/trials/{trial.Id}");
        await page.Locator("[data-testid=gallery-item]").First.ClickAsync();

        var dialog = page.Locator("[data-testid=gradcam-dialog]");
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(dialog.Locator("[data-testid=gradcam-true]")).ToHaveTextAsync(predictions.ClassNames[first.TrueLabel]);
        var overlay = dialog.Locator("img[data-testid=gradcam-overlay]");
        await Assertions.Expect(overlay).ToHaveAttributeAsync("src", $"/api/trials/{trial.Id}/gradcam/{first.Index}.png?class={first.PredictedLabel}");
        await WaitForImageAsync(overlay);

        // Another class: the overlay is asked for that class and loads too.
        int other = (first.PredictedLabel + 1) % predictions.ClassNames.Count;
        await dialog.Locator("div.mud-input-slot.mud-select-input").ClickAsync(); // the shown value opens the list
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextString = predictions.ClassNames[other] }).Last.ClickAsync();
        await Assertions.Expect(overlay).ToHaveAttributeAsync("src", $"/api/trials/{trial.Id}/gradcam/{first.Index}.png?class={other}");
        await WaitForImageAsync(overlay);
        Assert.Empty(pageErrors);
        await ViewportScreenshotAsync("gradcam"); // the dialog is fixed in the viewport; a full-page shot would cut its backdrop
    }

    /// <summary>Like <see cref="BrowserFixture.ScreenshotAsync"/>, but of the viewport only.</summary>
    private async Task ViewportScreenshotAsync(string name)
    {
        string outputFolder = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        string docsFolder = Path.Combine(Tracker.Core.TrackerPaths.ContentRoot(), "docs", "screenshots");
        Directory.CreateDirectory(outputFolder);
        Directory.CreateDirectory(docsFolder);
        string path = Path.Combine(outputFolder, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = false });
        File.Copy(path, Path.Combine(docsFolder, name + ".png"), overwrite: true);
    }

    private async Task WaitForImageAsync(ILocator image)
    {
        await image.EvaluateAsync("img => img.complete ? null : new Promise((ok, fail) => { img.onload = ok; img.onerror = () => fail(new Error('the image failed to load')); })");
        Assert.True(await image.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"), "the overlay did not load");
    }

    private async Task OpenAsync(string path)
    {
        var response = await page.GotoAsync(path);
        Assert.Equal(200, response?.Status);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }
}
