using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Storage;
using Tracker.Core.Training;
using TorchSharp;

namespace Tracker.Core.Running;

/// <summary>
/// Coordinates and runs trials: for every running experiment it asks the strategy for trials while slots are free,
/// checks each suggestion against the search space, and trains it on a slot's device on a thread of its own.
/// Slots are devices × <see cref="RunnerOptions.TrialsPerDevice"/>. A failing trial ends <c>Failed</c> with its reason
/// and the others go on. A trial that a server stop cuts off (a shutdown, or a crash found at the next start) is queued
/// to run again, resuming from its last epoch checkpoint, until it has been started
/// <see cref="RunnerOptions.MaxTrialAttempts"/> times; then it ends <c>Failed</c>.
/// </summary>
public sealed class TrialRunnerService : BackgroundService
{
    private readonly IExperimentStore experimentStore;
    private readonly ITrialStore trialStore;
    private readonly IEvaluationStore evaluations;
    private readonly IArtifactStore artifacts;
    private readonly PluginCatalog plugins;
    private readonly DatasetCatalog datasets;
    private readonly MetricFeed feed;
    private readonly RunnerOptions options;
    private readonly ILogger<TrialRunnerService> logger;
    private readonly WeightsLibrary weights;
    private readonly Trainer trainer = new();
    private readonly StudyCoordinator coordinator;
    private readonly SemaphoreSlim wake = new(0);
    private readonly SemaphoreSlim schedulerGate = new(1, 1);
    private readonly ConcurrentQueue<string> freeSlots = new();
    private readonly ConcurrentDictionary<string, RunningTrial> running = new();
    private CancellationToken stopping;

    /// <summary>Creates the runner.</summary>
    public TrialRunnerService(IExperimentStore experimentStore, ITrialStore trialStore, IEvaluationStore evaluations, IArtifactStore artifacts,
        PluginCatalog plugins, DatasetCatalog datasets, MetricFeed feed, WeightsLibrary weights,
        StudyCoordinator coordinator, IOptions<RunnerOptions> options, ILogger<TrialRunnerService> logger)
    {
        (this.experimentStore, this.trialStore, this.evaluations, this.artifacts) = (experimentStore, trialStore, evaluations, artifacts);
        (this.plugins, this.datasets, this.feed, this.weights, this.coordinator, this.options, this.logger) =
            (plugins, datasets, feed, weights, coordinator, options.Value, logger);
    }

    /// <summary>The resolved slots (device names, repeated per trial per device); set once the runner starts.</summary>
    public IReadOnlyList<string> Slots { get; private set; } = [];

    /// <summary>The ids of the trials training right now.</summary>
    public IReadOnlyCollection<string> RunningTrialIds => running.Keys.ToList();

    /// <summary>Asks the runner to look for work now instead of at its next poll.</summary>
    public void Wake() => wake.Release();

