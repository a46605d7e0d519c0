using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;

namespace Tracker.Cli.Tests;

/// <summary><c>experiments list</c>, <c>runs list</c>, <c>export</c> and <c>compare</c> on the database the run fixture wrote.</summary>
[Collection(CliCollection.Name)]
public sealed class ReadCommandsTests(RunDatabaseFixture run)
{
    // Read and closed again before the command opens the file: the store holds it exclusively.
    private async Task<(Experiment Experiment, IReadOnlyList<Trial> Trials)> StoredAsync()
    {
        Assert.True(run.ExitCode == 0, run.Output);
        using var store = new LiteDbStore(run.DatabasePath);
        var experiment = Assert.Single(await store.ListExperimentsAsync(TestContext.Current.CancellationToken));
        return (experiment, await store.ListTrialsAsync(experiment.Id, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Experiments_list_shows_each_experiment_with_its_counts_and_best_objective()
    {
        var (experiment, trials) = await StoredAsync();

        var (code, output) = await Cli.RunAsync("experiments", "list", "--db", run.DatabasePath);

        Assert.Equal(0, code);
        var best = ExperimentSummary.Best(ObjectiveDirection.Maximize, trials)!;
        Assert.Matches($@"│ {experiment.Id} +│ tiny cli +│ completed +│ 2/2 +│ {Render.Metric(best.Objective)} +│", output);
        Assert.Contains("small-cnn / random", output);
    }

    [Fact]
    public async Task Runs_list_shows_the_runs_of_an_experiment_filtered_by_state()
    {
        var (experiment, trials) = await StoredAsync();

        var (code, output) = await Cli.RunAsync("runs", "list", "--db", run.DatabasePath, "--experiment", experiment.Id, "--state", "completed");
        Assert.Equal(0, code);
        foreach (var t in trials)
            Assert.Matches($@"│ {t.Number} +│ {t.Id} +│ completed +│ learning_rate={Render.Value(t.Parameters["learning_rate"])} +│ {Render.Metric(t.Objective)} +│ {Render.Metric(t.FinalMetrics["test_f1_macro"])} +│", output);
        Assert.Contains("2 run(s).", output);

        var (failedCode, failed) = await Cli.RunAsync("runs", "list", "--db", run.DatabasePath, "--experiment", experiment.Id, "--state", "failed");
        Assert.Equal(0, failedCode);
        Assert.Contains("No runs match.", failed);
        Assert.DoesNotContain(trials[0].Id, failed);
    }

    [Fact]
    public async Task Runs_list_of_an_unknown_experiment_or_state_says_so()
    {
        var (missingCode, missing) = await Cli.RunAsync("runs", "list", "--db", run.DatabasePath, "--experiment", "nope");
        Assert.Equal(1, missingCode);
        Assert.Contains("There is no experiment 'nope'", missing);

        var (experiment, _) = await StoredAsync();
        var (stateCode, state) = await Cli.RunAsync("runs", "list", "--db", run.DatabasePath, "--experiment", experiment.Id, "--state", "asleep");
        Assert.Equal(2, stateCode);
        Assert.Contains("'asleep' is not a trial state", state);
    }

    [Fact]
    public async Task Export_json_writes_every_run_with_its_parameters_and_final_metrics()
    {
        var (experiment, trials) = await StoredAsync();

        var (code, output) = await Cli.RunAsync("export", "--db", run.DatabasePath, "--experiment", experiment.Id, "--format", "json");

        Assert.Equal(0, code);
        var rows = JsonSerializer.Deserialize<List<TrialExport.Row>>(output, TrackerJson.Options)!;
        Assert.Equal(trials.Select(t => t.Id), rows.Select(r => r.Id));
        foreach (var (row, trial) in rows.Zip(trials))
        {
            Assert.Equal(experiment.Id, row.ExperimentId);
            Assert.Equal("tiny cli", row.Experiment);
            Assert.Equal(TrialState.Completed, row.State);
            Assert.Equal(trial.Parameters["learning_rate"].AsDouble(), row.Parameters["learning_rate"].AsDouble());
            Assert.Equal(trial.FinalMetrics["test_f1_macro"], row.Metrics["test_f1_macro"]);
            Assert.Equal(trial.Objective, row.Objective);
        }
    }

    [Fact]
    public async Task Export_csv_to_a_file_writes_a_header_and_a_line_per_run()
    {
        var (experiment, trials) = await StoredAsync();
        var file = Path.Combine(Cli.NewFolder(), "runs.csv");

        var (code, _) = await Cli.RunAsync("export", "--db", run.DatabasePath, "--experiment", experiment.Id, "--format", "csv", "--out", file);

        Assert.Equal(0, code);
        var lines = File.ReadAllText(file).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var header = lines[0].Split(',');
        Assert.Equal(["experiment", "number", "id", "state", "param.learning_rate"], header[..5]);
        int f1 = Array.IndexOf(header, "metric.test_f1_macro");
        Assert.True(f1 > 0, lines[0]);
        foreach (var (line, trial) in lines[1..].Zip(trials))
        {
            var cells = line.Split(',');
            Assert.Equal(["tiny cli", trial.Number.ToString(), trial.Id, "completed"], cells[..4]);
            Assert.Equal(trial.FinalMetrics["test_f1_macro"], double.Parse(cells[f1], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Compare_prints_the_figures_core_computes()
    {
        var (experiment, trials) = await StoredAsync();
        var expected = ExperimentComparison.From(experiment, trials);
        Assert.Equal(2, expected.Completed);

        var (code, output) = await Cli.RunAsync("compare", experiment.Id, "--db", run.DatabasePath);

        Assert.Equal(0, code);
        Assert.Matches(@"│ completed trials +│ 2 +│", output);
        Assert.Matches($@"│ best trial +│ #{expected.Best!.Number} \({expected.Best.Id}\) +│", output);
        Assert.Matches($@"│ best trial's test_f1_macro +│ {Render.Metric(expected.BestValue)} +│", output);
        Assert.Matches($@"│ median test_f1_macro +│ {Render.Metric(expected.Median)} +│", output);
        Assert.Matches($@"│ learning_rate +│ {Render.Value(expected.Best.Parameters["learning_rate"])} +│", output);
        // The median of two completed trials is their mean.
        Assert.Equal(trials.Average(t => t.FinalMetrics["test_f1_macro"]), expected.Median, 12);
    }

    [Fact]
    public async Task A_database_held_by_another_store_is_reported_in_use_with_a_hint_to_use_the_server()
    {
        await StoredAsync();
        using (new LiteDbStore(run.DatabasePath))
        {
            var (code, output) = await Cli.RunAsync("experiments", "list", "--db", run.DatabasePath);

            Assert.Equal(1, code);
            Assert.Contains("is in use by another process", output);
            Assert.Contains("--server", output);
        }
    }

    [Fact]
    public async Task Giving_both_a_database_and_a_server_is_refused()
    {
        var (code, output) = await Cli.RunAsync("experiments", "list", "--db", run.DatabasePath, "--server", "http://127.0.0.1:5000");

        Assert.Equal(2, code);
        Assert.Contains("either --db or --server", output);
    }
}
