using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>
/// Where a test server keeps its data: a folder of its own (drop-in plugins, artifacts, and on LiteDB the database
/// file) and, on PostgreSQL, a database of its own. Two factories on the same store see the same data, as a server
/// restarted on the same configuration does.
/// </summary>
/// <param name="DataFolder">The folder.</param>
/// <param name="PostgresConnectionString">The PostgreSQL database, or <c>null</c> for a LiteDB file in the folder.</param>
public sealed record ServerStore(string DataFolder, string? PostgresConnectionString = null);

/// <summary>
/// The store backend a test server runs on. The integration tests that concern the store are written once, in an
/// abstract class that takes a backend, and run on both by two small subclasses (<c>LiteDb…Tests</c>,
/// <c>Postgres…Tests</c>): the PostgreSQL one takes the assembly's <see cref="PostgresCluster"/>, and is skipped, saying
/// why, on a machine without PostgreSQL's server binaries.
/// </summary>
public abstract class ServerBackend
{
    /// <summary>A LiteDB file in a fresh data folder (the server's default backend).</summary>
    public static ServerBackend LiteDb { get; } = new LiteDbBackend();

    /// <summary>A fresh database on the test cluster, with artifacts in a fresh data folder.</summary>
    public static ServerBackend Postgres(PostgresCluster cluster) => new PostgresBackend(cluster);

    /// <summary>Why this backend cannot run on this machine, or <c>null</c>.</summary>
    public abstract Task<string?> UnavailableAsync();

    /// <summary>A new, empty store; skips the calling test when the backend cannot run here.</summary>
    public abstract Task<ServerStore> NewStoreAsync();

    private sealed class LiteDbBackend : ServerBackend
    {
        public override Task<string?> UnavailableAsync() => Task.FromResult<string?>(null);

        public override Task<ServerStore> NewStoreAsync() => Task.FromResult(new ServerStore(TrackerServerFactory.NewDataFolder()));
    }

    // The databases stay until the cluster is removed at the end of the run, like the LiteDB tests' data folders.
    private sealed class PostgresBackend(PostgresCluster cluster) : ServerBackend
    {
        public override Task<string?> UnavailableAsync() => cluster.UnavailableAsync();

        public override async Task<ServerStore> NewStoreAsync() =>
            new(TrackerServerFactory.NewDataFolder(), await cluster.CreateDatabaseAsync());
    }
}

/// <summary>
/// A class fixture's server on one backend, started (and seeded, see <see cref="StartedAsync"/>) before the class's
/// first test. On a backend this machine lacks, <see cref="Factory"/> skips each test that asks for it, so the test
/// classes read it in their constructors.
/// </summary>
public abstract class ServerFixture(ServerBackend backend) : IAsyncLifetime
{
    private TrackerServerFactory? factory;
    private HttpClient? client;
    private string? unavailable;

    /// <summary>The backend the server runs on, for tests that start servers of their own.</summary>
    public ServerBackend Backend { get; } = backend;

    /// <summary>The server.</summary>
    public TrackerServerFactory Factory
    {
        get
        {
            if (unavailable is not null) Assert.Skip(unavailable);
            return factory ?? throw new InvalidOperationException("The fixture has not been initialized.");
        }
    }

    /// <summary>A client of the server (reading it skips the test where the backend cannot run).</summary>
    public HttpClient Client => client ??= Factory.CreateClient();

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        unavailable = await Backend.UnavailableAsync();
        if (unavailable is not null) return;
        factory = CreateFactory(await Backend.NewStoreAsync());
        await StartedAsync(factory);
    }

    /// <summary>The server on <paramref name="store"/>; override to configure it.</summary>
    protected virtual TrackerServerFactory CreateFactory(ServerStore store) => new(store);

    /// <summary>Runs once the factory exists: starts clients, seeds the store.</summary>
    protected virtual Task StartedAsync(TrackerServerFactory server) => Task.CompletedTask;

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        client?.Dispose();
        if (factory is not null) await factory.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
