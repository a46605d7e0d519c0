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
}
