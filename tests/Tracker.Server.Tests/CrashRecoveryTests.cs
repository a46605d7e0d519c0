using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>
/// A search finishes its budget across crashes: the real server, a child process on a LiteDB file, is killed
/// (<c>kill -9</c>) while a trial trains, again and again, and restarted each time on the same database.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public sealed class CrashRecoveryTests
{
    private const int Trials = 4, Epochs = 8, Kills = 5;

    // At most this many kills per trial, so that each ends within the default Runner:MaxTrialAttempts (3).
    private const int KillsPerTrial = 2;

    [Fact]
    public async Task KillNine_FiveTimesWhileTrialsRun_SearchEndsWithItsBudgetOfCompletedTrials()
    {
        var clock = Stopwatch.StartNew();
        string folder = TrackerServerFactory.NewDataFolder();
        var server = await ServerProcess.StartAsync(folder);
        try
        {
            var spec = new
            {
                name = "killed",
                model = "small-cnn",
                strategy = "random",
                dataset = new { name = "shapes", options = new { classes = 3, image_size = 16, samples = 600 } },
                searchSpace = new { parameters = new object[] { new { type = "float", name = "learning_rate", low = 3e-3, high = 3e-2, log = true } } },
                @fixed = new { width = 8 },
                maxTrials = Trials,
                epochs = Epochs,
                seed = 9,
            };
            string id = (await Api.CreateAsync(server.Client, spec)).Id;

            var killed = new Dictionary<string, int>(); // trial id → times it was killed while running
            var killedAt = new List<(int Number, int EpochsDone)>();
            for (int kill = 0; kill < Kills; kill++)
            {
                // Each life first makes progress: a trial that has trained an epoch since this server started, with at
                // least two epochs left (so it cannot end between this look and the kill).
                var seenAtStart = (await Api.TrialsAsync(server.Client, id)).ToDictionary(t => t.Id, t => t.EpochsDone);
                var victim = await WaitForTrialAsync(server, id, t =>
                    t.State == TrialState.Running && t.EpochsDone >= 1 && t.EpochsDone > seenAtStart.GetValueOrDefault(t.Id)
                    && t.Epochs - t.EpochsDone >= 2 && killed.GetValueOrDefault(t.Id) < KillsPerTrial);

                server.Kill();
                killed[victim.Id] = killed.GetValueOrDefault(victim.Id) + 1;
                killedAt.Add((victim.Number, victim.EpochsDone));
                server.Dispose();
                server = await ServerProcess.StartAsync(folder);
            }

            var summary = await WaitForEndAsync(server, id, seconds: 300);
            var trials = await Api.TrialsAsync(server.Client, id);

            Assert.True(summary.Experiment.State == ExperimentState.Completed, $"the experiment is {summary.Experiment.State}: {summary.Experiment.Message}");
            Assert.Equal(Enumerable.Range(0, Trials), trials.Select(t => t.Number)); // exactly the budget, no number twice
            Assert.Equal(Trials, trials.Select(t => t.Id).Distinct().Count());
            Assert.All(trials, t => Assert.True(t.State == TrialState.Completed, $"trial #{t.Number} is {t.State}: {t.Error}"));
            Assert.Equal(Kills, killed.Values.Sum());
            foreach (var trial in trials)
            {
                // Every kill of a running trial cost it exactly one more attempt, and nothing else did.
                Assert.Equal(1 + killed.GetValueOrDefault(trial.Id), trial.Attempts);
                Assert.Equal(Epochs, trial.EpochsDone);
                Assert.Equal(Enumerable.Range(1, Epochs), trial.Intermediate.Select(v => v.Step));
                // Resumed from checkpoints, not trained again from the start: each epoch is in the series once.
                Assert.Equal(Enumerable.Range(1, Epochs), await StepsAsync(server.Client, trial.Id));
            }
            Assert.Contains(trials, t => t.Attempts > 1);

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{Kills} kills at (trial, epochs done) {string.Join(", ", killedAt.Select(k => $"(#{k.Number}, {k.EpochsDone})"))}; " +
                $"{trials.Count(t => t.State == TrialState.Completed)} of {Trials} trials completed with attempts " +
                $"[{string.Join(", ", trials.Select(t => t.Attempts))}] in {clock.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            server.Dispose();
            ServerProcess.DeleteFolder(folder);
        }
    }

    private static async Task<Trial> WaitForTrialAsync(ServerProcess server, string experimentId, Func<Trial, bool> condition, int seconds = 180)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var trials = await Api.TrialsAsync(server.Client, experimentId);
            if (trials.FirstOrDefault(condition) is { } trial) return trial;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"no trial was ready to be killed within {seconds} s; trials: " +
                    string.Join(", ", trials.Select(t => $"#{t.Number} {t.State} {t.EpochsDone}/{t.Epochs} attempt {t.Attempts}")) + $"\n{server.OutputTail}");
            await Task.Delay(50);
        }
    }

    private static async Task<ExperimentSummary> WaitForEndAsync(ServerProcess server, string experimentId, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var summary = (await server.Client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{experimentId}", Api.Json))!;
            if (summary.Experiment.State != ExperimentState.Running) return summary;
            if (DateTime.UtcNow > deadline) Assert.Fail($"the experiment did not end within {seconds} s after the last restart:\n{server.OutputTail}");
            await Task.Delay(200);
        }
    }

    private static async Task<IEnumerable<int>> StepsAsync(HttpClient client, string trialId)
    {
        var series = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{trialId}/metrics?key={MetricNames.ValF1Macro}", Api.Json);
        return series.GetProperty("series").GetProperty(MetricNames.ValF1Macro).EnumerateArray().Select(p => p.GetProperty("step").GetInt32()).ToList();
    }
}
