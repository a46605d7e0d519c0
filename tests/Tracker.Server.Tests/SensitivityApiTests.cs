using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>The reference study's figure: F1 at the tuned learning rate against ×0.1 and ×10, over seeds.</summary>
public sealed class SensitivityApiTests
{
    [Fact]
    public async Task StartSensitivity_FinishedExperiment_RetrainsBestTrialAtEachFactorWithEachSeed()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var source = (await Api.CreateAsync(client, Api.TinySpec(trials: 2, epochs: 1))).Id;
        var summary = await Api.WaitUntilAsync(client, source, s => s.Experiment.State != ExperimentState.Running);
        var best = (await Api.TrialsAsync(client, source)).Single(t => t.Id == summary.BestTrialId);
        double lr = best.Parameters["learning_rate"].AsDouble();

        var response = await client.PostAsJsonAsync($"/api/experiments/{source}/sensitivity", new { parameter = "learning_rate", factors = new[] { 10.0, 0.1, 1.0 }, seeds = 2 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var study = (await response.Content.ReadFromJsonAsync<Experiment>(Api.Json))!;
        Assert.Equal("sensitivity", study.Spec.Strategy);
        Assert.Equal(6, study.Spec.MaxTrials);
        await Api.WaitUntilAsync(client, study.Id, s => s.Experiment.State != ExperimentState.Running);

        var trials = await Api.TrialsAsync(client, study.Id);
        Assert.All(trials, t => Assert.Equal(TrialState.Completed, t.State));
        // Factors fill up evenly: 0.1, 1, 10, 0.1, 1, 10; every other hyperparameter is the best trial's.
        Assert.Equal([lr * 0.1, lr, lr * 10, lr * 0.1, lr, lr * 10], trials.Select(t => t.Parameters["learning_rate"].AsDouble()));
        Assert.All(trials, t => Assert.Equal(best.ResolvedParameters["batch_size"], t.ResolvedParameters["batch_size"]));
        // The two trainings at a factor differ only by seed, so their losses differ.
        Assert.NotEqual(trials[0].FinalMetrics[MetricNames.TrainLoss], trials[3].FinalMetrics[MetricNames.TrainLoss]);

        var figure = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{study.Id}/sensitivity", Api.Json);
        Assert.Equal("learning_rate", figure.GetProperty("parameter").GetString());
        var points = figure.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal([0.1, 1.0, 10.0], points.Select(p => p.GetProperty("factor").GetDouble()));
        Assert.All(points, p => Assert.Equal(2, p.GetProperty("count").GetInt32()));
        var scores = trials.Where(t => t.Parameters["learning_rate"].AsDouble() == lr).Select(t => t.FinalMetrics["test_f1_macro"]).ToList();
        Assert.Equal(scores.Average(), points[1].GetProperty("mean").GetDouble(), 12);
        Assert.Equal(Math.Abs(scores[0] - scores[1]) / Math.Sqrt(2), points[1].GetProperty("standardDeviation").GetDouble(), 12);
    }

    [Theory]
    [InlineData("no_such_parameter", "not a numeric hyperparameter")]
    [InlineData("learning_rate", "outside")]
    public async Task StartSensitivity_BadRequest_Returns400NamingTheProblem(string parameter, string expected)
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var source = (await Api.CreateAsync(client, Api.TinySpec(trials: 1, epochs: 1))).Id;
        await Api.WaitUntilAsync(client, source, s => s.Experiment.State != ExperimentState.Running);

        var response = await client.PostAsJsonAsync($"/api/experiments/{source}/sensitivity", new { parameter, factors = new[] { 1.0, 1000.0 } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, problem.GetProperty("errors").GetProperty("parameter")[0].GetString());
    }
}
