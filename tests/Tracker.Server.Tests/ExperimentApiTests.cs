using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>The whole trial path through the real server: REST → coordinator → TorchSharp → store → REST and SignalR.</summary>
public abstract class ExperimentApiTests(ServerBackend backend)
{
    [Fact]
    public async Task PostExperiment_TinyRandomSearch_CompletesWithMetricsAndSurvivesRestart()
    {
        var store = await backend.NewStoreAsync();
        string experimentId;
        List<Trial> trials;
        Dictionary<string, JsonElement> metricsBefore;
        await using (var factory = new TrackerServerFactory(store))
        {
            var client = factory.CreateClient();
            experimentId = (await Api.CreateAsync(client, Api.TinySpec(trials: 3, epochs: 2))).Id;
            var summary = await Api.WaitUntilAsync(client, experimentId, s => s.Experiment.State != ExperimentState.Running);

            Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
            trials = await Api.TrialsAsync(client, experimentId);
            Assert.Equal([0, 1, 2], trials.Select(t => t.Number));
            foreach (var trial in trials)
            {
                Assert.Equal(TrialState.Completed, trial.State);
                Assert.Equal(2, trial.EpochsDone);
                double f1 = trial.FinalMetrics[MetricNames.ValF1Macro];
                Assert.InRange(f1, 0, 1);
                Assert.Equal(f1, trial.Objective);
                Assert.Equal([1, 2], trial.Intermediate.Select(v => v.Step));
                var lr = trial.Parameters["learning_rate"].AsDouble();
                Assert.InRange(lr, 1e-3, 3e-2);
                Assert.Equal(lr, trial.ResolvedParameters["learning_rate"].AsDouble());
            }
            // Random search draws distinct learning rates.
            Assert.Equal(3, trials.Select(t => t.Parameters["learning_rate"].AsDouble()).Distinct().Count());
            Assert.Equal(trials.Max(t => t.Objective), summary.BestObjective);

            var series = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{trials[0].Id}/metrics", Api.Json);
            metricsBefore = series.GetProperty("series").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
            Assert.Subset(metricsBefore.Keys.ToHashSet(), MetricNames.Epoch.Append(MetricNames.LearningRate).Append(MetricNames.ImagesPerSecond).ToHashSet());
            Assert.All(metricsBefore.Values, points => Assert.Equal([1, 2], points.EnumerateArray().Select(p => p.GetProperty("step").GetInt32())));
            Assert.Equal(trials[0].FinalMetrics[MetricNames.ValF1Macro], metricsBefore[MetricNames.ValF1Macro][1].GetProperty("value").GetDouble());

            var report = await client.GetFromJsonAsync<EvaluationReport>($"/api/trials/{trials[0].Id}/report?split=validation", Api.Json);
            Assert.Equal(2, report!.Step);
            Assert.Equal(3, report.Scores.Confusion.Length);
            Assert.Equal(30, report.Scores.Confusion.Sum(r => r.Sum())); // 150 images, 20% of each class held out
            Assert.Equal(trials[0].FinalMetrics[MetricNames.ValF1Macro], report.Scores.MacroF1);

            // No test split in this data set: the final evaluation and the predictions are on the validation split.
            var predictions = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{trials[0].Id}/predictions", Api.Json);
            Assert.Equal("validation", predictions.GetProperty("split").GetString());
            var items = predictions.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(30, items.Count);
            Assert.Equal(report.Scores.Accuracy, items.Count(i => i.GetProperty("trueLabel").GetInt32() == i.GetProperty("predictedLabel").GetInt32()) / 30.0, 12);
            Assert.All(items, i => Assert.InRange(i.GetProperty("confidence").GetDouble(), 1.0 / 3 - 1e-9, 1.0));
            var sample = predictions.GetProperty("samples").EnumerateArray().First();
            var png = await client.GetByteArrayAsync(sample.GetProperty("imageUrl").GetString());
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
            Assert.Equal(trials[0].FinalMetrics["test_f1_macro"], report.Scores.MacroF1); // final evaluation of the last weights
        }

        // A new host on the same store finds everything again.
        await using (var factory = new TrackerServerFactory(store))
        {
            var client = factory.CreateClient();
            var summary = (await client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{experimentId}", Api.Json))!;
            Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
            var again = await Api.TrialsAsync(client, experimentId);
            Assert.Equal(trials.Select(t => (t.Id, t.State, t.Objective)), again.Select(t => (t.Id, t.State, t.Objective)));
            Assert.Equal(trials.Select(t => t.Parameters["learning_rate"].AsDouble()), again.Select(t => t.Parameters["learning_rate"].AsDouble()));
            var series = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{trials[0].Id}/metrics", Api.Json);
            var metricsAfter = series.GetProperty("series").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());
            Assert.Equal(metricsBefore.ToDictionary(p => p.Key, p => p.Value.GetRawText()), metricsAfter);
        }
    }
}

