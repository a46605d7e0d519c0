using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>A LiteDB store in a temporary folder: the file <c>data/tracker.db</c>, artifacts in <c>files/</c>.</summary>
public sealed class LiteDbHarness : IStoreHarness
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-litedb-").FullName;
    private LiteDbStore? store;

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(folder, "data", "tracker.db");

    /// <inheritdoc />
    public string ArtifactRoot => Path.Combine(folder, "files");

    /// <summary>The open store.</summary>
    public LiteDbStore Store => store ?? throw new InvalidOperationException("Not open.");

    /// <inheritdoc />
    public Task<TrackerStores> OpenAsync()
    {
        store?.Dispose();
        store = new LiteDbStore(DatabasePath, ArtifactRoot);
        return Task.FromResult(Stores.Of(store));
    }

    /// <inheritdoc />
    public Task<TrackerStores> ReopenAsync() => OpenAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        store?.Dispose();
        store = null;
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleanup; the next test uses a folder of its own.
        }
        return ValueTask.CompletedTask;
    }
}
