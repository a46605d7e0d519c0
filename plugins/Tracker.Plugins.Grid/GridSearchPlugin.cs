using Tracker.Abstractions;

namespace Tracker.Plugins.Grid;

/// <summary>
/// Grid search: tries every point of <see cref="SearchGrid"/> once, each for the study's full epoch budget, in
/// nested-loop order or, with <c>shuffle</c>, in an order fixed by the seed. Trial n gets grid point n (or the
/// permutation's image of n), so the search is restart-safe without state; a failed trial's point is not retried.
/// Done when the grid is exhausted or the trial budget is reached.
/// </summary>
public sealed class GridSearchPlugin : ISearchStrategyPlugin
{
    /// <summary>The option naming how many values a float (and at most an integer) takes. Defaults to 5.</summary>
    public const string PointsPerDimension = "points_per_dimension";

    /// <summary>The option (<c>"false"</c> or <c>"true"</c>) that visits the grid in a seeded random order. Defaults to <c>"false"</c>.</summary>
    public const string Shuffle = "shuffle";

    /// <inheritdoc />
    public string Name => "grid";

    /// <inheritdoc />
    public string Description =>
        "Grid search: every combination of per-parameter values (floats at points_per_dimension evenly spaced points, " +
        "log-spaced on log scales; integers every step or at most points_per_dimension values; all choices), " +
        "conditional parameters varied only where active; in order, or shuffled by seed.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = PointsPerDimension, Low = 1, High = 1000, Default = 5,
            Description = "Values per float parameter (both bounds included; log-spaced on log scales), and the most per integer parameter.",
        },
        new ChoiceParameter
        {
            Name = Shuffle, Values = ["false", "true"], Default = "false",
            Description = "\"true\" visits the grid in a random order fixed by the experiment's seed.",
        },
    ];

    /// <inheritdoc />
    public ISearchStrategy Create(StrategyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int points = context.Options.TryGetValue(PointsPerDimension, out var p) ? p.AsInt() : 5;
        bool shuffle = context.Options.TryGetValue(Shuffle, out var s) && string.Equals(s.AsString(), "true", StringComparison.OrdinalIgnoreCase);
        var grid = new SearchGrid(context.Space, points);
        return new GridSearchStrategy(grid, shuffle ? new SeededPermutation(grid.Count, context.Seed) : null);
    }
}

internal sealed class GridSearchStrategy(SearchGrid grid, SeededPermutation? order) : ISearchStrategy
{
    public StrategyDecision Ask(StudyView study)
    {
        int number = study.Trials.Count;
        if (number >= study.MaxTrials)
            return new StrategyDecision.Done($"all {study.MaxTrials} trials have been asked for");
        if (number >= grid.Count)
            return new StrategyDecision.Done($"all {grid.Count} grid points have been tried");
        long index = order is null ? number : order[number];
        return new StrategyDecision.Next(new TrialRequest(grid[index], study.Epochs));
    }

    public void Tell(StudyView study, TrialRecord trial)
    {
        // The order is fixed in advance; results change nothing.
    }
}
