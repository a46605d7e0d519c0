namespace Tracker.Storage.Tests.Infrastructure;

/// <summary>
/// The base of every conformance class: each test gets a fresh, empty store from the backend's harness
/// (<see cref="CreateHarness"/>), and may close and reopen it (<see cref="ReopenAsync"/>) to check what is durable.
/// A backend inherits the suite by subclassing each concern's abstract class and naming its harness.
/// </summary>
public abstract class StoreConformance : IAsyncLifetime
{
    private IStoreHarness? harness;

    /// <summary>The store of this test.</summary>
    protected TrackerStores Store { get; private set; } = null!;

    /// <summary>The harness of this test.</summary>
    protected IStoreHarness Harness => harness ?? throw new InvalidOperationException("The store is not open yet.");

    protected IExperimentStore Experiments => Store.Experiments;

    protected ITrialStore Trials => Store.Trials;

    protected IMetricStore Metrics => Store.Metrics;

    protected IEvaluationStore Evaluations => Store.Evaluations;

    protected IArtifactStore Artifacts => Store.Artifacts;

    protected IApiKeyStore ApiKeys => Store.ApiKeys;

    /// <summary>The backend's harness for one test.</summary>
    protected abstract IStoreHarness CreateHarness();

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        harness = CreateHarness();
        Store = await harness.OpenAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (harness is not null) await harness.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the store and opens the same data again.</summary>
    protected async Task ReopenAsync() => Store = await Harness.ReopenAsync();
}
