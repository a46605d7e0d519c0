using Bunit;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>The experiments list: MLflow's default experiment, which exists from a client's first call, is listed once it holds a run.</summary>
public sealed class ExperimentsPageTests : StoreBackedTest
{
    [Fact]
    public async Task DefaultExperiment_HiddenWhileEmpty_ListedWithItsFirstRun()
    {
        var registry = new RunRegistry(Store, Store, Store, Store, Feed);
        var named = await registry.CreateExperimentAsync("scripts", cancellationToken: Xunit.TestContext.Current.CancellationToken);
        Assert.NotNull(await Store.GetExperimentAsync(RunRegistry.DefaultExperimentId)); // made by the first call

        var page = RenderAt<Experiments>("/");
        page.WaitForAssertion(() => Assert.Equal(["scripts"], page.FindAll("[data-testid=experiments] tbody tr td:first-child a").Select(a => a.TextContent.Trim())));

        var run = await registry.CreateRunAsync(new RunCreate(), Xunit.TestContext.Current.CancellationToken); // no experiment: the default one
        Assert.Equal(RunRegistry.DefaultExperimentId, run.Value!.ExperimentId);

        page.WaitForAssertion(() => Assert.Equal([RunRegistry.DefaultExperimentName, "scripts"],
            page.FindAll("[data-testid=experiments] tbody tr td:first-child a").Select(a => a.TextContent.Trim()).Order(StringComparer.Ordinal)));
        Assert.NotNull(named.Value);
    }
}
