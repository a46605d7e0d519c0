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

    /// <summary>The server's store, to look up what the pages should show.</summary>
    public IRunStore Store => Server.Services.GetRequiredService<IRunStore>();

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

    /// <summary>A fresh page of 1400×900 in its own context, with the server as base address.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = Server.BaseAddress.ToString(),
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
                var result = experiments.Create(new ExperimentSpec
                {
                    Name = "e2e fixture",
                    Model = "small-cnn",
                    Strategy = "random",
                    Dataset = new DatasetSpec { Options = new() { ["samples"] = 240, ["image_size"] = 16 } },
                    SearchSpace = new SearchSpace([new FloatParameter { Name = "learning_rate", Low = 1e-3, High = 1e-2, Log = true }]),
                    MaxTrials = 2,
                    Epochs = 2,
                });
                Assert.True(result.Succeeded, string.Join("; ", result.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))));
                await WaitUntilAsync(() => Store.GetExperiment(result.Experiment!.Id)?.State is ExperimentState.Completed, TimeSpan.FromSeconds(90), cancellationToken);
                completedExperimentId = result.Experiment!.Id;
            }
            return Store.GetExperiment(completedExperimentId) ?? throw new InvalidOperationException("The completed experiment vanished.");
        }
        finally
        {
            experimentLock.Release();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not done within {timeout}.");
            await Task.Delay(200, cancellationToken);
        }
    }

    /// <summary>Where screenshots go: under the test output folder, and a copy in the repository's docs/screenshots.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        string outputFolder = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        string docsFolder = Path.Combine(TrackerPaths.ContentRoot(), "docs", "screenshots");
        Directory.CreateDirectory(outputFolder);
        Directory.CreateDirectory(docsFolder);
        string path = Path.Combine(outputFolder, name + ".png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        File.Copy(path, Path.Combine(docsFolder, name + ".png"), overwrite: true);
    }
}

/// <summary>Browser tests share one server and browser and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "browser";
}
