using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Storage;

namespace Tracker.Core.Running;

/// <summary>What <see cref="StudyCoordinator.AskAsync"/> decided.</summary>
public abstract record AskOutcome
{
    private AskOutcome() { }

    /// <summary>A trial was created and is <c>Running</c>; whoever asked must run it and report its end.</summary>
    public sealed record Started(Trial Trial) : AskOutcome;

    /// <summary>Nothing to run until a running trial ends (or the concurrency limit is reached).</summary>
    public sealed record Wait : AskOutcome;

    /// <summary>The experiment has ended, or will once its running trials end.</summary>
    public sealed record Done(string Reason) : AskOutcome;
}

/// <summary>
/// The single authority between experiments and their search strategies, used by the built-in runner and by
/// external workers over HTTP alike: asks the strategy (and pruner) what to do, checks every suggestion against the
/// search space, records trials and their ends, tells the strategy, and ends experiments. Strategies and pruners are
/// created per experiment on first use and rebuilt from the stored history after a restart. Thread-safe: every
/// decision runs under one asynchronous gate, so strategies are called by one caller at a time.
/// </summary>
public sealed class StudyCoordinator(IExperimentStore experimentStore, ITrialStore trialStore, PluginCatalog plugins, MetricFeed feed,
    ILogger<StudyCoordinator> logger)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly ConcurrentDictionary<string, ISearchStrategy> strategies = new();
    private readonly ConcurrentDictionary<string, IPruner?> pruners = new();

    /// <summary>
    /// Asks for the next trial of a running experiment. A trial queued to run again (one a server stop cut off) comes
    /// first, as it is: the strategy is not asked in its place. A suggestion outside the search space is recorded as a
    /// failed trial and the strategy is asked again; the trial budget bounds this. The budget counts trials that
    /// finished for good (completed, pruned, failed) and those running or queued; an interrupted one leaves its place.
    /// </summary>
    /// <param name="experiment">The experiment (its stored state is re-read).</param>
    /// <param name="prepare">Completes a new trial before it is stored (e.g. the resolved parameters); may throw
    /// <see cref="InvalidOperationException"/> to fail it.</param>
    public async Task<AskOutcome> AskAsync(Experiment experiment, Func<Trial, Trial>? prepare = null, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = await experimentStore.GetExperimentAsync(experiment.Id, cancellationToken);
            if (current?.State == ExperimentState.Paused) return new AskOutcome.Wait(); // its workers stay, for the resume
            if (current is null || current.State != ExperimentState.Running)
                return new AskOutcome.Done(current?.Message ?? "the experiment does not exist");
            var spec = current.Spec;
            var trials = (await trialStore.ListTrialsAsync(current.Id, cancellationToken)).ToList();
            while (true)
            {
                int active = trials.Count(t => !t.IsFinished);
                if (trials.Where(t => t.State == TrialState.Queued && t.Logged is null).MinBy(t => t.Number) is { } queued)
                {
                    if (trials.Count(t => t.State == TrialState.Running) >= spec.MaxConcurrentTrials) return new AskOutcome.Wait();
                    var again = await RestartLockedAsync(queued, prepare, cancellationToken);
                    trials[trials.IndexOf(queued)] = again;
                    if (again.State == TrialState.Running) return new AskOutcome.Started(again);
                    continue; // it could not start again (its model is gone) and has failed
                }

                StrategyDecision decision;
                if (trials.Count(UsesBudget) >= spec.MaxTrials)
                    decision = new StrategyDecision.Done($"the budget of {spec.MaxTrials} trials is used");
                else if (active >= spec.MaxConcurrentTrials)
                    return new AskOutcome.Wait();
                else
                {
                    try
                    {
                        decision = StrategyFor(current).Ask(View(current, trials));
                    }
                    catch (Exception e)
                    {
                        await EndLockedAsync(current, ExperimentState.Failed, $"the strategy '{spec.Strategy}' failed: {e.GetType().Name}: {e.Message}", cancellationToken);
                        return new AskOutcome.Done("the strategy failed");
                    }
                }

                switch (decision)
                {
                    case StrategyDecision.Next next:
                        var trial = await CreateAsync(current, next.Request, trials, prepare, cancellationToken);
                        trials.Add(trial);
                        if (trial.State == TrialState.Running) return new AskOutcome.Started(trial);
                        break; // the suggestion failed its checks: ask again
                    case StrategyDecision.Wait:
                        return active > 0 ? new AskOutcome.Wait()
                            : await EndedAsync(current, $"the strategy '{spec.Strategy}' answered wait with no trial running", cancellationToken);
                    case StrategyDecision.Done done:
                        if (active == 0) await EndLockedAsync(current, ExperimentState.Completed, done.Reason, cancellationToken);
                        return new AskOutcome.Done(done.Reason);
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Records a step of a running trial (its metrics and the objective's intermediate value) and asks the pruner
    /// whether it should go on. Returns the updated trial and the verdict.
    /// </summary>
    public async Task<(Trial Trial, PruneDecision Decision)> ReportAsync(Experiment experiment, Trial trial, int step,
        IReadOnlyDictionary<string, double> metrics, CancellationToken cancellationToken = default)
    {
        var spec = experiment.Spec;
        var now = DateTimeOffset.UtcNow;
        double objective = metrics.GetValueOrDefault(spec.Objective.Metric, double.NaN);
        trial = trial with
        {
            EpochsDone = Math.Max(trial.EpochsDone, step),
            Intermediate = [.. trial.Intermediate.Where(v => v.Step != step), new IntermediateValue(step, objective)],
            FinalMetrics = Merge(trial.FinalMetrics, metrics),
        };
        await trialStore.SaveTrialAsync(trial, metrics.Select(m => new MetricPoint(trial.Id, m.Key, step, m.Value, now)).ToList(), cancellationToken);
        feed.Publish(new MetricsRecorded(trial.ExperimentId, trial.Id, step, metrics, now));
        feed.Publish(new TrialChanged(trial));

        if (!double.IsFinite(objective) || PrunerFor(experiment) is not { } pruner) return (trial, PruneDecision.Continue);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var trials = await trialStore.ListTrialsAsync(experiment.Id, cancellationToken);
            return (trial, pruner.OnReport(View(experiment, trials), trial.ToRecord(), new IntermediateValue(step, objective)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Pruner {Pruner} threw for trial {Trial}; the trial goes on", spec.Pruner, trial.Id);
            return (trial, PruneDecision.Continue);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Records the end of a trial and tells the strategy. The trial must be in a final state.</summary>
    public async Task<Trial> FinishAsync(Trial trial, CancellationToken cancellationToken = default)
    {
        if (!trial.IsFinished) throw new ArgumentException($"trial {trial.Id} is {trial.State}, not finished.", nameof(trial));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await FinishLockedAsync(trial, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Trial> FinishLockedAsync(Trial trial, CancellationToken cancellationToken)
    {
        trial = trial with { FinishedAt = trial.FinishedAt ?? DateTimeOffset.UtcNow };
        await SaveAsync(trial, cancellationToken);
        if (await experimentStore.GetExperimentAsync(trial.ExperimentId, cancellationToken) is { } experiment
            && strategies.TryGetValue(experiment.Id, out var strategy))
        {
            var trials = await trialStore.ListTrialsAsync(experiment.Id, cancellationToken);
            try
            {
                strategy.Tell(View(experiment, trials), trial.ToRecord());
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Strategy {Strategy} threw in Tell for trial {Trial}", experiment.Spec.Strategy, trial.Id);
            }
        }
        return trial;
    }

    /// <summary>
    /// Moves an experiment from state <paramref name="from"/> to <paramref name="to"/> (pause, resume), keeping its
    /// strategy; an experiment in another state is left as it is. Returns the experiment as stored, or <c>null</c>.
    /// </summary>
    public async Task<Experiment?> TransitionAsync(string experimentId, ExperimentState from, ExperimentState to, string? message,
        CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            bool moved = false;
            var experiment = await experimentStore.UpdateExperimentAsync(experimentId, e =>
            {
                moved = e.State == from;
                return moved ? e with { State = to, Message = message } : null;
            }, cancellationToken);
            if (experiment is null || !moved) return experiment;
            feed.Publish(new ExperimentChanged(experiment));
            logger.LogInformation("Experiment {Experiment} {State}", experimentId, to);
            return experiment;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Ends an experiment (completed, cancelled or failed) and forgets its strategy.</summary>
    public async Task<Experiment> EndExperimentAsync(Experiment experiment, ExperimentState state, string message, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await EndLockedAsync(experiment, state, message, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Experiment> EndLockedAsync(Experiment experiment, ExperimentState state, string message, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var ended = await experimentStore.UpdateExperimentAsync(experiment.Id,
            e => e with { State = state, Message = message, FinishedAt = now }, cancellationToken)
            ?? experiment with { State = state, Message = message, FinishedAt = now };
        feed.Publish(new ExperimentChanged(ended));
        strategies.TryRemove(experiment.Id, out _);
        pruners.TryRemove(experiment.Id, out _);
        logger.LogInformation("Experiment {Experiment} {State}: {Message}", experiment.Id, state, message);
        return ended;
    }

    private async Task<AskOutcome> EndedAsync(Experiment experiment, string message, CancellationToken cancellationToken)
    {
        await EndLockedAsync(experiment, ExperimentState.Failed, message, cancellationToken);
        return new AskOutcome.Done(message);
    }

    /// <summary>
    /// Whether a trial counts against the experiment's budget: it finished for good (completed, pruned or failed) or
    /// may still (running, or queued to run again). An interrupted trial (cancelled by a user, or an external worker's
    /// trial cut off by a restart) does not: the search asks for another in its place.
    /// </summary>
    public static bool UsesBudget(Trial trial) => trial.State is not TrialState.Interrupted;

    // A trial queued after a server stop cut it off starts its next attempt: same id, number, parameters and history,
    // so the strategy keeps seeing one trial. The parameters it first resolved stay, so a plugin updated meanwhile does
    // not change a trial halfway; prepare still runs, to fail the trial when its model is gone.
    private async Task<Trial> RestartLockedAsync(Trial queued, Func<Trial, Trial>? prepare, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        Trial prepared;
        try
        {
            prepared = prepare?.Invoke(queued) ?? queued;
        }
        catch (InvalidOperationException e)
        {
            logger.LogWarning("Trial {Number} of experiment {Experiment} cannot run again: {Problem}", queued.Number, queued.ExperimentId, e.Message);
            return await FinishLockedAsync(queued with { State = TrialState.Failed, Error = e.Message, FinishedAt = now }, cancellationToken);
        }
        var trial = queued with
        {
            State = TrialState.Running,
            Attempts = Math.Max(1, queued.Attempts) + 1,
            ResolvedParameters = queued.ResolvedParameters.Count > 0 ? queued.ResolvedParameters : prepared.ResolvedParameters,
            StartedAt = queued.StartedAt ?? now,
            Error = null,
        };
        await SaveAsync(trial, cancellationToken);
        logger.LogInformation("Trial {Number} of experiment {Experiment} starts attempt {Attempt} after {Epochs} epoch(s)",
            trial.Number, trial.ExperimentId, trial.Attempts, trial.EpochsDone);
        return trial;
    }

    private async Task<Trial> CreateAsync(Experiment experiment, TrialRequest request, IReadOnlyList<Trial> trials, Func<Trial, Trial>? prepare,
        CancellationToken cancellationToken)
    {
        var spec = experiment.Spec;
        var now = DateTimeOffset.UtcNow;
        int number = await trialStore.NextTrialNumberAsync(experiment.Id, cancellationToken);
        var trial = new Trial
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            ExperimentId = experiment.Id,
            Number = number,
            Parameters = new(request.Parameters),
            Epochs = request.Epochs,
            ResumedFrom = request.ResumeFrom,
            CreatedAt = now,
        };

        // The coordinator, not the strategy, is the authority on the space and the budget.
        string? problem = spec.SearchSpace.Check(request.Parameters) is { } why ? $"the strategy suggested a point outside the search space: {why}"
            : request.Epochs <= 0 ? $"the strategy asked for {request.Epochs} epochs"
            : request.ResumeFrom is { } from && trials.FirstOrDefault(t => t.Id == from) is not { IsFinished: true }
                ? $"the strategy asked to continue '{from}', which is not a finished trial of this experiment" : null;
        if (problem is null)
        {
            try
            {
                trial = (prepare?.Invoke(trial) ?? trial) with { State = TrialState.Running, StartedAt = now, Attempts = 1 };
            }
            catch (InvalidOperationException e)
            {
                problem = e.Message;
            }
        }
        if (problem is not null)
        {
            logger.LogWarning("Trial {Number} of experiment {Experiment} failed before it started: {Problem}", number, experiment.Id, problem);
            return await FinishLockedAsync(trial with { State = TrialState.Failed, Error = problem, FinishedAt = now }, cancellationToken);
        }
        await SaveAsync(trial, cancellationToken);
        return trial;
    }

    private ISearchStrategy StrategyFor(Experiment experiment) =>
        strategies.GetOrAdd(experiment.Id, _ =>
        {
            if (experiment.Spec.Strategy == SensitivityStudy.StrategyName) return new SensitivityStudy.Strategy();
            var plugin = plugins.FindStrategy(experiment.Spec.Strategy)
                ?? throw new InvalidOperationException($"the strategy plugin '{experiment.Spec.Strategy}' is not loaded");
            return plugin.Create(new StrategyContext(experiment.Spec.SearchSpace, experiment.Spec.Seed, WithDefaults(plugin.Options, experiment.Spec.StrategyOptions)));
        });

    private IPruner? PrunerFor(Experiment experiment) =>
        experiment.Spec.Pruner is not { Length: > 0 } name ? null : pruners.GetOrAdd(experiment.Id, _ =>
        {
            var plugin = plugins.FindPruner(name);
            if (plugin is null)
            {
                logger.LogWarning("The pruner plugin '{Pruner}' is not loaded; experiment {Experiment} runs without pruning", name, experiment.Id);
                return null;
            }
            return plugin.Create(new PrunerContext(experiment.Spec.Seed, WithDefaults(plugin.Options, experiment.Spec.PrunerOptions)));
        });

    private static Dictionary<string, ParameterValue> WithDefaults(IReadOnlyList<ParameterSpec> declared, IReadOnlyDictionary<string, ParameterValue> given)
    {
        var options = declared.Where(o => o.Default is not null).ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in given) options[k] = v;
        return options;
    }

    /// <summary>
    /// The strategy's view of an experiment. Its <see cref="StudyView.MaxTrials"/> is the budget plus the trials that do
    /// not use it (see <see cref="UsesBudget"/>), so a strategy that counts the trials asked for asks for their
    /// replacements too.
    /// </summary>
    public static StudyView View(Experiment experiment, IReadOnlyList<Trial> trials) => new()
    {
        Space = experiment.Spec.SearchSpace,
        Trials = trials.Select(t => t.ToRecord()).ToList(),
        Direction = experiment.Spec.Objective.Direction,
        MaxTrials = experiment.Spec.MaxTrials + trials.Count(t => !UsesBudget(t)),
        Epochs = experiment.Spec.Epochs,
    };

    private static Dictionary<string, double> Merge(IReadOnlyDictionary<string, double> old, IReadOnlyDictionary<string, double> latest)
    {
        var merged = new Dictionary<string, double>(old);
        foreach (var (k, v) in latest) merged[k] = v;
        return merged;
    }

    private async Task SaveAsync(Trial trial, CancellationToken cancellationToken)
    {
        await trialStore.SaveTrialAsync(trial, cancellationToken: cancellationToken);
        feed.Publish(new TrialChanged(trial));
    }
}
