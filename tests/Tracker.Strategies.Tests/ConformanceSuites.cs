using Tracker.Plugins.Grid;
using Tracker.Plugins.Hyperband;
using Tracker.Plugins.RandomSearch;

namespace Tracker.Strategies.Tests;

public sealed class RandomSearchConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new RandomSearchPlugin();
}

public sealed class ShuffledGridConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new GridSearchPlugin();

    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { [GridSearchPlugin.Shuffle] = "true" };
}

public sealed class OrderedGridConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new GridSearchPlugin();

    // 3 x 3 x 3 x (3 + 1) = 108 points, so 30 trials reach both optimizer branches in nested-loop order.
    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { [GridSearchPlugin.PointsPerDimension] = 3 };

    protected override bool SeedMatters => false;
}

public sealed class HyperbandConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new HyperbandPlugin();
}

public sealed class HyperbandKerasConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new HyperbandPlugin();

    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { [HyperbandPlugin.Rounding] = "keras", [HyperbandPlugin.Iterations] = 2 };
}
