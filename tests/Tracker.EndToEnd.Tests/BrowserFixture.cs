using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server;

namespace Tracker.EndToEnd.Tests;

/// <summary>One server and one headless Debian chromium for the whole collection.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    ];

    private readonly SemaphoreSlim experimentLock = new(1, 1);
    private string? completedExperimentId;
    private IPlaywright? playwright;

    /// <summary>The running server.</summary>
    public TrackerServerFactory Server { get; } = new();

    /// <summary>The browser.</summary>
    public IBrowser Browser { get; private set; } = default!;

    /// <summary>The server's stores, to look up what the pages should show.</summary>
    public TrackerStores Stores => Server.Services.GetRequiredService<TrackerStores>();

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Server.Start();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        playwright?.Dispose();
        await Server.DisposeAsync();
        experimentLock.Dispose();
    }

    /// <summary>A fresh page of 1400×900 in its own context, with the server (or <paramref name="server"/>) as base address.</summary>
    public async Task<IPage> NewPageAsync(TrackerServerFactory? server = null)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = (server ?? Server).BaseAddress.ToString(),
            ViewportSize = new() { Width = 1400, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Notes the id of an experiment that has completed, so other tests can look at it instead of training another.
    /// </summary>
    public void OfferCompletedExperiment(string id) => completedExperimentId ??= id;

    /// <summary>
    /// A completed experiment: one a test offered, else a small one created through the service and waited for.
    /// </summary>
    public async Task<Experiment> GetCompletedExperimentAsync(CancellationToken cancellationToken)
    {
        await experimentLock.WaitAsync(cancellationToken);
        try
        {
            if (completedExperimentId is null)
            {
                var experiments = Server.Services.GetRequiredService<ExperimentService>();
                var result = await experiments.CreateAsync(new ExperimentSpec
                {
                    Name = "e2e fixture",
                    Model = "small-cnn",
                    Strategy = "random",
                    Dataset = new DatasetSpec { Options = new() { ["samples"] = 240, ["image_size"] = 16 } },
                    SearchSpace = new SearchSpace([new FloatParameter { Name = "learning_rate", Low = 1e-3, High = 1e-2, Log = true }]),
                    MaxTrials = 2,
                    Epochs = 2,
                }, cancellationToken);
                Assert.True(result.Succeeded, string.Join("; ", result.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))));
                await WaitUntilAsync(async () => (await Stores.Experiments.GetExperimentAsync(result.Experiment!.Id, cancellationToken))?.State is ExperimentState.Completed, TimeSpan.FromSeconds(90), cancellationToken);
                completedExperimentId = result.Experiment!.Id;
            }
            return await Stores.Experiments.GetExperimentAsync(completedExperimentId, cancellationToken) ?? throw new InvalidOperationException("The completed experiment vanished.");
        }
        finally
        {
            experimentLock.Release();
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not done within {timeout}.");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>
    /// The experiments and trials the server holds, what its runner is training, and its recent warnings and errors:
    /// what a failing browser test prints to say why the page did not get where it should.
    /// </summary>
    public async Task<string> DescribeServerAsync()
    {
        var text = new System.Text.StringBuilder();
        var runner = Server.Services.GetRequiredService<Tracker.Core.Running.TrialRunnerService>();
        text.AppendLine($"runner: slots [{string.Join(", ", runner.Slots)}], training [{string.Join(", ", runner.RunningTrialIds)}]");
        foreach (var experiment in await Stores.Experiments.ListExperimentsAsync())
        {
            text.AppendLine($"experiment {experiment.Id} '{experiment.Spec.Name}': {experiment.State} {experiment.Message}");
            foreach (var t in await Stores.Trials.ListTrialsAsync(experiment.Id))
                text.AppendLine($"  trial #{t.Number} {t.Id}: {t.State}, epoch {t.EpochsDone}/{t.Epochs} {t.Error}");
        }
        text.AppendLine("server log (warnings and errors):");
        foreach (var line in Server.Log.TakeLast(40)) text.AppendLine("  " + line);
        return text.ToString();
    }

    /// <summary>How many points the series <paramref name="key"/> of a trial holds, read page by page.</summary>
    public async Task<int> CountMetricPointsAsync(string trialId, string key, CancellationToken cancellationToken)
    {
        int count = 0;
        MetricCursor? cursor = MetricCursor.Start;
        while (cursor is { } from)
        {
            var page = await Stores.Metrics.ReadMetricsAsync(trialId, key, from, 1000, cancellationToken);
            count += page.Points.Count;
            cursor = page.Next;
        }
        return count;
    }

    /// <summary>
    /// Saves a screenshot under the test output folder. With TRACKER_UPDATE_SCREENSHOTS=1 it also replaces the copy in
    /// the repository's docs/screenshots, which the README shows; otherwise a test run leaves the work tree as it was.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        string outputFolder = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(outputFolder);
        string path = Path.Combine(outputFolder, name + ".png");
        // From the top: a full-page shot of a scrolled page draws the fixed app bar across the middle.
        if (fullPage) await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = path, FullPage = fullPage });
        if (Environment.GetEnvironmentVariable("TRACKER_UPDATE_SCREENSHOTS") == "1")
        {
            string docsFolder = Path.Combine(TrackerPaths.ContentRoot(), "docs", "screenshots");
            Directory.CreateDirectory(docsFolder);
            File.Copy(path, Path.Combine(docsFolder, name + ".png"), overwrite: true);
        }
    }
}

/// <summary>Browser tests share one server and browser and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "browser";
}
