using Tracker.Abstractions;

namespace Tracker.Plugins.Bayesian;

/// <summary>
/// GP Bayesian optimisation, rebuilt from the history on every <see cref="Ask"/>: nothing is carried between calls, so a
/// fresh instance with the same seed and history answers the same. What each kind of trial contributes:
/// <list type="bullet">
/// <item>Completed: its objective. Pruned: its objective, else its last intermediate value (the value at which the pruner
/// judged it, usually worse than it would have ended: the GP learns the pruner's verdict).</item>
/// <item>Failed (or completed without a finite objective): left out of the hyperparameter fit, then added to the posterior
/// at the worst observed value, so the search avoids the point and, mildly, its neighbourhood (a crash usually marks a
/// bad region, e.g. a learning rate that diverges).</item>
/// <item>Queued or running: pending. Left out of the fit, added to the posterior with the value chosen by
/// <see cref="ParallelStrategy"/> (by default the best observed value: the constant liar), which collapses the variance
/// there so parallel suggestions spread out.</item>
/// <item>Interrupted, or pruned with no value: unjudged. Added to the posterior at the GP's own prediction, so the point
/// is not suggested again but nothing is claimed about it (a constant liar would, and for good: such trials never end).</item>
/// </list>
/// </summary>
internal sealed class BayesianStrategy(int seed, BayesianOptions options) : ISearchStrategy
{
    private const int LocalSearches = 10;
    private const int Incumbents = 5;

    /// <summary>
    /// The most observations the GP is fitted to (its cost grows as n³): beyond it, the best third and the most recent
    /// rest. Failed and pending points beyond a third of it are dropped the same way, oldest first.
    /// </summary>
    internal const int MaxModelPoints = 300;

    public StrategyDecision Ask(StudyView study)
    {
        int number = study.Trials.Count;
        if (number >= study.MaxTrials)
            return new StrategyDecision.Done($"all {study.MaxTrials} trials have been asked for");
        var random = new Random(Seeds.Derive(seed, number));
        var parameters = number < options.InitialRandom || study.Space.Parameters.Count == 0
            ? study.Space.Sample(random) // the same draw as the random strategy with this seed
            : Suggest(study, random);
        return new StrategyDecision.Next(new TrialRequest(parameters, study.Epochs));
    }

    public void Tell(StudyView study, TrialRecord trial)
    {
        // Stateless: every Ask refits on the full history.
    }

    private Dictionary<string, ParameterValue> Suggest(StudyView study, Random random)
    {
        var encoder = new SpaceEncoder(study.Space);
        var seen = study.Trials.Select(t => SpaceEncoder.Key(t.Parameters)).ToHashSet();

        var observed = new List<(Point Point, double Value)>();
        var failed = new List<Point>();
        var pending = new List<Point>();
        var unjudged = new List<Point>();
        double sign = study.Direction == ObjectiveDirection.Maximize ? -1 : 1;
        foreach (var trial in study.Trials)
        {
            var point = encoder.FromValues(trial.Parameters);
            switch (Classify(trial, out double value))
            {
                case Role.Observed: observed.Add((point, sign * value)); break;
                case Role.Failed: failed.Add(point); break;
                case Role.Pending: pending.Add(point); break;
                default: unjudged.Add(point); break;
            }
        }
        if (observed.Count < 2) return RandomUnseen(study.Space, random, seen);
        if (observed.Count > MaxModelPoints)
        {
            var top = observed.Select((o, i) => (o, i)).OrderBy(p => p.o.Value).Take(MaxModelPoints / 3).Select(p => p.i).ToHashSet();
            var recent = Enumerable.Range(0, observed.Count).Where(i => !top.Contains(i)).TakeLast(MaxModelPoints - top.Count);
            observed = [.. top.Concat(recent).Order().Select(i => observed[i])];
        }
        failed = [.. failed.TakeLast(MaxModelPoints / 3)];
        pending = [.. pending.TakeLast(MaxModelPoints / 3)];
        unjudged = [.. unjudged.TakeLast(MaxModelPoints / 3)];

        int n = observed.Count, d = encoder.FeatureCount;
        double mean = observed.Average(o => o.Value);
        double std = Math.Sqrt(observed.Sum(o => (o.Value - mean) * (o.Value - mean)) / n);
        if (!(std > 1e-12)) std = 1;
        var x = new double[n * d];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            encoder.Encode(observed[i].Point, x.AsSpan(i * d, d));
            y[i] = (observed[i].Value - mean) / std;
        }

