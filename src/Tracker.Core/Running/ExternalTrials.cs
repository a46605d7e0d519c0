using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Running;

/// <summary>The answer to an external worker's ask: a trial to run, wait, or done.</summary>
/// <param name="Status">"trial", "wait" or "done".</param>
/// <param name="Trial">The trial to run (status "trial").</param>
/// <param name="Reason">Why the search is over (status "done").</param>
public sealed record AskAnswer(string Status, Trial? Trial = null, string? Reason = null);

/// <summary>The outcome of an external call: a value, or a problem with an HTTP-like status (404, 409, 400).</summary>
public sealed record ExternalResult<T>(T? Value, int Status = 200, string? Problem = null)
{
    /// <summary>Whether the call succeeded.</summary>
    public bool Succeeded => Problem is null;

    internal static ExternalResult<T> Fail(int status, string problem) => new(default, status, problem);
}

/// <summary>
/// Ask/tell for experiments whose trials run outside the server (any language, like Optuna's ask-and-tell or a sweep
/// agent): a worker asks for a trial, reports steps (and is told whether to continue or prune), then completes or
/// fails it. Everything goes through the same <see cref="StudyCoordinator"/> as built-in trials, so it lands in the
/// store and on the dashboard alike.
/// </summary>
public sealed class ExternalTrials(IExperimentStore experiments, ITrialStore trials, StudyCoordinator coordinator)
{
    /// <summary>Asks for the next trial of an external experiment.</summary>
    public async Task<ExternalResult<AskAnswer>> AskAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        if (await experiments.GetExperimentAsync(experimentId, cancellationToken) is not { } experiment) return ExternalResult<AskAnswer>.Fail(404, $"No experiment '{experimentId}'.");
        if (experiment.Spec.Execution != TrialExecution.External)
            return ExternalResult<AskAnswer>.Fail(409, $"Experiment '{experimentId}' runs its trials on the server; only experiments with \"execution\": \"external\" take asks.");
        return new(await coordinator.AskAsync(experiment, cancellationToken: cancellationToken) switch
        {
            AskOutcome.Started s => new AskAnswer("trial", s.Trial),
            AskOutcome.Done d => new AskAnswer("done", Reason: d.Reason),
            _ => new AskAnswer("wait"),
        });
    }

    /// <summary>Records a step's metrics (which must include the objective) and answers "continue" or "prune".</summary>
    public async Task<ExternalResult<string>> ReportAsync(string trialId, int step, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken = default)
    {
        var (experiment, trial, problem) = await RunningAsync(trialId, cancellationToken);
        if (problem is { } p) return ExternalResult<string>.Fail(p.Status, p.Message);
        if (step < 1) return ExternalResult<string>.Fail(400, $"step must be at least 1 (got {step}).");
        string objective = experiment!.Spec.Objective.Metric;
        if (!metrics.TryGetValue(objective, out var value) || !double.IsFinite(value))
            return ExternalResult<string>.Fail(400, $"metrics must include a finite value of the objective '{objective}'.");
        var (updated, decision) = await coordinator.ReportAsync(experiment, trial!, step, metrics, cancellationToken);
        if (decision == PruneDecision.Prune)
        {
            await coordinator.FinishAsync(updated with { State = TrialState.Pruned, Objective = value }, cancellationToken);
            return new("prune");
        }
        return new("continue");
    }

    /// <summary>Completes a trial with its final metrics (the objective's value among them, or reported before).</summary>
    public async Task<ExternalResult<Trial>> CompleteAsync(string trialId, IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken = default)
    {
        var (experiment, trial, problem) = await RunningAsync(trialId, cancellationToken);
        if (problem is { } p) return ExternalResult<Trial>.Fail(p.Status, p.Message);
        string objective = experiment!.Spec.Objective.Metric;
        double? value = metrics.TryGetValue(objective, out var v) ? v : trial!.Intermediate.Count > 0 ? trial.Intermediate[^1].Value : null;
        if (value is not { } final || !double.IsFinite(final))
            return ExternalResult<Trial>.Fail(400, $"metrics must include a finite value of the objective '{objective}' (or report one first).");
        var merged = new Dictionary<string, double>(trial!.FinalMetrics);
        foreach (var (k, m) in metrics) merged[k] = m;
        return new(await coordinator.FinishAsync(trial with { State = TrialState.Completed, Objective = final, FinalMetrics = merged }, cancellationToken));
    }

    /// <summary>Marks a trial failed with the worker's reason.</summary>
    public async Task<ExternalResult<Trial>> FailAsync(string trialId, string? error, CancellationToken cancellationToken = default)
    {
        var (_, trial, problem) = await RunningAsync(trialId, cancellationToken);
        if (problem is { } p) return ExternalResult<Trial>.Fail(p.Status, p.Message);
        return new(await coordinator.FinishAsync(trial! with { State = TrialState.Failed, Error = string.IsNullOrWhiteSpace(error) ? "failed (no reason given)" : error }, cancellationToken));
    }

    private async Task<(Experiment? Experiment, Trial? Trial, (int Status, string Message)? Problem)> RunningAsync(string trialId, CancellationToken cancellationToken)
    {
        var trial = await trials.GetTrialAsync(trialId, cancellationToken);
        var experiment = trial is null ? null : await experiments.GetExperimentAsync(trial.ExperimentId, cancellationToken);
        if (trial is null || experiment is null) return (experiment, trial, (404, $"No trial '{trialId}'."));
        if (experiment.Spec.Execution != TrialExecution.External) return (experiment, trial, (409, $"Trial '{trialId}' is run by the server, not by an external worker."));
        if (trial.State != TrialState.Running) return (experiment, trial, (409, $"Trial '{trialId}' is {trial.State}, not running."));
        return (experiment, trial, null);
    }
}
