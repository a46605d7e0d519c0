using Tracker.Abstractions;

namespace Tracker.Plugins.Tpe;

/// <summary>
/// TPE, rebuilt from the history on every <see cref="Ask"/> (nothing is carried between calls). Completed trials are
/// ranked by objective; pruned ones rank after them, those that got further first, then by their last value (as
/// Optuna does). Failed and interrupted trials are ignored; queued and running ones join the bad group when
/// constant_liar is on.
/// </summary>
internal sealed class TpeStrategy(int seed, TpeOptions options) : ISearchStrategy
{
    /// <summary>The most trials in the good group, whatever gamma says (Optuna's cap).</summary>
    private const int MaxGood = 25;

    public StrategyDecision Ask(StudyView study)
    {
        int number = study.Trials.Count;
        if (number >= study.MaxTrials)
            return new StrategyDecision.Done($"all {study.MaxTrials} trials have been asked for");
        var random = new Random(Seeds.Derive(seed, number));
        var (good, bad) = Split(study);
        var parameters = number < options.InitialRandom || good.Count == 0 || study.Space.Parameters.Count == 0
            ? study.Space.Sample(random) // the same draw as the random strategy with this seed
            : Suggest(study.Space, good, bad, random);
        return new StrategyDecision.Next(new TrialRequest(parameters, study.Epochs));
    }

    public void Tell(StudyView study, TrialRecord trial)
    {
        // Stateless: every Ask rebuilds the estimators from the full history.
    }

    /// <summary>Splits the finished trials into the good ceil(γ·n) (at most 25) and the rest, each oldest first.</summary>
    internal (List<IReadOnlyDictionary<string, ParameterValue>> Good, List<IReadOnlyDictionary<string, ParameterValue>> Bad) Split(StudyView study)
    {
        double sign = study.Direction == ObjectiveDirection.Maximize ? -1 : 1;
        var completed = study.Trials
            .Where(t => t.State == TrialState.Completed && t.Objective is { } o && double.IsFinite(o))
            .OrderBy(t => sign * t.Objective!.Value).ToList();
        var pruned = study.Trials.Where(t => t.State == TrialState.Pruned)
            .Select(t =>
            {
                var last = t.Intermediate.Where(v => double.IsFinite(v.Value)).Select(v => (IntermediateValue?)v).LastOrDefault();
                double? value = last?.Value ?? t.Objective;
                return (Trial: t, Step: last?.Step ?? 0, Value: value is { } v && double.IsFinite(v) ? sign * v : double.PositiveInfinity);
            })
            .OrderBy(p => -p.Step).ThenBy(p => p.Value).Select(p => p.Trial).ToList();
        int n = completed.Count + pruned.Count;
        int goodCount = Math.Min((int)Math.Ceiling(options.Gamma * n), MaxGood);
        var ranked = completed.Concat(pruned).ToList();
        var good = ranked.Take(goodCount).OrderBy(t => t.Number).Select(t => t.Parameters).ToList();
        var bad = ranked.Skip(goodCount)
            .Concat(options.ConstantLiar ? study.Trials.Where(t => t.State is TrialState.Queued or TrialState.Running) : [])
            .OrderBy(t => t.Number).Select(t => t.Parameters).ToList();
        return (good, bad);
    }

    private Dictionary<string, ParameterValue> Suggest(SearchSpace space, List<IReadOnlyDictionary<string, ParameterValue>> good,
        List<IReadOnlyDictionary<string, ParameterValue>> bad, Random random)
    {
        if (options.Multivariate)
        {
            var settings = new ParzenSettings(options.PriorWeight, options.ConsiderEndpoints, WidthFree: false);
            return Best(new ParzenEstimator(space.Parameters, good, settings), new ParzenEstimator(space.Parameters, bad, settings),
                random, new Dictionary<string, ParameterValue>());
        }

        // Univariate: one parameter at a time in space order, each from the trials in which it was active; a child is
        // drawn only if the value just chosen for its parent activates it.
        var univariate = new ParzenSettings(options.PriorWeight, options.ConsiderEndpoints, WidthFree: true);
        var values = new Dictionary<string, ParameterValue>();
        foreach (var p in space.Parameters)
        {
            if (!SearchSpace.IsActive(p, values)) continue;
            var l = new ParzenEstimator([p], good.Where(t => t.ContainsKey(p.Name)).ToList(), univariate);
            var g = new ParzenEstimator([p], bad.Where(t => t.ContainsKey(p.Name)).ToList(), univariate);
            values = Best(l, g, random, values);
        }
        return values;
    }

    /// <summary>Draws the candidates from <paramref name="l"/> and keeps the one with the largest log l − log g.</summary>
    private Dictionary<string, ParameterValue> Best(ParzenEstimator l, ParzenEstimator g, Random random, Dictionary<string, ParameterValue> context)
    {
        Dictionary<string, ParameterValue>? best = null;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < options.Candidates; i++)
        {
            var (values, units) = l.Sample(random, context);
            double score = l.LogPdf(units) - g.LogPdf(units);
            if (best is null || score > bestScore) (best, bestScore) = (values, score);
        }
        return best!;
    }
}
