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
