using Tracker.Abstractions;

namespace Tracker.Core.Experiments;

/// <summary>
/// What a sensitivity study re-trains: the best trial of <see cref="SourceExperimentId"/> with one hyperparameter
/// multiplied by each factor, each several times with different seeds.
/// </summary>
public sealed record SensitivitySpec
{
    /// <summary>The experiment the study comes from.</summary>
    public required string SourceExperimentId { get; init; }

    /// <summary>The trial whose hyperparameters are the baseline (factor 1).</summary>
    public required string SourceTrialId { get; init; }

    /// <summary>The hyperparameter that varies.</summary>
    public required string Parameter { get; init; }

    /// <summary>Its baseline value.</summary>
    public required double BaseValue { get; init; }

    /// <summary>The multipliers, e.g. 0.1, 1, 10.</summary>
    public required IReadOnlyList<double> Factors { get; init; }

    /// <summary>Trainings per factor, each with its own seed.</summary>
    public required int Seeds { get; init; }
}

/// <summary>One bar of a sensitivity figure: a metric's mean and spread over the seeds at one factor.</summary>
public sealed record SensitivityPoint(double Factor, double Value, int Count, double Mean, double StandardDeviation);

/// <summary>
/// The reference study's figure for any model and hyperparameter: F1 at the tuned value against ×0.1, ×10 (or other
/// factors), over several seeds. A study is an ordinary experiment whose strategy plays the fixed list of
/// (factor, seed) trials, so it runs, streams and is stored like any other.
/// </summary>
public static class SensitivityStudy
{
    /// <summary>The strategy name of sensitivity experiments (built in, not a plugin).</summary>
    public const string StrategyName = "sensitivity";

    /// <summary>The usual factors: ten times lower, the optimum, ten times higher.</summary>
    public static IReadOnlyList<double> DefaultFactors { get; } = [0.1, 1, 10];

    /// <summary>
    /// The spec of a study around <paramref name="best"/>. Returns the problem instead when the parameter is not a
    /// number of the trial, or a multiplied value leaves its declared domain.
    /// </summary>
    public static (ExperimentSpec? Spec, string? Problem) Build(Experiment source, Trial best, string parameter,
        IReadOnlyList<double> factors, int seeds, IReadOnlyList<ParameterSpec> declared)
    {
        if (source.Spec.Execution != TrialExecution.Builtin) return (null, "only experiments trained by the server can be re-trained.");
        if (!best.ResolvedParameters.TryGetValue(parameter, out var baseline) || baseline.Number is not { } baseValue)
            return (null, $"'{parameter}' is not a numeric hyperparameter of trial #{best.Number}.");
        if (factors.Count == 0 || factors.Any(f => !double.IsFinite(f) || f <= 0)) return (null, "factors must be positive numbers.");
        if (seeds is < 1 or > 20) return (null, $"seeds must be between 1 and 20 (got {seeds}).");
        var domain = declared.FirstOrDefault(p => p.Name == parameter);
        var values = factors.Distinct().Order().Select(f => Value(domain, baseValue * f)).ToList();
        if (domain is not null && values.Select(domain.Check).FirstOrDefault(p => p is not null) is { } problem)
            return (null, $"{parameter}: {problem} Choose smaller factors.");
        if (values.Distinct().Count() != values.Count) return (null, $"{parameter}: some factors give the same value after rounding.");

        var fixedValues = new Dictionary<string, ParameterValue>(best.ResolvedParameters);
        fixedValues.Remove(parameter);
        var spec = source.Spec with
        {
            Name = $"{source.Spec.Name}: {parameter} × {string.Join(" / ", factors.Distinct().Order().Select(f => f.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}",
            Strategy = StrategyName,
            StrategyOptions = [],
            Pruner = null,
            PrunerOptions = [],
            SearchSpace = new SearchSpace([new ChoiceParameter { Name = parameter, Values = values }]),
            Fixed = fixedValues,
            MaxTrials = values.Count * seeds,
            MaxConcurrentTrials = 1,
            Epochs = Math.Max(1, best.Epochs),
            Sensitivity = new SensitivitySpec
            {
                SourceExperimentId = source.Id,
                SourceTrialId = best.Id,
                Parameter = parameter,
                BaseValue = baseValue,
                Factors = factors.Distinct().Order().ToList(),
                Seeds = seeds,
            },
        };
        return (spec, null);
    }

    /// <summary>The bars: per factor, <paramref name="metric"/> over the completed trials' final metrics.</summary>
    public static IReadOnlyList<SensitivityPoint> Summarise(SensitivitySpec study, IEnumerable<Trial> trials, string metric)
    {
        var completed = trials.Where(t => t.State == TrialState.Completed && t.FinalMetrics.ContainsKey(metric)).ToList();
        return study.Factors.Select(f =>
        {
            double value = study.BaseValue * f;
            var scores = completed.Where(t => t.Parameters.TryGetValue(study.Parameter, out var v) && Math.Abs(v.AsDouble() - value) <= 1e-9 * Math.Max(1, Math.Abs(value)))
                .Select(t => t.FinalMetrics[metric]).ToList();
            double mean = scores.Count == 0 ? double.NaN : scores.Average();
            double sd = scores.Count < 2 ? 0 : Math.Sqrt(scores.Sum(s => (s - mean) * (s - mean)) / (scores.Count - 1));
            return new SensitivityPoint(f, value, scores.Count, mean, sd);
        }).ToList();
    }

    private static ParameterValue Value(ParameterSpec? domain, double value) =>
        domain is IntParameter ? Math.Round(value) : value;

    /// <summary>Plays the fixed list: trial n trains factor n mod F (so every factor fills up evenly), replica n div F.</summary>
    internal sealed class Strategy : ISearchStrategy
    {
        public StrategyDecision Ask(StudyView study)
        {
            var values = ((ChoiceParameter)study.Space.Parameters[0]).Values;
            int n = study.Trials.Count;
            if (n >= study.MaxTrials) return new StrategyDecision.Done("every factor has been trained with every seed");
            var point = new Dictionary<string, ParameterValue> { [study.Space.Parameters[0].Name] = values[n % values.Count] };
            return new StrategyDecision.Next(new TrialRequest(point, study.Epochs));
        }

        public void Tell(StudyView study, TrialRecord trial)
        {
        }
    }
}
