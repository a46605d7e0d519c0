using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Security;
using Tracker.Storage.LiteDb;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// A page test over a real LiteDB store in a temporary folder, with MudBlazor's services and a live feed, as the
/// server has them. The store is registered as every store interface and <see cref="TrackerStores"/> unless the test registers its own view of it.
/// The user is an admin, whom every role policy admits, unless the test says otherwise through <see cref="Authorization"/>.
/// </summary>
public abstract class StoreBackedTest : BunitContext
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-dashboard-").FullName;

    protected StoreBackedTest(bool registerStore = true)
    {
        Store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(Feed);
        if (registerStore) Register(Store, Store);
        Authorization = AddAuthorization();
        Authorization.SetAuthorized("tester");
        Authorization.SetPolicies(TrackerPolicies.Edit, TrackerPolicies.Admin);
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>Who the pages' user is and which role policies admit them.</summary>
    protected BunitAuthorizationContext Authorization { get; }

    /// <summary>The test's temporary folder, which holds the store and is deleted with the test.</summary>
    protected string Folder => folder;

    /// <summary>The store, in a file of its own.</summary>
    protected LiteDbStore Store { get; }

    /// <summary>
    /// Registers <paramref name="store"/> under every store interface and as <see cref="TrackerStores"/>, with
    /// <paramref name="experiments"/> (the store itself, or a view of it) as the experiment store.
    /// </summary>
    protected void Register(LiteDbStore store, IExperimentStore experiments)
    {
        Services.AddSingleton(experiments);
        Services.AddSingleton<ITrialStore>(store);
        Services.AddSingleton<IMetricStore>(store);
        Services.AddSingleton<IEvaluationStore>(store);
        Services.AddSingleton<IArtifactStore>(store);
        Services.AddSingleton<IApiKeyStore>(store);
        Services.AddSingleton(new TrackerStores(experiments, store, store, store, store, store));
    }

    /// <summary>The feed the pages follow; publish on it as the engine would.</summary>
    protected MetricFeed Feed { get; } = new();

    /// <summary>
    /// Navigates to <paramref name="relativeUrl"/> and renders <typeparamref name="TPage"/> there interactively, as in a
    /// circuit (where live pages subscribe to the feed), with the popover host MudBlazor's menus need.
    /// </summary>
    protected IRenderedComponent<TPage> RenderAt<TPage>(string relativeUrl) where TPage : IComponent
    {
        // Here, not in the constructor: it builds the renderer, after which a test can register no more services.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Services.GetRequiredService<NavigationManager>().NavigateTo(relativeUrl);
        Render<MudPopoverProvider>();
        return Render<TPage>();
    }

    // MudBlazor's services are async-disposable: xunit.v3 disposes the context asynchronously, which comes here.
    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        Store.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
