using Bunit;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// Live pages over a real LiteDB store: what the engine writes while a page is loading must reach it, and so must
/// what it writes afterwards.
/// </summary>
public sealed class LiveUpdateTests : StoreBackedTest, IAsyncLifetime
{
    // Each test registers the store itself: one through a wrapper that writes during the page's first read.
    public LiveUpdateTests() : base(registerStore: false)
    {
    }

    public async ValueTask InitializeAsync() =>
        await Store.SaveExperimentAsync(new Experiment { Id = "e1", State = ExperimentState.Running, Spec = new ExperimentSpec { Name = "sweep", Model = "small-cnn", Strategy = "random" } });

    private async Task EndExperimentAsync()
    {
        var ended = (await Store.GetExperimentAsync("e1"))! with { State = ExperimentState.Completed };
        await Store.SaveExperimentAsync(ended);
        Feed.Publish(new ExperimentChanged(ended));
    }

    private static string State(IRenderedComponent<Experiments> page) => page.Find("[data-testid=experiments] [data-testid=state]").TextContent.Trim();

    [Fact]
    public async Task ExperimentsPage_ExperimentEndsWhileThePageLoads_ShowsTheEnd()
    {
        // The engine ends the experiment right after the page's first read, while the page renders, as a trainer on
        // the other core does. A page that subscribed only after its first render (seconds on a busy machine) never
        // heard of it.
        Register(Store, new StoreThatWritesDuringFirstRead(Store, EndExperimentAsync));

        var page = RenderAt<Experiments>("/");

        page.WaitForAssertion(() => Assert.Equal("Completed", State(page)));
        Assert.Equal(ExperimentState.Completed, (await Store.GetExperimentAsync("e1"))!.State);
    }

    [Fact]
    public async Task ExperimentsPage_ExperimentEndsAfterTheFirstRender_ShowsTheEndWithoutReload()
    {
        Register(Store, Store);
        var page = RenderAt<Experiments>("/");
        page.WaitForAssertion(() => Assert.Equal("Running", State(page)));

        await EndExperimentAsync();

        page.WaitForAssertion(() => Assert.Equal("Completed", State(page)));
    }

    /// <summary>
    /// The real experiment store, with one write (<paramref name="afterFirstList"/>) slipped in right after the first
    /// <see cref="ListExperimentsAsync"/> has read its answer: the write a trainer makes on another core while the page
    /// renders.
    /// </summary>
    public sealed class StoreThatWritesDuringFirstRead(IExperimentStore inner, Func<Task> afterFirstList) : IExperimentStore
    {
        private Func<Task>? write = afterFirstList;

        public async Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ListExperimentsAsync(cancellationToken);
            if (Interlocked.Exchange(ref write, null) is { } once) await once();
            return result;
        }

        public Task SaveExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default) =>
            inner.SaveExperimentAsync(experiment, cancellationToken);

        public Task<Experiment?> UpdateExperimentAsync(string id, Func<Experiment, Experiment?> change, CancellationToken cancellationToken = default) =>
            inner.UpdateExperimentAsync(id, change, cancellationToken);

        public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default) =>
            inner.GetExperimentAsync(id, cancellationToken);

        public Task<DeletedExperiment?> DeleteExperimentAsync(string id, CancellationToken cancellationToken = default) =>
            inner.DeleteExperimentAsync(id, cancellationToken);
    }
}
