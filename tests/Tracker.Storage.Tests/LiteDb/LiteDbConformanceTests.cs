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
