using Tracker.Abstractions;

namespace Tracker.Core.Benchmarks;

/// <summary>
/// Runs a search strategy on a <see cref="BenchmarkProblem"/> through the same ask/tell contract the coordinator uses,
/// and summarises runs over seeds. Shared by the strategy benchmark (bench/Tracker.StrategyBench) and <c>tracker bench</c>.
/// </summary>
public static class StrategyBenchmark
{
    /// <summary>
    /// One study, sequentially: Ask, evaluate, record the trial as Completed, Tell. Returns the best value after each
    /// trial (carried forward if the strategy says Done early, as a grid does when exhausted).
    /// </summary>
    /// <param name="problem">The function to minimise.</param>
    /// <param name="plugin">The strategy.</param>
    /// <param name="overrides">Strategy options on top of the plugin's defaults.</param>
    /// <param name="seed">The strategy's seed.</param>
    /// <param name="trials">The trial budget.</param>
    public static double[] Run(BenchmarkProblem problem, ISearchStrategyPlugin plugin, IReadOnlyDictionary<string, ParameterValue> overrides, int seed, int trials)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        var options = plugin.Options.Where(o => o.Default is not null).ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in overrides) options[k] = v;
        var strategy = plugin.Create(new StrategyContext(problem.Space, seed, options));
        var history = new List<TrialRecord>();
        var best = new double[trials];
        double bestSoFar = double.PositiveInfinity;
        for (int number = 0; number < trials; number++)
        {
            var decision = strategy.Ask(View(problem, history, trials));
            if (decision is StrategyDecision.Done)
            {
                Array.Fill(best, bestSoFar, number, trials - number);
                break;
            }
            if (decision is not StrategyDecision.Next next)
                throw new InvalidOperationException($"{plugin.Name} answered {decision} at trial {number}");
            if (problem.Space.Check(next.Request.Parameters) is { } problemWithPoint)
                throw new InvalidOperationException($"{plugin.Name} suggested an invalid point: {problemWithPoint}");
            double value = problem.Evaluate(next.Request.Parameters);
            var record = new TrialRecord
            {
                Id = $"t{number}",
                Number = number,
                Parameters = next.Request.Parameters,
                State = TrialState.Completed,
                Epochs = next.Request.Epochs,
                Intermediate = [new IntermediateValue(1, value)],
                Objective = value,
            };
            history.Add(record);
            strategy.Tell(View(problem, history, trials), record);
            bestSoFar = Math.Min(bestSoFar, value);
            best[number] = bestSoFar;
        }
        return best;
    }

    private static StudyView View(BenchmarkProblem problem, List<TrialRecord> history, int trials) => new()
    {
        Space = problem.Space,
        Trials = history.ToList(),
        Direction = ObjectiveDirection.Minimize,
        MaxTrials = trials,
        Epochs = 1,
    };

    /// <summary>The value at quantile <paramref name="q"/> of <paramref name="sorted"/> (nearest rank).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) => sorted[(int)Math.Round(q * (sorted.Count - 1))];

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return double.NaN;
        int m = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
    }
}
