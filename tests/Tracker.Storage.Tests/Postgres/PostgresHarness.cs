using Tracker.Storage.Postgres;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Storage.Tests.Postgres;

/// <summary>A PostgreSQL store on a database of its own in the test cluster, with artifacts in a temporary folder.</summary>
public sealed class PostgresHarness(PostgresCluster cluster) : IStoreHarness
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-pgfiles-").FullName;
    private readonly List<PostgresStore> opened = [];
    private string? connectionString;

    /// <inheritdoc />
    public string ArtifactRoot => Path.Combine(folder, "files");

    /// <summary>The test's database.</summary>
    public string ConnectionString => connectionString ?? throw new InvalidOperationException("Not open.");

    /// <inheritdoc />
    public async Task<TrackerStores> OpenAsync()
    {
        connectionString ??= await cluster.CreateDatabaseAsync();
        return Stores.Of(await OpenAnotherAsync());
    }

    /// <summary>Another store object on the same database, as another process would open it.</summary>
    public async Task<PostgresStore> OpenAnotherAsync()
    {
        var store = await PostgresStore.OpenAsync(ConnectionString, ArtifactRoot, CancellationToken.None);
        lock (opened) opened.Add(store);
        return store;
    }

    /// <inheritdoc />
    public async Task<TrackerStores> ReopenAsync()
    {
        await CloseAsync();
        return await OpenAsync();
    }

    private async Task CloseAsync()
    {
        List<PostgresStore> stores;
        lock (opened)
        {
            stores = [.. opened];
            opened.Clear();
        }
        foreach (var store in stores) await store.DisposeAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        if (connectionString is not null) await cluster.DropDatabaseAsync(connectionString);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