    /// <summary>Cancels a running trial; it ends <c>Interrupted</c> with <paramref name="reason"/>. False if it is not running.</summary>
    public bool Cancel(string trialId, string reason)
    {
        if (!running.TryGetValue(trialId, out var trial)) return false;
        trial.Reason = reason;
        trial.Cancellation.Cancel();
        return true;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        stopping = stoppingToken;
        await RecoverInterruptedAsync(stoppingToken);
        var devices = TorchDevices.Resolve(options.Devices);
        Slots = devices.SelectMany(d => Enumerable.Repeat(d, Math.Max(1, options.TrialsPerDevice))).ToList();
        foreach (var slot in Slots) freeSlots.Enqueue(slot);
        int cpuSlots = Math.Max(1, Slots.Count(TorchDevices.IsCpu));
        // One core stays free for the web server, batch prefetching and the OS: libtorch slows down many-fold when its
        // threads compete for cores (measured here: 2 threads on 2 busy cores ran 10x slower than 1 thread).
        int threads = options.TorchThreads > 0 ? options.TorchThreads : Math.Max(1, (Environment.ProcessorCount - 1) / cpuSlots);
        torch.set_num_threads(threads);
        logger.LogInformation("Trial runner started: slots [{Slots}], {Threads} torch threads", string.Join(", ", Slots), threads);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ScheduleAsync();
            }
            catch (Exception e)
            {
                logger.LogError(e, "Scheduling failed; retrying at the next poll");
            }
            try
            {
                await wake.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(50, options.PollMilliseconds)), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // The trials still running are not ended: each is queued for its next attempt (see Execute), as after a crash.
        foreach (var trial in running.Values)
        {
            if (trial.Reason is null) // a trial a user cancelled just before ends as they asked
            {
                trial.Reason = ShutdownReason;
                trial.ShuttingDown = true;
            }
            trial.Cancellation.Cancel();
        }
        await Task.WhenAll(running.Values.Select(r => r.Task));
    }

    private const string ShutdownReason = "the server shut down while the trial was running";

    private const string CrashReason = "the server stopped while the trial was running";

    private async Task RecoverInterruptedAsync(CancellationToken cancellationToken)
    {
        // Runs logged by clients (MLflow and the like) live in their client's process, not ours: a restart leaves them open.
        var open = await trialStore.ListTrialsInStateAsync([TrialState.Queued, TrialState.Running], cancellationToken);
        var experiments = new Dictionary<string, Experiment?>();
        foreach (var trial in open.Where(t => t.Logged is null))
        {
            if (!experiments.TryGetValue(trial.ExperimentId, out var experiment))
                experiments[trial.ExperimentId] = experiment = await experimentStore.GetExperimentAsync(trial.ExperimentId, cancellationToken);
            // Built-in trials of a search that goes on run again. An external worker's trial is its worker's to run, and
            // the trials of an ended experiment have nothing to go back to: those end here.
            if (experiment is { Spec.Execution: TrialExecution.Builtin, State: ExperimentState.Running or ExperimentState.Paused })
            {
                if (trial.State == TrialState.Running) await RequeueOrFailAsync(trial, CrashReason, cancellationToken);
                continue; // a queued trial waits for its next attempt
            }
            var ended = trial with { State = TrialState.Interrupted, Error = CrashReason, FinishedAt = DateTimeOffset.UtcNow };
            await trialStore.SaveTrialAsync(ended, cancellationToken: cancellationToken);
            logger.LogWarning("Trial {Trial} of experiment {Experiment} was interrupted by a restart", trial.Id, trial.ExperimentId);
        }
    }

    /// <summary>
    /// A trial that a server stop cut off: queued to run again (it keeps its id, number, parameters and progress, and
    /// the strategy is not told anything), or, once it has been started <see cref="RunnerOptions.MaxTrialAttempts"/>
    /// times, ended <c>Failed</c> with how many attempts were made.
    /// </summary>
    private async Task RequeueOrFailAsync(Trial trial, string reason, CancellationToken cancellationToken)
    {
        int attempts = Math.Max(1, trial.Attempts), allowed = Math.Max(1, options.MaxTrialAttempts);
        if (attempts >= allowed)
        {
            await coordinator.FinishAsync(trial with
            {
                State = TrialState.Failed,
                Attempts = attempts,
                Error = $"{reason}, on its last allowed attempt: it was started {attempts} time{(attempts == 1 ? "" : "s")} "
                    + $"(Runner:MaxTrialAttempts is {allowed}) and is not run again.",
                FinishedAt = DateTimeOffset.UtcNow,
            }, cancellationToken);
            logger.LogWarning("Trial {Trial} of experiment {Experiment} failed: the server stopped during each of its {Attempts} attempts",
                trial.Id, trial.ExperimentId, attempts);
            return;
        }
        var queued = trial with
        {
            State = TrialState.Queued,
            Attempts = attempts,
            Warnings = [.. trial.Warnings, $"attempt {attempts} was cut off after epoch {trial.EpochsDone}: {reason}."],
        };
        await trialStore.SaveTrialAsync(queued, cancellationToken: cancellationToken);
        feed.Publish(new TrialChanged(queued));
        logger.LogWarning("Trial {Trial} of experiment {Experiment} was cut off after epoch {Epoch} ({Reason}); it is queued for attempt {Next} of {Allowed}",
            trial.Id, trial.ExperimentId, trial.EpochsDone, reason, attempts + 1, allowed);
    }

    private async Task ScheduleAsync()
    {
        await schedulerGate.WaitAsync(stopping);
        try
        {
            var experiments = (await experimentStore.ListExperimentsAsync(stopping))
                .Where(e => e.State == ExperimentState.Running && e.Spec.Execution == TrialExecution.Builtin)
                .OrderBy(e => e.CreatedAt);
            foreach (var experiment in experiments)
            {
                // One experiment whose scheduling throws must not starve the experiments created after it.
                try
                {
                    while (!stopping.IsCancellationRequested && !freeSlots.IsEmpty
                           && await coordinator.AskAsync(experiment, trial => Prepare(experiment, trial), stopping) is AskOutcome.Started started)
                        Launch(experiment, started.Trial);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    logger.LogError(e, "Scheduling experiment {Experiment} failed; retrying at the next poll", experiment.Id);
                }
            }
        }
        finally
        {
            schedulerGate.Release();
        }
    }

    /// <summary>Resolves a new trial's parameters against its model; a model that is gone fails the trial.</summary>
    private Trial Prepare(Experiment experiment, Trial trial)
    {
        var model = plugins.FindModel(experiment.Spec.Model) ?? throw new InvalidOperationException($"the model plugin '{experiment.Spec.Model}' is not loaded");
        return trial with { ResolvedParameters = ExperimentService.Resolve(experiment.Spec, model, trial.Parameters) };
    }

    private void Launch(Experiment experiment, Trial trial)
    {
        freeSlots.TryDequeue(out var slot);
        var entry = new RunningTrial(new CancellationTokenSource());
        running[trial.Id] = entry;
        var model = plugins.FindModel(experiment.Spec.Model)!;
        entry.Task = Task.Factory.StartNew(() => Execute(experiment, trial, model, slot!, entry),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    // Runs on a thread of its own (LongRunning), so waiting there for the store's tasks blocks no thread-pool thread:
    // the trainer and its epoch callback are synchronous.
    private void Execute(Experiment experiment, Trial trial, IModelPlugin model, string device, RunningTrial entry)
    {
        var spec = experiment.Spec;
        bool endedElsewhere = false, cutOff = false;
        string workFolder = CheckpointTransfer.NewWorkFolder(trial.Id);
        var uploaded = new Dictionary<string, DateTime>();
        try
        {
            // A cancel that came between the coordinator creating this trial and Launch registering it could not reach
            // a token: it ended the trial in the store instead. Respect that rather than train and overwrite it.
            if (Wait(trialStore.GetTrialAsync(trial.Id)) is { IsFinished: true })
            {
                endedElsewhere = true;
                return;
            }
            var data = datasets.Load(spec.Dataset.Name, spec.Dataset.Options, spec.Seed);
            if (data.Warnings.Count > 0)
            {
                trial = trial with { Warnings = [.. trial.Warnings, .. data.Warnings.Where(w => !trial.Warnings.Contains(w))] };
                Wait(trialStore.SaveTrialAsync(trial));
            }
            var job = new TrainingJob(model, trial.ResolvedParameters, data, trial.Epochs, spec.TrainingSeed(trial.Number), device)
            {
                CheckpointFolder = workFolder,
                ObjectiveMetric = spec.Objective.Metric,
                Maximize = spec.Objective.Direction == ObjectiveDirection.Maximize,
                InitialWeights = spec.InitialWeights is null ? null : weights.Resolve(spec.InitialWeights),
            };
            // A trial run again after a server stop continues its own last checkpoint, its epoch count and its best
            // epoch so far. Checkpoints are uploaded before each epoch is recorded, so the stored one is at least as far.
            string? own = trial.EpochsDone > 0
                ? Wait(CheckpointTransfer.DownloadAsync(artifacts, trial.Id, Path.Combine(workFolder, "resume"), [Checkpoints.Last]))
                : null;
            if (own is not null)
                job = job with { ResumeFrom = own, StartEpoch = trial.EpochsDone + 1, BestObjective = Best(trial.Intermediate, job.Maximize) };
            else
            {
                if (trial.EpochsDone > 0 || trial.Intermediate.Count > 0)
                {
                    // Progress without a checkpoint to continue from: the attempt starts over.
                    trial = trial with
                    {
                        EpochsDone = 0, Intermediate = [], FinalMetrics = [],
                        Warnings = [.. trial.Warnings, $"attempt {trial.Attempts} found no checkpoint of epoch {trial.EpochsDone} and started over."],
                    };
                    Wait(trialStore.SaveTrialAsync(trial));
                }
                if (trial.ResumedFrom is { } from)
                {
                    // A promotion continues the earlier trial's weights and epoch count (Hyperband's rungs).
                    var source = Wait(trialStore.GetTrialAsync(from)) ?? throw new TrainingFailedException($"the trial to continue from, '{from}', does not exist.");
                    string checkpoint = Wait(CheckpointTransfer.DownloadAsync(artifacts, source.Id, Path.Combine(workFolder, "resume"), [Checkpoints.Last]))
                        ?? throw new TrainingFailedException($"the trial to continue from, #{source.Number}, has no checkpoint.");
                    job = job with { ResumeFrom = checkpoint, StartEpoch = source.EpochsDone + 1 };
                }
            }

            bool pruned = false;
            var final = trainer.Train(job, result =>
            {
                Wait(CheckpointTransfer.UploadAsync(artifacts, trial.Id, workFolder, uploaded));
                Wait(evaluations.SaveReportAsync(new EvaluationReport(trial.Id, "validation", result.Epoch, data.ClassNames, result.Validation)));
                (trial, var decision) = Wait(coordinator.ReportAsync(experiment, trial, result.Epoch, result.Metrics));
                pruned = decision == PruneDecision.Prune;
                return !pruned;
            }, entry.Cancellation.Token);

            if (pruned || final is null)
            {
                trial = trial with { State = TrialState.Pruned, Objective = trial.Intermediate.LastOrDefault().Value };
                return;
            }
            RecordFinalEvaluation(trial, data.ClassNames, final);
            var finalMetrics = new Dictionary<string, double>(trial.FinalMetrics)
            {
                ["test_loss"] = final.Loss,
                ["test_accuracy"] = final.Scores.Accuracy,
                ["test_f1_macro"] = final.Scores.MacroF1,
                ["test_f1_weighted"] = final.Scores.WeightedF1,
            };
            trial = trial with { State = TrialState.Completed, Objective = trial.Intermediate.LastOrDefault().Value, FinalMetrics = finalMetrics };
        }
        catch (OperationCanceledException) when (entry.ShuttingDown)
        {
            cutOff = true;
        }
        catch (OperationCanceledException)
        {
            trial = trial with { State = TrialState.Interrupted, Error = entry.Reason ?? "cancelled" };
        }
        catch (TrainingFailedException e)
        {
            trial = trial with { State = TrialState.Failed, Error = e.Message };
        }
        catch (Exception e)
        {
            logger.LogError(e, "Trial {Trial} failed", trial.Id);
            trial = trial with { State = TrialState.Failed, Error = $"{e.GetType().Name}: {e.Message}" };
        }
        finally
        {
            try
            {
                if (cutOff) Wait(RequeueOrFailAsync(trial, ShutdownReason, CancellationToken.None));
                else if (!endedElsewhere) Wait(coordinator.FinishAsync(trial with { FinishedAt = DateTimeOffset.UtcNow }));
            }
            catch (Exception e)
            {
                logger.LogError(e, "Could not record the end of trial {Trial}", trial.Id);
            }
            CheckpointTransfer.DeleteWorkFolder(workFolder);
            running.TryRemove(trial.Id, out _);
            freeSlots.Enqueue(device);
            Wake();
        }
    }

    // The best objective among the epochs already trained, or null when none is finite.
    private static double? Best(IEnumerable<IntermediateValue> values, bool maximize)
    {
        var finite = values.Select(v => v.Value).Where(double.IsFinite).ToList();
        return finite.Count == 0 ? null : maximize ? finite.Max() : finite.Min();
    }

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    private void RecordFinalEvaluation(Trial trial, IReadOnlyList<string> classNames, FinalEvaluation final)
    {
        Wait(evaluations.SaveReportAsync(new EvaluationReport(trial.Id, final.Split, trial.EpochsDone, classNames, final.Scores)));
        var items = final.Predicted.Select((p, i) => new Prediction(i, final.Truth[i], p, final.Confidence[i])).ToList();
        Wait(evaluations.SavePredictionsAsync(new PredictionSet(trial.Id, final.Split, classNames, items, final.Samples.Select(s => s.Index).ToList()),
            final.Samples.ToDictionary(s => s.Index, s => s.Png)));
        string Label(int index) => index >= 0 && index < classNames.Count ? classNames[index] : index.ToString(CultureInfo.InvariantCulture);
        feed.Publish(new ImagesLogged(trial.ExperimentId, trial.Id, final.Samples.Select(s => new LoggedImage(
            $"/api/trials/{trial.Id}/predictions/images/{s.Index}.png", null, Label(final.Truth[s.Index]), Label(final.Predicted[s.Index]))).ToList()));
    }

    private sealed class RunningTrial(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task Task { get; set; } = Task.CompletedTask;
        public volatile string? Reason;

        /// <summary>Set when the server shuts down: the trial is queued for its next attempt rather than ended.</summary>
        public volatile bool ShuttingDown;
    }
}
