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

    /// <summary>
    /// The state lists show: a search's own state; for runs a client logs, which no search ends, the state their runs
    /// give (see <see cref="StateOfRuns"/>).
    /// </summary>
    public string StateText => Experiment.Spec.Execution == TrialExecution.Logged ? StateOfRuns(TrialsByState) : Experiment.State.ToString();

    /// <summary>
    /// A logged experiment's state from its runs' states: <c>Running</c> while any run runs (or waits), <c>Empty</c>
    /// without runs, else <c>Completed</c> when any run completed, else <c>Failed</c> when any failed, else how they ended.
    /// </summary>
    public static string StateOfRuns(IReadOnlyDictionary<TrialState, int> byState)
    {
        int Count(TrialState state) => byState.GetValueOrDefault(state);
        if (Count(TrialState.Running) + Count(TrialState.Queued) > 0) return nameof(TrialState.Running);
        if (byState.Values.Sum() == 0) return "Empty";
        if (Count(TrialState.Completed) > 0) return nameof(TrialState.Completed);
        if (Count(TrialState.Failed) > 0) return nameof(TrialState.Failed);
        return byState.Where(s => s.Value > 0).OrderByDescending(s => s.Value).First().Key.ToString();
    }

    /// <summary>"1 run", "2 runs": a count of runs a client logged.</summary>
    public static string RunCount(int count) => $"{count} {(count == 1 ? "run" : "runs")}";

    /// <summary>The completed trial with the best objective, or <c>null</c> (ties: lowest number, then id).</summary>
    public static Trial? Best(ObjectiveDirection direction, IEnumerable<Trial> trials) => TrialTally.Best(trials, direction);
}
