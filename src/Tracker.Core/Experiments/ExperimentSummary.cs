using Tracker.Abstractions;
using Tracker.Core.Storage;

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
    public static ExperimentSummary From(Experiment experiment, IReadOnlyList<Trial> trials) =>
        From(experiment, TrialTally.Of(trials, experiment.Spec.Objective.Direction));

    /// <summary>Summarises an experiment from the store's tally of its trials.</summary>
    public static ExperimentSummary From(Experiment experiment, TrialTally tally) =>
        new(experiment, tally.Total, tally.ByState, tally.BestTrialId, tally.BestObjective);

    /// <summary>Reads the tally of an experiment's trials from the store and summarises it; loads no trials.</summary>
    public static async Task<ExperimentSummary> ReadAsync(Experiment experiment, ITrialStore trials, CancellationToken cancellationToken = default) =>
        From(experiment, await trials.TallyTrialsAsync(experiment.Id, experiment.Spec.Objective.Direction, cancellationToken));

    /// <summary>
    /// The trial count as lists show it: "n / budget" for a search, where n counts the trials that use the budget
    /// (interrupted ones do not), and "n runs" for runs a client logs, which have no budget.
    /// </summary>
    public string TrialProgress => Experiment.Spec.Execution == TrialExecution.Logged
        ? RunCount(TrialCount)
        : $"{TrialCount - TrialsByState.GetValueOrDefault(TrialState.Interrupted)} / {Experiment.Spec.MaxTrials}";

    /// <summary>"1 run", "2 runs": a count of runs a client logged.</summary>
    public static string RunCount(int count) => $"{count} {(count == 1 ? "run" : "runs")}";

    /// <summary>The completed trial with the best objective, or <c>null</c> (ties: lowest number, then id).</summary>
    public static Trial? Best(ObjectiveDirection direction, IEnumerable<Trial> trials) => TrialTally.Best(trials, direction);
}