/// <summary>
/// The trial path on LiteDB, and the runner's cancellation and live metrics, which do not depend on the store (run
/// once, here).
/// </summary>
public sealed class LiteDbExperimentApiTests() : ExperimentApiTests(ServerBackend.LiteDb)
{
    [Fact]
    public async Task CancelExperiment_WhileTrialRuns_EndsCancelledWithInterruptedTrial()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, Api.TinySpec(trials: 5, epochs: 500))).Id;
        await Api.WaitUntilAsync(client, id, s => s.TrialsByState.GetValueOrDefault(TrialState.Running) == 1, seconds: 60);

        var response = await client.PostAsync($"/api/experiments/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var summary = await Api.WaitUntilAsync(client, id, s => s.TrialsByState.GetValueOrDefault(TrialState.Running) == 0, seconds: 60);

        Assert.Equal(ExperimentState.Cancelled, summary.Experiment.State);
        var trial = Assert.Single(await Api.TrialsAsync(client, id));
        Assert.Equal(TrialState.Interrupted, trial.State);
        Assert.Contains("cancelled", trial.Error);
        Assert.True(trial.EpochsDone < 500);
    }

    [Fact]
    public async Task CancelTrial_WhileItRuns_InterruptsItAndTheExperimentGoesOn()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, Api.TinySpec(trials: 2, epochs: 1000))).Id;
        await Api.WaitUntilAsync(client, id, s => s.TrialsByState.GetValueOrDefault(TrialState.Running) == 1, seconds: 60);
        var first = (await Api.TrialsAsync(client, id)).Single();

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync($"/api/trials/{first.Id}/cancel", null)).StatusCode);
        // The second trial starts once the first is interrupted.
        await Api.WaitUntilAsync(client, id, s => s.TrialCount == 2, seconds: 60);
        var trials = await Api.TrialsAsync(client, id);
        Assert.Equal(TrialState.Interrupted, trials[0].State);
        Assert.NotEqual(TrialState.Interrupted, trials[1].State);
        await client.PostAsync($"/api/experiments/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync($"/api/trials/{first.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task MetricsHub_JoinedExperiment_ReceivesEpochMetricsAsTheyHappen()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/metrics"), o =>
            {
                o.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
            })
            .Build();
        var received = new List<JsonElement>();
        var twoEpochs = new TaskCompletionSource();
        connection.On<JsonElement>("metrics", m =>
        {
            lock (received)
            {
                received.Add(m);
                if (received.Count >= 2) twoEpochs.TrySetResult();
            }
        });
        await connection.StartAsync();

        // A long experiment, so that epochs keep coming after the join whatever the machine's speed; cancelled at the end.
        var id = (await Api.CreateAsync(client, Api.TinySpec(trials: 1, epochs: 200))).Id;
        await connection.InvokeAsync("JoinExperiment", id);
        await twoEpochs.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await client.PostAsync($"/api/experiments/{id}/cancel", null);
        await connection.DisposeAsync();

        lock (received)
        {
            Assert.All(received, m => Assert.Equal(id, m.GetProperty("experimentId").GetString()));
            int firstStep = received[0].GetProperty("step").GetInt32();
            Assert.Equal(firstStep + 1, received[1].GetProperty("step").GetInt32());
            Assert.InRange(received[0].GetProperty("values").GetProperty("val_f1_macro").GetDouble(), 0, 1);
        }
    }
}

/// <summary>The trial path on PostgreSQL: trials, metrics, reports, predictions and images in the database, checkpoints in the artifact root.</summary>
public sealed class PostgresExperimentApiTests(PostgresCluster cluster) : ExperimentApiTests(ServerBackend.Postgres(cluster));
