namespace Tracker.Storage.Tests.Infrastructure;

/// <summary>
/// How the conformance suite opens one backend: a fresh, empty store for one test, the same data again after closing
/// it (durability), and the folder its artifact files go to. One harness serves one test and is disposed after it.
/// </summary>
public interface IStoreHarness : IAsyncDisposable
{
    /// <summary>The folder under which the store keeps trials' files.</summary>
    string ArtifactRoot { get; }

    /// <summary>Opens the test's store: empty on the first call.</summary>
    Task<TrackerStores> OpenAsync();

    /// <summary>Closes every store this harness opened and opens the same data again, as a restarted process would.</summary>
    Task<TrackerStores> ReopenAsync();
}

/// <summary>Builds <see cref="TrackerStores"/> over a backend object that implements every store interface.</summary>
public static class Stores
{
    /// <summary>The six interfaces of <paramref name="backend"/>.</summary>
    public static TrackerStores Of<T>(T backend)
        where T : IExperimentStore, ITrialStore, IMetricStore, IEvaluationStore, IArtifactStore, IApiKeyStore =>
        new(backend, backend, backend, backend, backend, backend);
}
