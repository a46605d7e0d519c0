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
/// and the others go on; a server restart marks what was running <c>Interrupted</c> and the search continues.
/// </summary>
public sealed class TrialRunnerService : BackgroundService
{
    private readonly IRunStore store;
    private readonly PluginCatalog plugins;
    private readonly DatasetCatalog datasets;
    private readonly MetricFeed feed;
    private readonly RunnerOptions options;
    private readonly ILogger<TrialRunnerService> logger;
    private readonly WeightsLibrary weights;
    private readonly Trainer trainer = new();
    private readonly StudyCoordinator coordinator;
    private readonly SemaphoreSlim wake = new(0);
    private readonly Lock schedulerGate = new();
    private readonly ConcurrentQueue<string> freeSlots = new();
    private readonly ConcurrentDictionary<string, RunningTrial> running = new();
    private CancellationToken stopping;

    /// <summary>Creates the runner.</summary>
    public TrialRunnerService(IRunStore store, PluginCatalog plugins, DatasetCatalog datasets, MetricFeed feed, WeightsLibrary weights,
        StudyCoordinator coordinator, IOptions<RunnerOptions> options, ILogger<TrialRunnerService> logger)
    {
        (this.store, this.plugins, this.datasets, this.feed, this.weights, this.coordinator, this.options, this.logger) =
            (store, plugins, datasets, feed, weights, coordinator, options.Value, logger);
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
        RecoverInterrupted();
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
                Schedule();
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

        foreach (var trial in running.Values)
        {
            trial.Reason = "the server shut down while the trial was running";
            trial.Cancellation.Cancel();
        }
        await Task.WhenAll(running.Values.Select(r => r.Task));
    }

    private void RecoverInterrupted()
    {
        // Runs logged by clients (MLflow and the like) live in their client's process, not ours: a restart leaves them open.
        foreach (var trial in store.ListTrialsInState(TrialState.Queued, TrialState.Running).Where(t => t.Logged is null))
        {
            var ended = trial with { State = TrialState.Interrupted, Error = "the server stopped while the trial was running", FinishedAt = DateTimeOffset.UtcNow };
            store.SaveTrial(ended);
            logger.LogWarning("Trial {Trial} of experiment {Experiment} was interrupted by a restart", trial.Id, trial.ExperimentId);
        }
    }

    private void Schedule()
    {
        lock (schedulerGate)
        {
            var experiments = store.ListExperiments()
                .Where(e => e.State == ExperimentState.Running && e.Spec.Execution == TrialExecution.Builtin)
                .OrderBy(e => e.CreatedAt);
            foreach (var experiment in experiments)
            {
                // One experiment whose scheduling throws must not starve the experiments created after it.
                try
                {
                    while (!stopping.IsCancellationRequested && !freeSlots.IsEmpty
                           && coordinator.Ask(experiment, trial => Prepare(experiment, trial)) is AskOutcome.Started started)
                        Launch(experiment, started.Trial);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Scheduling experiment {Experiment} failed; retrying at the next poll", experiment.Id);
                }
            }
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

    private void Execute(Experiment experiment, Trial trial, IModelPlugin model, string device, RunningTrial entry)
    {
        var spec = experiment.Spec;
        bool endedElsewhere = false;
        try
        {
            // A cancel that came between the coordinator creating this trial and Launch registering it could not reach
            // a token: it ended the trial in the store instead. Respect that rather than train and overwrite it.
            if (store.GetTrial(trial.Id) is { IsFinished: true })
            {
                endedElsewhere = true;
                return;
            }
            var data = datasets.Load(spec.Dataset.Name, spec.Dataset.Options, spec.Seed);
            if (data.Warnings.Count > 0)
            {
                trial = trial with { Warnings = [.. data.Warnings] };
                store.SaveTrial(trial);
            }
            var job = new TrainingJob(model, trial.ResolvedParameters, data, trial.Epochs, Seeds.Derive(spec.Seed, trial.Number), device)
            {
                CheckpointFolder = store.ArtifactFolder(trial.Id),
                ObjectiveMetric = spec.Objective.Metric,
                Maximize = spec.Objective.Direction == ObjectiveDirection.Maximize,
                InitialWeights = spec.InitialWeights is null ? null : weights.Resolve(spec.InitialWeights),
            };
            if (trial.ResumedFrom is { } from)
            {
                // A promotion continues the earlier trial's weights and epoch count (Hyperband's rungs).
                var source = store.GetTrial(from) ?? throw new TrainingFailedException($"the trial to continue from, '{from}', does not exist.");
                job = job with { ResumeFrom = Path.Combine(store.ArtifactFolder(source.Id), Checkpoints.Last), StartEpoch = source.EpochsDone + 1 };
            }

            bool pruned = false;
            var final = trainer.Train(job, result =>
            {
                store.SaveReport(new EvaluationReport(trial.Id, "validation", result.Epoch, data.ClassNames, result.Validation));
                (trial, var decision) = coordinator.Report(experiment, trial, result.Epoch, result.Metrics);
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
                if (!endedElsewhere) coordinator.Finish(trial with { FinishedAt = DateTimeOffset.UtcNow });
            }
            catch (Exception e)
            {
                logger.LogError(e, "Could not record the end of trial {Trial}", trial.Id);
            }
            running.TryRemove(trial.Id, out _);
            freeSlots.Enqueue(device);
            Wake();
        }
    }

    private void RecordFinalEvaluation(Trial trial, IReadOnlyList<string> classNames, FinalEvaluation final)
    {
        store.SaveReport(new EvaluationReport(trial.Id, final.Split, trial.EpochsDone, classNames, final.Scores));
        var items = final.Predicted.Select((p, i) => new Prediction(i, final.Truth[i], p, final.Confidence[i])).ToList();
        store.SavePredictions(new PredictionSet(trial.Id, final.Split, classNames, items, final.Samples.Select(s => s.Index).ToList()),
            final.Samples.ToDictionary(s => s.Index, s => s.Png));
        string Label(int index) => index >= 0 && index < classNames.Count ? classNames[index] : index.ToString(CultureInfo.InvariantCulture);
        feed.Publish(new ImagesLogged(trial.ExperimentId, trial.Id, final.Samples.Select(s => new LoggedImage(
            $"/api/trials/{trial.Id}/predictions/images/{s.Index}.png", null, Label(final.Truth[s.Index]), Label(final.Predicted[s.Index]))).ToList()));
    }

    private sealed class RunningTrial(CancellationTokenSource cancellation)
    {
        public CancellationTokenSource Cancellation { get; } = cancellation;
        public Task Task { get; set; } = Task.CompletedTask;
        public volatile string? Reason;
    }
}
