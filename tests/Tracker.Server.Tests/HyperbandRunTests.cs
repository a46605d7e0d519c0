using System.Net;
using System.Net.Http.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>Hyperband on LiteDB.</summary>
public sealed class LiteDbHyperbandRunTests() : HyperbandRunTests(ServerBackend.LiteDb);

/// <summary>Hyperband on PostgreSQL: the checkpoints a promotion continues live in the configured artifact root.</summary>
public sealed class PostgresHyperbandRunTests(PostgresCluster cluster) : HyperbandRunTests(ServerBackend.Postgres(cluster));

/// <summary>Hyperband through the real runner: promoted configurations continue their checkpoints.</summary>
public abstract class HyperbandRunTests(ServerBackend backend)
{
    [Fact]
    public async Task Hyperband_TinySearch_PromotionsContinueFromTheirSourceCheckpoints()
    {
        await using var factory = new TrackerServerFactory(await backend.NewStoreAsync());
        var client = factory.CreateClient();
        var spec = new
        {
            name = "hyperband",
            model = "small-cnn",
            strategy = "hyperband",
            strategyOptions = new { max_epochs = 3, eta = 3 },
            dataset = new { name = "shapes", options = new { classes = 3, image_size = 12, samples = 150 } },
            searchSpace = new { parameters = new object[] { new { type = "float", name = "learning_rate", low = 1e-3, high = 3e-2, log = true } } },
            maxTrials = 20,
            epochs = 3,
            seed = 4,
        };
        var id = (await Api.CreateAsync(client, spec)).Id;
        var summary = await Api.WaitUntilAsync(client, id, s => s.Experiment.State != ExperimentState.Running, seconds: 180);

        Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
        var trials = await Api.TrialsAsync(client, id);
        // R=3, η=3 (paper): bracket s=1 trains 3 configurations for 1 epoch and promotes the best to 3; bracket s=0 trains 2 for 3.
        Assert.Equal(6, trials.Count);
        Assert.Equal([1, 1, 1, 3, 3, 3], trials.Select(t => t.Epochs));
        var promoted = Assert.Single(trials, t => t.ResumedFrom is not null);
        var source = trials.Single(t => t.Id == promoted.ResumedFrom);
        Assert.Equal(trials.Take(3).MaxBy(t => t.Objective)!.Id, source.Id); // the rung's best went on
        Assert.Equal(source.Parameters["learning_rate"].AsDouble(), promoted.Parameters["learning_rate"].AsDouble());
        // It trained only epochs 2 and 3, continuing the weights its source ended with.
        Assert.Equal(TrialState.Completed, promoted.State);
        Assert.Equal([2, 3], promoted.Intermediate.Select(v => v.Step));
        Assert.Equal(3, promoted.EpochsDone);
        Assert.All(trials.Where(t => t.ResumedFrom is null && t.Epochs == 3), t => Assert.Equal([1, 2, 3], t.Intermediate.Select(v => v.Step)));
    }

    [Fact]
    public async Task Hyperband_PromotionCutOffByAShutdown_RunsAgainFromItsOwnCheckpoint()
    {
        // R=8, η=8: bracket s=1 trains 8 configurations for 1 epoch and promotes the best to 8; a budget of 9 trials
        // stops the search there.
        var spec = new
        {
            name = "hyperband restart",
            model = "small-cnn",
            strategy = "hyperband",
            strategyOptions = new { max_epochs = 8, eta = 8 },
            dataset = new { name = "shapes", options = new { classes = 3, image_size = 12, samples = 600 } },
            searchSpace = new { parameters = new object[] { new { type = "float", name = "learning_rate", low = 3e-3, high = 3e-2, log = true } } },
            @fixed = new { width = 8 },
            maxTrials = 9,
            epochs = 8,
            seed = 4,
        };
        var store = await backend.NewStoreAsync();
        string id;
        await using (var factory = new TrackerServerFactory(store))
        {
            var client = factory.CreateClient();
            id = (await Api.CreateAsync(client, spec)).Id;
            // Stop the server while the promotion is halfway: it has trained epochs 2 and 3 of its own. Paused first,
            // so that the next server keeps it queued until the test has looked at it.
            await Api.WaitUntilAsync(client, id, s => s.TrialCount == 9, seconds: 240);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while ((await Api.TrialsAsync(client, id))[8].EpochsDone < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, "the promotion did not reach epoch 3 within 120 s");
                await Task.Delay(50);
            }
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/experiments/{id}/pause", null)).StatusCode);
        }
        await using (var factory = new TrackerServerFactory(store))
        {
            var client = factory.CreateClient();
            var cutOff = (await Api.TrialsAsync(client, id))[8];
            Assert.True(cutOff.State == TrialState.Queued, $"the promotion should wait for its next attempt, but it is {cutOff.State} with {cutOff.EpochsDone} epochs");
            Assert.Equal(1, cutOff.Attempts);
            Assert.InRange(cutOff.EpochsDone, 3, 7);

            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/experiments/{id}/resume", null)).StatusCode);
            var summary = await Api.WaitUntilAsync(client, id, s => s.Experiment.State != ExperimentState.Running, seconds: 180);

            Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
            var trials = await Api.TrialsAsync(client, id);
            Assert.Equal(Enumerable.Range(0, 9), trials.Select(t => t.Number)); // nothing asked for in its place
            var promotion = trials[8];
            Assert.Equal((cutOff.Id, TrialState.Completed, 2, 8), (promotion.Id, promotion.State, promotion.Attempts, promotion.EpochsDone));
            Assert.Equal(trials.Take(8).MaxBy(t => t.Objective)!.Id, promotion.ResumedFrom);
            // Epochs 2..8 once each: the second attempt continued the promotion's own checkpoint, not its source's.
            Assert.Equal(Enumerable.Range(2, 7), promotion.Intermediate.Select(v => v.Step));
            Assert.Equal(cutOff.Intermediate, promotion.Intermediate.Take(cutOff.Intermediate.Count));
            var series = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/trials/{promotion.Id}/metrics?key={MetricNames.ValF1Macro}", Api.Json);
            Assert.Equal(Enumerable.Range(2, 7), series.GetProperty("series").GetProperty(MetricNames.ValF1Macro).EnumerateArray().Select(p => p.GetProperty("step").GetInt32()));
            Assert.All(trials.Take(8), t => Assert.Equal(1, t.Attempts));
        }
    }
}
