using Tracker.Abstractions;

namespace Tracker.Core.Experiments;

/// <summary>
/// The figures that compare experiments on one final metric (by default test macro-F1): the metric of the best trial
/// (best by the experiment's own objective, as <see cref="ExperimentSummary.Best"/> picks it, which is the trial the
/// dashboard's compare page shows), the median over completed trials, and how many completed. Shared by the compare
/// page and <c>tracker compare</c>.
/// </summary>
/// <param name="Experiment">The experiment.</param>
/// <param name="Metric">The final metric compared (e.g. <c>test_f1_macro</c>).</param>
/// <param name="Best">The best completed trial, or <c>null</c> while none has completed.</param>
/// <param name="BestValue">The metric of <paramref name="Best"/>; NaN when there is none or it lacks the metric.</param>
/// <param name="Median">The median of the metric over completed trials that have it; NaN when none has.</param>
/// <param name="Completed">How many trials completed.</param>
public sealed record ExperimentComparison(Experiment Experiment, string Metric, Trial? Best, double BestValue, double Median, int Completed)
{
    /// <summary>The metric compared when none is named: macro-F1 on the test split.</summary>
    public const string DefaultMetric = "test_f1_macro";

    /// <summary>Compares <paramref name="experiment"/> on <paramref name="metric"/> from its <paramref name="trials"/>.</summary>
    public static ExperimentComparison From(Experiment experiment, IReadOnlyList<Trial> trials, string metric = DefaultMetric)
    {
        var completed = trials.Where(t => t.State == TrialState.Completed).ToList();
        var best = ExperimentSummary.Best(experiment.Spec.Objective.Direction, completed);
        var values = completed.Select(t => MetricOf(t, metric)).Where(double.IsFinite).Order().ToList();
        int m = values.Count / 2;
        double median = values.Count == 0 ? double.NaN : values.Count % 2 == 1 ? values[m] : 0.5 * (values[m - 1] + values[m]);
        return new ExperimentComparison(experiment, metric, best, MetricOf(best, metric), median, completed.Count);
    }

    /// <summary>A trial's final value of <paramref name="metric"/>, or NaN when there is no trial or it lacks the metric.</summary>
    public static double MetricOf(Trial? trial, string metric) =>
        trial is not null && trial.FinalMetrics.TryGetValue(metric, out var v) ? v : double.NaN;
}
