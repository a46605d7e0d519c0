using Tracker.Abstractions;

namespace Tracker.Core.Experiments;

/// <summary>An experiment with the figures lists show: trial counts by state and the best trial so far.</summary>
public sealed record ExperimentSummary(
    Experiment Experiment,
    int TrialCount,
    IReadOnlyDictionary<TrialState, int> TrialsByState,
    string? BestTrialId,
    double? BestObjective)
{
    /// <summary>Summarises an experiment from its trials; deleted runs (a logging client's) do not count.</summary>
    public static ExperimentSummary From(Experiment experiment, IReadOnlyList<Trial> trials)
    {
        trials = trials.Where(t => t.LifecycleStage != Tracking.LifecycleStage.Deleted).ToList();
        var best = Best(experiment.Spec.Objective.Direction, trials);
        return new ExperimentSummary(experiment, trials.Count,
            trials.GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Count()), best?.Id, best?.Objective);
    }

    /// <summary>
    /// The trial count as lists show it: "n / budget" for a search, "n runs" for runs a client logs, which have no budget.
    /// </summary>
    public string TrialProgress => Experiment.Spec.Execution == TrialExecution.Logged
        ? RunCount(TrialCount)
        : $"{TrialCount} / {Experiment.Spec.MaxTrials}";

    /// <summary>"1 run", "2 runs": a count of runs a client logged.</summary>
    public static string RunCount(int count) => $"{count} {(count == 1 ? "run" : "runs")}";

    /// <summary>The completed trial with the best objective, or <c>null</c>.</summary>
    public static Trial? Best(ObjectiveDirection direction, IEnumerable<Trial> trials)
    {
        var scored = trials.Where(t => t.State == TrialState.Completed && t.Objective is { } v && double.IsFinite(v));
        return direction == ObjectiveDirection.Maximize
            ? scored.MaxBy(t => t.Objective)
            : scored.MinBy(t => t.Objective);
    }
}
