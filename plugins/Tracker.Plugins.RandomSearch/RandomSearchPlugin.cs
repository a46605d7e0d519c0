using Tracker.Abstractions;

namespace Tracker.Plugins.RandomSearch;

/// <summary>
/// Random search: each trial's parameters are drawn independently and uniformly (log-uniformly on log scales).
/// Trial n's parameters depend only on the seed and n, so the search is reproducible and restart-safe without state.
/// </summary>
public sealed class RandomSearchPlugin : ISearchStrategyPlugin
{
    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public string Description => "Random search: independent uniform (log-uniform on log scales) draws, reproducible by seed.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } = [];

    /// <inheritdoc />
    public ISearchStrategy Create(StrategyContext context) => new RandomSearchStrategy(context.Seed);
}

internal sealed class RandomSearchStrategy(int seed) : ISearchStrategy
{
    public StrategyDecision Ask(StudyView study)
    {
        int number = study.Trials.Count;
        if (number >= study.MaxTrials)
            return new StrategyDecision.Done($"all {study.MaxTrials} trials have been asked for");
        // One generator per trial number: the draw for trial n never depends on how many draws came before it.
        var random = new Random(Seeds.Derive(seed, number));
        return new StrategyDecision.Next(new TrialRequest(study.Space.Sample(random), study.Epochs));
    }

    public void Tell(StudyView study, TrialRecord trial)
    {
        // Random search learns nothing from results.
    }
}
