using System.Reflection;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// Live pages over a real LiteDB store: what the engine writes while a page is loading must reach it, and so must
/// what it writes afterwards.
/// </summary>
public sealed class LiveUpdateTests : StoreBackedTest
{
    // Each test registers the store itself: one through a wrapper that writes during the page's first read.
    public LiveUpdateTests() : base(registerStore: false) =>
        Store.SaveExperiment(new Experiment { Id = "e1", State = ExperimentState.Running, Spec = new ExperimentSpec { Name = "sweep", Model = "small-cnn", Strategy = "random" } });

    private void EndExperiment()
    {
        var ended = Store.GetExperiment("e1")! with { State = ExperimentState.Completed };
        Store.SaveExperiment(ended);
        Feed.Publish(new ExperimentChanged(ended));
    }

    private static string State(IRenderedComponent<Experiments> page) => page.Find("[data-testid=experiments] [data-testid=state]").TextContent.Trim();

    [Fact]
    public void ExperimentsPage_ExperimentEndsWhileThePageLoads_ShowsTheEnd()
    {
        // The engine ends the experiment right after the page's first read, while the page renders, as a trainer on
        // the other core does. A page that subscribed only after its first render (seconds on a busy machine) never
        // heard of it.
        Services.AddSingleton<IRunStore>(StoreThatWritesDuringFirstRead.Wrap(Store, nameof(IRunStore.ListExperiments), EndExperiment));

        var page = RenderAt<Experiments>("/");

        page.WaitForAssertion(() => Assert.Equal("Completed", State(page)));
        Assert.Equal(ExperimentState.Completed, Store.GetExperiment("e1")!.State);
    }

    [Fact]
    public void ExperimentsPage_ExperimentEndsAfterTheFirstRender_ShowsTheEndWithoutReload()
    {
        Services.AddSingleton<IRunStore>(Store);
        var page = RenderAt<Experiments>("/");
        Assert.Equal("Running", State(page));

        EndExperiment();

        page.WaitForAssertion(() => Assert.Equal("Completed", State(page)));
    }

    /// <summary>
    /// The real store, with one write (<paramref name="afterFirstCall"/>) slipped in right after the first call of one
    /// method has read its answer: the write a trainer makes on another core while the page renders.
    /// </summary>
    public class StoreThatWritesDuringFirstRead : DispatchProxy
    {
        private IRunStore inner = default!;
        private string method = "";
        private Action? afterFirstCall;

        public static IRunStore Wrap(IRunStore inner, string method, Action afterFirstCall)
        {
            var proxy = Create<IRunStore, StoreThatWritesDuringFirstRead>();
            var self = (StoreThatWritesDuringFirstRead)(object)proxy;
            (self.inner, self.method, self.afterFirstCall) = (inner, method, afterFirstCall);
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            object? result;
            try
            {
                result = targetMethod!.Invoke(inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
            if (targetMethod.Name == method && Interlocked.Exchange(ref afterFirstCall, null) is { } write) write();
            return result;
        }
    }
}
