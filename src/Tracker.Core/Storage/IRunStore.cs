using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// Where experiments, trials and metric series live. Implementations are thread-safe; every write is durable
/// when the call returns.
/// </summary>
public interface IRunStore
{
    /// <summary>Inserts or replaces an experiment.</summary>
    void SaveExperiment(Experiment experiment);

    /// <summary>Finds an experiment, or <c>null</c>.</summary>
    Experiment? GetExperiment(string id);

    /// <summary>All experiments, newest first.</summary>
    IReadOnlyList<Experiment> ListExperiments();

    /// <summary>Inserts or replaces a trial.</summary>
    void SaveTrial(Trial trial);

    /// <summary>Finds a trial, or <c>null</c>.</summary>
    Trial? GetTrial(string id);

    /// <summary>The trials of an experiment in number order.</summary>
    IReadOnlyList<Trial> ListTrials(string experimentId);

    /// <summary>All trials in the given states (e.g. to find those a crash left running).</summary>
    IReadOnlyList<Trial> ListTrialsInState(params Abstractions.TrialState[] states);

    /// <summary>Appends metric points in one transaction.</summary>
    void AppendMetrics(IReadOnlyCollection<MetricPoint> points);

    /// <summary>A trial's metric points ordered by key and step; all keys when <paramref name="key"/> is null.</summary>
    IReadOnlyList<MetricPoint> GetMetrics(string trialId, string? key = null);

    /// <summary>Stores the confusion matrix of a trial at a step (replacing one stored for that step).</summary>
    void SaveConfusionMatrix(string trialId, int step, int[][] matrix);

    /// <summary>The confusion matrix at the latest step stored, or <c>null</c>.</summary>
    (int Step, int[][] Matrix)? GetLatestConfusionMatrix(string trialId);
}
