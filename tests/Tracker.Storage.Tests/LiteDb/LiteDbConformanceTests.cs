using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Conformance;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Storage.Tests.LiteDb;

// The conformance suite on the LiteDB backend: one class per concern, each with a fresh file per test.

public sealed class LiteDbExperimentStoreTests : ExperimentStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbTrialStoreTests : TrialStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbTrialQueryTests : TrialQueryConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbTrialConditionTests : TrialConditionConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbMetricStoreTests : MetricStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbEvaluationStoreTests : EvaluationStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbArtifactStoreTests : ArtifactStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

public sealed class LiteDbApiKeyStoreTests : ApiKeyStoreConformance
{
    protected override IStoreHarness CreateHarness() => new LiteDbHarness();
}

/// <summary>
/// LiteDB's file and log on a 4 MiB disk, which the log fills. The store tries to reopen the file only once the disk has
/// room, so that the test sees one refusal, not a race with recovery.
/// </summary>
public sealed class LiteDbHonestWriteTests : HonestWriteConformance
{
    private string? database;
    private LiteDbStore? store;

    protected override int DiskMebibytes => 4;

    protected override long LeaveBytes => 2L * 1024 * 1024;

    protected override Task<TrackerStores> OpenOnAsync(SmallDisk disk)
    {
        database = Path.Combine(disk.Path, "tracker.db");
        return ReopenAsync();
    }

    protected override void AllowRecovery() => store!.RecoveryInterval = TimeSpan.FromMilliseconds(100);

    protected override Task<TrackerStores> ReopenAsync()
    {
        store?.Dispose();
        store = new LiteDbStore(database!, Path.Combine(Path.GetDirectoryName(database)!, "files")) { RecoveryInterval = TimeSpan.FromHours(1) };
        return Task.FromResult(Stores.Of(store));
    }

    protected override ValueTask CloseAsync()
    {
        store?.Dispose();
        return ValueTask.CompletedTask;
    }
}
