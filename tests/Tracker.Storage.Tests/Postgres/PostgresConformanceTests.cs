using Tracker.Storage.Postgres;
using Tracker.Storage.Tests.Conformance;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Storage.Tests.Postgres;

// The conformance suite on the PostgreSQL backend: one class per concern, each test on a database of its own.

public sealed class PostgresExperimentStoreTests(PostgresCluster cluster) : ExperimentStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresTrialStoreTests(PostgresCluster cluster) : TrialStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresTrialQueryTests(PostgresCluster cluster) : TrialQueryConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresTrialConditionTests(PostgresCluster cluster) : TrialConditionConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresMetricStoreTests(PostgresCluster cluster) : MetricStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresEvaluationStoreTests(PostgresCluster cluster) : EvaluationStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresArtifactStoreTests(PostgresCluster cluster) : ArtifactStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

public sealed class PostgresApiKeyStoreTests(PostgresCluster cluster) : ApiKeyStoreConformance
{
    protected override IStoreHarness CreateHarness() => new PostgresHarness(cluster);
}

/// <summary>
/// A PostgreSQL database whose files live on a 40 MiB disk, through a tablespace of its own (the cluster's write-ahead
/// log stays on its own disk). The database server refuses with SQLSTATE 53100 and takes writes again by itself.
/// </summary>
public sealed class PostgresHonestWriteTests(PostgresCluster cluster) : HonestWriteConformance
{
    private readonly string files = Directory.CreateTempSubdirectory("tracker-pgfiles-").FullName;
    private string? connectionString;
    private PostgresStore? store;

    protected override int DiskMebibytes => 40;

    protected override string? DiskOwner => Environment.UserName == "root" ? "postgres" : null;

    protected override long LeaveBytes => 4L * 1024 * 1024;

    protected override async Task<TrackerStores> OpenOnAsync(SmallDisk disk)
    {
        connectionString = await cluster.CreateDatabaseInAsync(disk.Path);
        return await ReopenAsync();
    }

    // A full tablespace makes the cluster's checkpoints fail, and with them other tests' CREATE and DROP DATABASE.
    protected override async Task<IAsyncDisposable?> WhileFullAsync() => await cluster.HoldDatabaseChangesAsync();

    protected override async Task<TrackerStores> ReopenAsync()
    {
        if (store is not null) await store.DisposeAsync();
        store = await PostgresStore.OpenAsync(connectionString!, files, CancellationToken.None);
        return Stores.Of(store);
    }

    protected override async ValueTask CloseAsync()
    {
        if (store is not null) await store.DisposeAsync();
        if (connectionString is not null) await cluster.DropDatabaseAndTablespaceAsync(connectionString);
        Directory.Delete(files, recursive: true);
    }
}
