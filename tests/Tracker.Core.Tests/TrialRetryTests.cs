using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;
using Tracker.Core.Training;
using Tracker.Plugins.SmallCnn;
using Tracker.Storage.LiteDb;

namespace Tracker.Core.Tests;

/// <summary>
/// Trials that a server stop cuts off run again as the same trial: the coordinator starts a queued trial before it asks
/// the strategy for anything, the runner queues what a crash or a shutdown left running and resumes it from its last
/// checkpoint, attempts are counted and bounded, and the budget counts the trials that finished for good.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class TrialRetryTests : IDisposable
{
    private static readonly SearchSpace Space = new([new FloatParameter { Name = "learning_rate", Low = 3e-3, High = 3e-2, Log = true }]);

    private readonly string folder = Directory.CreateTempSubdirectory("tracker-retry").FullName;
    private readonly LiteDbStore store;
    private readonly SpyStrategyPlugin spy = new();
    private readonly PluginCatalog plugins;
    private readonly DatasetCatalog datasets = new([new ShapesDataset()]);
    private readonly MetricFeed feed = new();
    private readonly WeightsLibrary weights;

    public TrialRetryTests(TorchSettings settings)
    {
        _ = settings; // requested so that the thread count is set first
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        plugins = PluginCatalog.Of(new SmallCnnPlugin(), spy);
        weights = new WeightsLibrary(Options.Create(new ModelOptions { WeightsFolder = Path.Combine(folder, "weights") }));
    }

    public void Dispose()
    {
        store.Dispose();
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AskAsync_QueuedTrial_StartsAgainAsTheSameTrialWithoutAskingTheStrategy()
    {
        var coordinator = NewCoordinator();
        var experiment = await CreateAsync(maxTrials: 2);
        int number = await store.NextTrialNumberAsync(experiment.Id, Cancel);
        var cutOff = new Trial
        {
            Id = "cut-off", ExperimentId = experiment.Id, Number = number, Parameters = new() { ["learning_rate"] = 0.01 },
            ResolvedParameters = new() { ["learning_rate"] = 0.01, ["width"] = 8 }, Epochs = 4, EpochsDone = 2,
            Intermediate = [new(1, 0.4), new(2, 0.5)], State = TrialState.Queued, Attempts = 1, StartedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
        };
        await store.SaveTrialAsync(cutOff, cancellationToken: Cancel);

        var first = Assert.IsType<AskOutcome.Started>(await coordinator.AskAsync(experiment, t => t with { ResolvedParameters = new() { ["changed"] = 1 } }, Cancel));
        var second = await coordinator.AskAsync(experiment, cancellationToken: Cancel);

        Assert.Equal(("cut-off", 0, TrialState.Running, 2, 2), (first.Trial.Id, first.Trial.Number, first.Trial.State, first.Trial.Attempts, first.Trial.EpochsDone));
        Assert.Equal(cutOff.ResolvedParameters, first.Trial.ResolvedParameters); // the parameters it first ran with
        Assert.Equal(cutOff.StartedAt, first.Trial.StartedAt);
        Assert.IsType<AskOutcome.Wait>(second); // one trial at a time, and it is running again
        Assert.Equal(0, spy.Asks);
        Assert.Equal(2, (await store.GetTrialAsync("cut-off", Cancel))!.Attempts);

        await coordinator.FinishAsync(first.Trial with { State = TrialState.Completed, Objective = 0.6 }, Cancel);
        var next = Assert.IsType<AskOutcome.Started>(await coordinator.AskAsync(experiment, cancellationToken: Cancel));
        Assert.Equal((1, 1), (next.Trial.Number, next.Trial.Attempts));
        Assert.Equal([1], spy.TrialsSeenAtAsk); // asked once, for the second trial, having seen the first as one trial
        AssertToldOnlyOfFinishedTrials(await store.ListTrialsAsync(experiment.Id, Cancel));
    }

    [Fact]
    public async Task AskAsync_Budget_CountsCompletedPrunedAndFailedTrialsButNotInterruptedOnes()
    {
        var coordinator = NewCoordinator();
        var experiment = await CreateAsync(maxTrials: 3);
        var states = new[] { TrialState.Interrupted, TrialState.Completed, TrialState.Interrupted, TrialState.Failed, TrialState.Pruned };
        var ended = new List<Trial>();
        foreach (var state in states)
        {
            var started = Assert.IsType<AskOutcome.Started>(await coordinator.AskAsync(experiment, cancellationToken: Cancel));
            ended.Add(await coordinator.FinishAsync(started.Trial with { State = state, Objective = 0.5 }, Cancel));
        }

        var done = Assert.IsType<AskOutcome.Done>(await coordinator.AskAsync(experiment, cancellationToken: Cancel));

        Assert.Contains("budget of 3 trials", done.Reason);
        Assert.Equal(ExperimentState.Completed, (await store.GetExperimentAsync(experiment.Id, Cancel))!.State);
        Assert.Equal([0, 1, 2, 3, 4], (await store.ListTrialsAsync(experiment.Id, Cancel)).Select(t => t.Number));
        // The strategy's view grows its budget by the trials that do not use it, so it asks for their replacements.
        Assert.Equal([3, 4, 4, 5, 5], spy.MaxTrialsSeenAtAsk);
        Assert.Equal(states.Length, spy.Told.Count);
    }

    [Fact]
    public async Task Runner_TrialACrashLeftRunning_RunsAgainOnceAndTheStrategySeesOneTrial()
    {
        var experiment = await CreateAsync(maxTrials: 2, epochs: 2);
        var crashed = await LeaveRunningAsync(experiment, attempts: 1);

        await RunUntilEndedAsync(experiment.Id, new RunnerOptions { Devices = ["cpu"], TorchThreads = 1, PollMilliseconds = 50 });

        var trials = await store.ListTrialsAsync(experiment.Id, Cancel);
        Assert.Equal([(crashed.Id, 0), (trials[1].Id, 1)], trials.Select(t => (t.Id, t.Number)));
        Assert.All(trials, t => Assert.Equal(TrialState.Completed, t.State));
        Assert.Equal([2, 1], trials.Select(t => t.Attempts));
        Assert.Equal(crashed.Parameters, trials[0].Parameters);
        Assert.Equal([1, 2], trials[0].Intermediate.Select(v => v.Step));
        Assert.Contains(trials[0].Warnings, w => w.StartsWith("attempt 1 was cut off after epoch 0: the server stopped", StringComparison.Ordinal));
        Assert.Equal([1], spy.TrialsSeenAtAsk); // asked only for trial #1; #0 was never suggested twice
        AssertToldOnlyOfFinishedTrials(trials);
    }

    [Fact]
    public async Task Runner_TrialCutOffOnItsLastAttempt_FailsSayingHowManyAttemptsWereMade()
    {
        var experiment = await CreateAsync(maxTrials: 1, epochs: 2);
        var crashed = await LeaveRunningAsync(experiment, attempts: 2);

        await RunUntilEndedAsync(experiment.Id, new RunnerOptions { Devices = ["cpu"], TorchThreads = 1, PollMilliseconds = 50, MaxTrialAttempts = 2 });

        var trial = Assert.Single(await store.ListTrialsAsync(experiment.Id, Cancel));
        Assert.Equal((crashed.Id, TrialState.Failed, 2), (trial.Id, trial.State, trial.Attempts));
        Assert.Equal("the server stopped while the trial was running, on its last allowed attempt: it was started 2 times " +
            "(Runner:MaxTrialAttempts is 2) and is not run again.", trial.Error);
        // A trial that failed for good uses its place in the budget: the search is over, with nothing asked.
        Assert.Equal(ExperimentState.Completed, (await store.GetExperimentAsync(experiment.Id, Cancel))!.State);
        Assert.Equal(0, spy.Asks);
    }

    [Fact]
    public async Task Runner_StoppedMidTrial_ResumesFromItsLastCheckpointOnTheNextStart()
    {
        var experiment = await CreateAsync(maxTrials: 1, epochs: 8);
        var options = new RunnerOptions { Devices = ["cpu"], TorchThreads = 1, PollMilliseconds = 50 };

        var runner = NewRunner(NewCoordinator(), options);
        await runner.StartAsync(CancellationToken.None);
        Trial before;
        try
        {
            before = await WaitForTrialAsync(experiment.Id, t => t.EpochsDone >= 2);
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
        }
        var stopped = Assert.Single(await store.ListTrialsAsync(experiment.Id, Cancel));
        Assert.True(stopped.State == TrialState.Queued, $"the trial should wait for its next attempt, but it is {stopped.State} after {stopped.EpochsDone} epochs");
        Assert.Equal(1, stopped.Attempts);
        Assert.Contains($"attempt 1 was cut off after epoch {stopped.EpochsDone}: the server shut down while the trial was running.", stopped.Warnings);
        Assert.Empty(spy.Told); // the strategy is not told about a trial that is going to run again

        // A new process: a new coordinator (the strategy rebuilt from the history) and a new runner.
        await RunUntilEndedAsync(experiment.Id, options);

        var trial = Assert.Single(await store.ListTrialsAsync(experiment.Id, Cancel));
        Assert.Equal((stopped.Id, TrialState.Completed, 2, 8), (trial.Id, trial.State, trial.Attempts, trial.EpochsDone));
        Assert.Equal(Enumerable.Range(1, 8), trial.Intermediate.Select(v => v.Step));
        // The epochs of the first attempt were kept, not trained again: their values are the same and each step of the
        // metric series was recorded once.
        Assert.Equal(stopped.Intermediate, trial.Intermediate.Take(stopped.Intermediate.Count));
        var series = await store.ReadMetricsAsync(trial.Id, MetricNames.ValF1Macro, MetricCursor.Start, 100, Cancel);
        Assert.Equal(Enumerable.Range(1, 8), series.Points.Select(p => p.Step));
        Assert.Equal(1, spy.Asks);
        AssertToldOnlyOfFinishedTrials([trial]);
        Assert.True(before.EpochsDone >= 2);
    }

    [Fact]
    public async Task Runner_PromotionStoppedMidway_ResumesFromItsOwnCheckpointNotItsSources()
    {
        // Trial #0 trains 2 epochs; #1 continues it to 8 (as a Hyperband promotion does).
        spy.Policy = study => study.Trials.Count switch
        {
            0 => new StrategyDecision.Next(new TrialRequest(new Dictionary<string, ParameterValue> { ["learning_rate"] = 0.01 }, 2)),
            1 when study.Trials[0].State == TrialState.Completed =>
                new StrategyDecision.Next(new TrialRequest(study.Trials[0].Parameters, 8, study.Trials[0].Id)),
            1 => new StrategyDecision.Wait(),
            _ => new StrategyDecision.Done("both rungs ran"),
        };
        var experiment = await CreateAsync(maxTrials: 2, epochs: 8);
        var options = new RunnerOptions { Devices = ["cpu"], TorchThreads = 1, PollMilliseconds = 50 };

        var runner = NewRunner(NewCoordinator(), options);
        await runner.StartAsync(CancellationToken.None);
        try
        {
            await WaitForTrialAsync(experiment.Id, t => t.Number == 1 && t.EpochsDone >= 4);
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
        }
        var stopped = (await store.ListTrialsAsync(experiment.Id, Cancel))[1];
        Assert.True(stopped.State == TrialState.Queued, $"the promotion should wait for its next attempt, but it is {stopped.State} after {stopped.EpochsDone} epochs");

        await RunUntilEndedAsync(experiment.Id, options);

        var trials = await store.ListTrialsAsync(experiment.Id, Cancel);
        Assert.Equal(2, trials.Count);
        var promotion = trials[1];
        Assert.Equal((stopped.Id, trials[0].Id, TrialState.Completed, 2, 8), (promotion.Id, promotion.ResumedFrom, promotion.State, promotion.Attempts, promotion.EpochsDone));
        Assert.Equal(Enumerable.Range(3, 6), promotion.Intermediate.Select(v => v.Step)); // epochs 3..8, each once
        Assert.Equal(stopped.Intermediate, promotion.Intermediate.Take(stopped.Intermediate.Count));
        var series = await store.ReadMetricsAsync(promotion.Id, MetricNames.ValF1Macro, MetricCursor.Start, 100, Cancel);
        Assert.Equal(Enumerable.Range(3, 6), series.Points.Select(p => p.Step));
        Assert.Equal([0, 1], spy.TrialsSeenAtAsk); // nothing asked in place of the promotion when it ran again
        AssertToldOnlyOfFinishedTrials(trials);
    }

    /// <summary>
    /// The strategy heard at most once of each trial, and only of its final state. (A coordinator tells only the
    /// strategies it has built; one built after a restart reads the history instead.)
    /// </summary>
    private void AssertToldOnlyOfFinishedTrials(IReadOnlyList<Trial> trials)
    {
        var told = spy.Told;
        Assert.Equal(told.Distinct(), told);
        Assert.Subset(trials.Where(t => t.IsFinished).Select(t => $"{t.Id}:{t.State}").ToHashSet(), told.ToHashSet());
        Assert.Equal(told.Count, told.Select(t => t.Split(':')[0]).Distinct().Count());
    }

    private StudyCoordinator NewCoordinator() => new(store, store, plugins, feed, NullLogger<StudyCoordinator>.Instance);

    private TrialRunnerService NewRunner(StudyCoordinator coordinator, RunnerOptions options) =>
        new(store, store, store, store, plugins, datasets, feed, weights, coordinator, Options.Create(options), NullLogger<TrialRunnerService>.Instance);

    private async Task<Experiment> CreateAsync(int maxTrials, int epochs = 2)
    {
        var experiment = new Experiment
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Spec = new ExperimentSpec
            {
                Name = "retry",
                Model = "small-cnn",
                Strategy = SpyStrategyPlugin.StrategyName,
                Dataset = new DatasetSpec { Options = new() { ["classes"] = 3, ["image_size"] = 12, ["samples"] = 300 } },
                SearchSpace = Space,
                Fixed = new() { ["width"] = 8, [TrainerHyperparameters.BatchSize] = 32 },
                MaxTrials = maxTrials,
                Epochs = epochs,
                Seed = 11,
            },
            CreatedAt = DateTimeOffset.UtcNow,
        };
        await store.SaveExperimentAsync(experiment, Cancel);
        return experiment;
    }

    /// <summary>Stores the first trial of <paramref name="experiment"/> as a crash leaves it: running, no epoch recorded.</summary>
    private async Task<Trial> LeaveRunningAsync(Experiment experiment, int attempts)
    {
        var point = new Dictionary<string, ParameterValue> { ["learning_rate"] = 0.01 };
        var trial = new Trial
        {
            Id = "crashed", ExperimentId = experiment.Id, Number = await store.NextTrialNumberAsync(experiment.Id, Cancel), Parameters = point,
            ResolvedParameters = ExperimentService.Resolve(experiment.Spec, new SmallCnnPlugin(), point),
            Epochs = experiment.Spec.Epochs, State = TrialState.Running, Attempts = attempts, StartedAt = DateTimeOffset.UtcNow,
        };
        await store.SaveTrialAsync(trial, cancellationToken: Cancel);
        return trial;
    }

    /// <summary>Starts a fresh coordinator and runner (as a restarted server does) and runs until the experiment has ended.</summary>
    private async Task RunUntilEndedAsync(string experimentId, RunnerOptions options)
    {
        var runner = NewRunner(NewCoordinator(), options);
        await runner.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((await store.GetExperimentAsync(experimentId, Cancel))!.State == ExperimentState.Running)
            {
                Assert.True(DateTime.UtcNow < deadline, "the experiment did not end within 120 s");
                await Task.Delay(50, Cancel);
            }
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
        }
    }

    private async Task<Trial> WaitForTrialAsync(string experimentId, Func<Trial, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if ((await store.ListTrialsAsync(experimentId, Cancel)).FirstOrDefault(condition) is { } trial) return trial;
            Assert.True(DateTime.UtcNow < deadline, "no trial reached the expected state within 120 s");
            await Task.Delay(20, Cancel);
        }
    }

    /// <summary>A strategy that records every ask and tell; by default it draws points as random search does.</summary>
    private sealed class SpyStrategyPlugin : ISearchStrategyPlugin
    {
        public const string StrategyName = "spy";

        private readonly ConcurrentQueue<(int Trials, int MaxTrials)> asks = new();
        private readonly ConcurrentQueue<string> told = new();

        public string Name => StrategyName;

        public string Description => "Records its calls.";

        public IReadOnlyList<ParameterSpec> Options => [];

        public Func<StudyView, StrategyDecision> Policy { get; set; } = study =>
            study.Trials.Count >= study.MaxTrials ? new StrategyDecision.Done("all asked for")
            : new StrategyDecision.Next(new TrialRequest(study.Space.Sample(new Random(Seeds.Derive(5, study.Trials.Count))), study.Epochs));

        public int Asks => asks.Count;

        public List<int> TrialsSeenAtAsk => asks.Select(a => a.Trials).ToList();

        public List<int> MaxTrialsSeenAtAsk => asks.Select(a => a.MaxTrials).ToList();

        public List<string> Told => [.. told];

        public ISearchStrategy Create(StrategyContext context) => new Strategy(this);

        private sealed class Strategy(SpyStrategyPlugin plugin) : ISearchStrategy
        {
            public StrategyDecision Ask(StudyView study)
            {
                plugin.asks.Enqueue((study.Trials.Count, study.MaxTrials));
                return plugin.Policy(study);
            }

            public void Tell(StudyView study, TrialRecord trial) => plugin.told.Enqueue($"{trial.Id}:{trial.State}");
        }
    }
}
