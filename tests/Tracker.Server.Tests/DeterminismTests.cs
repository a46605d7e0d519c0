using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>
/// libtorch's random generator is process-wide, so a spec and seed reproduce their metrics when one trial trains at a
/// time in the process. This collection runs alone, never beside the parallel test classes' hosts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTorchCollection
{
    public const string Name = "serial torch";
}

[Collection(SerialTorchCollection.Name)]
public sealed class DeterminismTests
{
    [Fact]
    public async Task PostExperiment_SameSpecAndSeedTwice_GivesSameMetrics()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var first = (await Api.CreateAsync(client, Api.TinySpec(trials: 2, epochs: 1, name: "a"))).Id;
        await Api.WaitUntilAsync(client, first, s => s.Experiment.State != ExperimentState.Running);
        var second = (await Api.CreateAsync(client, Api.TinySpec(trials: 2, epochs: 1, name: "b"))).Id;
        await Api.WaitUntilAsync(client, second, s => s.Experiment.State != ExperimentState.Running);

        var a = await Api.TrialsAsync(client, first);
        var b = await Api.TrialsAsync(client, second);
        Assert.Equal(a.Select(t => t.Parameters["learning_rate"].AsDouble()), b.Select(t => t.Parameters["learning_rate"].AsDouble()));
        Assert.Equal(a.Select(t => t.FinalMetrics[MetricNames.ValLoss]), b.Select(t => t.FinalMetrics[MetricNames.ValLoss]));
    }
}
