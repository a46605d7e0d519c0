using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;

namespace Tracker.Cli.Tests;

[Collection(CliCollection.Name)]
public sealed class RunCommandTests(RunDatabaseFixture run)
{
    [Fact]
    public async Task Run_completes_the_experiment_records_its_trials_and_prints_the_summary_table()
    {
        Assert.True(run.ExitCode == 0, run.Output);
        Experiment experiment;
        IReadOnlyList<Trial> trials;
        // Closed before the next test's command opens the file: the store holds it exclusively.
        using (var store = new LiteDbStore(run.DatabasePath))
        {
            experiment = Assert.Single(await store.ListExperimentsAsync(TestContext.Current.CancellationToken));
            trials = await store.ListTrialsAsync(experiment.Id, TestContext.Current.CancellationToken);
        }
        Assert.Equal(ExperimentState.Completed, experiment.State);
        Assert.Equal("tiny cli", experiment.Spec.Name);
        Assert.Equal(2, trials.Count);
        Assert.All(trials, t =>
        {
            Assert.Equal(TrialState.Completed, t.State);
            Assert.Equal(1, t.EpochsDone);
            Assert.InRange(t.FinalMetrics["test_f1_macro"], 0, 1);
        });

        Assert.Contains(experiment.Id, run.Output);
        Assert.Contains("objective (val_f1_macro)", run.Output);
        Assert.Contains("test F1", run.Output);
        Assert.Contains("Experiment completed", run.Output);
        foreach (var t in trials)
        {
            // One table row per trial: number, parameters, state, objective, test F1 in that order.
            var row = run.Output.Split('\n').Single(l => l.Contains($"learning_rate={Render.Value(t.Parameters["learning_rate"])}"));
            Assert.Matches($@"│ {t.Number} +│ learning_rate=\S+ +│ completed +│ {Render.Metric(t.Objective)} +│ {Render.Metric(t.FinalMetrics["test_f1_macro"])} +│", row);
        }
    }

    [Fact]
    public async Task Run_with_an_invalid_spec_exits_2_and_names_each_field_at_fault()
    {
        var folder = Cli.NewFolder();
        var spec = Cli.WriteSpec(folder, model: "no-such-model", epochs: 0);

        var (code, output) = await Cli.RunAsync("run", spec, "--db", Path.Combine(folder, "tracker.db"));

        Assert.Equal(2, code);
        Assert.Contains("is invalid", output);
        Assert.Matches(@"│ model +│ no active model plugin named 'no-such-model'", output);
        Assert.Matches(@"│ epochs +│ must be between 1 and 10000 \(got 0\)", output);
        using var store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        Assert.Empty(await store.ListExperimentsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Run_with_a_spec_that_is_not_json_exits_2_and_says_where()
    {
        var folder = Cli.NewFolder();
        var spec = Path.Combine(folder, "broken.json");
        File.WriteAllText(spec, "{ \"name\": \"x\", \"maxTrials\": \"many\" }");

        var (code, output) = await Cli.RunAsync("run", spec, "--db", Path.Combine(folder, "tracker.db"));

        Assert.Equal(2, code);
        Assert.Contains("is not a valid experiment spec", output);
        Assert.Contains("maxTrials", output);
    }

    [Fact]
    public async Task Cancelling_a_run_cancels_the_experiment_interrupts_its_running_trial_and_exits_130()
    {
        var folder = Cli.NewFolder();
        var db = Path.Combine(folder, "tracker.db");
        // Far more epochs than the test waits for: it cancels once the first trial has saved a checkpoint.
        var spec = Cli.WriteSpec(folder, name: "long", trials: 2, epochs: 1000);
        using var cancel = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            var artifacts = Path.Combine(folder, "artifacts");
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!(Directory.Exists(artifacts) && Directory.EnumerateDirectories(artifacts).Any()) && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            cancel.Cancel();
        });

        var (code, output) = await Cli.RunAsync(["run", spec, "--db", db], cancel.Token);
        await watch;

        Assert.True(code == 130, output);
        Assert.Contains("Interrupted", output);
        using var store = new LiteDbStore(db);
        var experiment = Assert.Single(await store.ListExperimentsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(ExperimentState.Cancelled, experiment.State);
        var trial = Assert.Single(await store.ListTrialsAsync(experiment.Id, TestContext.Current.CancellationToken));
        Assert.Equal(TrialState.Interrupted, trial.State);
        Assert.InRange(trial.EpochsDone, 1, 999);
        Assert.Contains("cancelled", trial.Error);
    }
}