        // Fewer restarts as the fit gets dearer (each likelihood evaluation costs O(n³)).
        var parameters = MarginalLikelihood.Fit(x, n, d, y, random, options.Priors, restarts: n <= 64 ? 5 : n <= 160 ? 3 : 2);
        var gp = GaussianProcess.Create(x, n, d, y, parameters);
        if (gp is null) return RandomUnseen(study.Space, random, seen);

        double best = y.Min(), worst = y.Max();
        var extra = failed.Select(p => (Point: p, Role: Role.Failed))
            .Concat(pending.Select(p => (Point: p, Role: Role.Pending)))
            .Concat(unjudged.Select(p => (Point: p, Role: Role.Unjudged))).ToList();
        if (extra.Count > 0)
        {
            int m = n + extra.Count;
            var xAll = new double[m * d];
            var yAll = new double[m];
            Array.Copy(x, xAll, n * d);
            Array.Copy(y, yAll, n);
            for (int k = 0; k < extra.Count; k++)
            {
                var features = xAll.AsSpan((n + k) * d, d);
                encoder.Encode(extra[k].Point, features);
                gp.Predict(features, out double predicted, out _);
                yAll[n + k] = extra[k].Role switch
                {
                    Role.Failed => worst,
                    Role.Unjudged => predicted,
                    _ => options.Parallel switch
                    {
                        ParallelStrategy.ConstantLiarMean => 0, // the standardised mean
                        ParallelStrategy.ConstantLiarWorst => worst,
                        ParallelStrategy.KrigingBeliever => predicted,
                        _ => best,
                    },
                };
            }
            gp = GaussianProcess.Create(xAll, m, d, yAll, parameters) ?? gp;
        }

        var acquisition = new Acquisition(gp, options.Acquisition, best, options.Xi, options.UcbBeta);
        var incumbents = observed.OrderBy(o => o.Value).Take(Incumbents).Select(o => o.Point).ToList();
        var candidates = new AcquisitionOptimizer(encoder, acquisition, random).Optimize(incumbents, options.Candidates, LocalSearches);
        foreach (var candidate in candidates)
        {
            var values = encoder.Decode(candidate.Point);
            if (!seen.Contains(SpaceEncoder.Key(values)) && study.Space.Check(values) is null) return values;
        }
        return RandomUnseen(study.Space, random, seen);
    }

    private enum Role { Observed, Failed, Pending, Unjudged }

    private static Role Classify(TrialRecord trial, out double value)
    {
        value = double.NaN;
        switch (trial.State)
        {
            case TrialState.Completed:
                if (trial.Objective is { } o && double.IsFinite(o)) { value = o; return Role.Observed; }
                return Role.Failed;
            case TrialState.Pruned:
                if (trial.Objective is { } p && double.IsFinite(p)) { value = p; return Role.Observed; }
                var finite = trial.Intermediate.Where(v => double.IsFinite(v.Value)).ToList();
                if (finite.Count > 0) { value = finite[^1].Value; return Role.Observed; }
                return Role.Unjudged;
            case TrialState.Failed:
                return Role.Failed;
            case TrialState.Interrupted:
                return Role.Unjudged;
            default: // Queued, Running
                return Role.Pending;
        }
    }

    /// <summary>A random point not yet tried, if one turns up in 100 draws (small discrete spaces can be exhausted).</summary>
    private static Dictionary<string, ParameterValue> RandomUnseen(SearchSpace space, Random random, HashSet<string> seen)
    {
        var values = space.Sample(random);
        for (int i = 0; i < 100 && seen.Contains(SpaceEncoder.Key(values)); i++) values = space.Sample(random);
        return values;
    }
}
