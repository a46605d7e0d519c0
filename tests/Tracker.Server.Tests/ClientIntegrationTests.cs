using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Client;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using TrialState = Tracker.Abstractions.TrialState;

namespace Tracker.Server.Tests;

/// <summary>The .NET client (Tracker.Client) against the real server: REST logging and the live hub, end to end.</summary>
public sealed class ClientIntegrationTests
{
    // A valid 1×1 PNG: the server decodes images before it stores them.
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    private static double Loss(int step) => 1.0 / (1 + step);

    [Fact]
    public async Task Client_LogsARunWithThousandsOfPoints_ServerStoresIt_AndTheHubRelaysItsMetricsAndImages()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var http = factory.CreateClient();
        using var tracker = new TrackerClient(http, new TrackerClientOptions { FlushInterval = TimeSpan.FromMilliseconds(200) });
        await using var hub = new TrackerHubClient(new TrackerHubClientOptions
        {
            BaseAddress = factory.Server.BaseAddress,
            HttpMessageHandlerFactory = _ => factory.Server.CreateHandler(),
            Transports = HttpTransportType.LongPolling,
        });
        var received = new List<MetricsMessage>();
        var lastStep = new TaskCompletionSource();
        var images = new TaskCompletionSource<ImagesMessage>();
        hub.MetricsReceived += m =>
        {
            lock (received) received.Add(m);
            if (m.Step == 999) lastStep.TrySetResult();
        };
        hub.ImagesLogged += i => images.TrySetResult(i);
        await hub.ConnectAsync();

        string experiment = $"client-{Guid.NewGuid():N}";
        var run = await tracker.StartRunAsync(experiment, "baseline",
            parameters: new() { ["lr"] = 0.01, ["optimizer"] = "adam" }, tags: new() { ["team"] = "vision" });
        await hub.JoinExperimentAsync(run.ExperimentId);
        Assert.Equal((experiment, "baseline", RunState.Running), (run.Info.ExperimentName, run.Info.Name, run.Info.State));
        Assert.Equal($"/trials/{run.Id}", run.Info.Url);

        for (int step = 0; step < 1000; step++)
            run.LogMetrics(step, new() { ["loss"] = Loss(step), ["val_f1_macro"] = step / 1000.0, ["lr"] = 0.01 });
        await run.LogParametersAsync(new() { ["batch_size"] = 32 });
        await run.SetTagsAsync(new() { ["stage"] = "tuning" });
        var artifact = await run.LogImageAsync("samples/0.png", Png, caption: "first", trueLabel: "cat", predictedLabel: "dog");
        await run.FinishAsync();

        // The client's view over REST.
        var view = await tracker.GetRunAsync(run.Id);
        Assert.Equal(RunState.Completed, view.State);
        Assert.NotNull(view.FinishedAt);
        Assert.Equal(0.01, view.Parameters["lr"].GetDouble());
        Assert.Equal("adam", view.Parameters["optimizer"].GetString());
        Assert.Equal(32, view.Parameters["batch_size"].GetDouble());
        Assert.Equal(("vision", "tuning"), (view.Tags["team"], view.Tags["stage"]));
        Assert.Equal(Loss(999), view.Metrics["loss"]);
        Assert.Equal(0.999, view.Metrics["val_f1_macro"]);
        var history = await tracker.GetMetricHistoryAsync(run.Id, "loss");
        Assert.Equal(Enumerable.Range(0, 1000).Select(s => (long)s), history.Select(p => p.Step));
        Assert.Equal(Enumerable.Range(0, 1000).Select(Loss), history.Select(p => p.Value));
        var search = await tracker.SearchRunsAsync(new RunQuery { Experiments = [run.ExperimentId] });
        Assert.Equal(run.Id, Assert.Single(search.Items).Trial.Id);

        Assert.Equal(("samples/0.png", (long)Png.Length, "image/png", "cat", "dog"), (artifact.Path, artifact.Size, artifact.ContentType, artifact.TrueLabel, artifact.PredictedLabel));
        Assert.Equal("samples/0.png", Assert.Single(await tracker.ListArtifactsAsync(run.Id)).Path);
        Assert.Equal(Png, await tracker.DownloadArtifactAsync(run.Id, "samples/0.png"));

        // The server's own store: a completed logged trial with every point.
        var store = factory.Services.GetRequiredService<TrackerStores>();
        var trial = (await store.Trials.GetTrialAsync(run.Id, TestContext.Current.CancellationToken))!;
        Assert.Equal(TrialState.Completed, trial.State);
        Assert.NotNull(trial.Logged);
        int stored = 0;
        foreach (var series in await store.Metrics.LatestMetricsAsync(run.Id, TestContext.Current.CancellationToken))
            stored += (await store.Metrics.ReadMetricsAsync(run.Id, series.Key, MetricCursor.Start, int.MaxValue, TestContext.Current.CancellationToken)).Points.Count;
        Assert.Equal(3000, stored);
        Assert.Equal(0.999, trial.FinalMetrics[MetricNames.ValF1Macro]);

        // The live hub: metrics for the client's points, with the values it logged, up to the last step; and the image.
        await lastStep.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (received)
        {
            // One message per step and batch; a step whose points straddle two batches comes twice, each with its part.
            Assert.Equal(Enumerable.Range(0, 1000).Select(s => (long)s), received.Select(m => m.Step).Distinct().Order());
            Assert.All(received, m =>
            {
                Assert.Equal((run.ExperimentId, run.Id), (m.ExperimentId, m.TrialId));
                Assert.InRange(m.Step, 0, 999);
                if (m.Values.TryGetValue("loss", out var loss)) Assert.Equal(Loss((int)m.Step), loss);
            });
        }
        var logged = await images.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(run.Id, logged.TrialId);
        var image = Assert.Single(logged.Images);
        Assert.Equal((artifact.Url, "first", "cat", "dog"), (image.Url, image.Caption, image.TrueLabel, image.PredictedLabel));
    }

    [Fact]
    public async Task Client_ChangingALoggedParameter_GetsTheServersConflict()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        using var tracker = new TrackerClient(factory.CreateClient());
        await using var run = await tracker.StartRunAsync($"client-{Guid.NewGuid():N}", parameters: new() { ["lr"] = 0.01 });

        await run.LogParametersAsync(new() { ["lr"] = 0.01 });
        var conflict = await Assert.ThrowsAsync<TrackerApiException>(() => run.LogParametersAsync(new() { ["lr"] = 0.1 }));
        Assert.Equal(System.Net.HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(conflict.Title));
    }

    [Fact]
    public async Task HubClient_ReadsTheRealServersMessages_ForAnMlflowLoggedRun()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var mlflow = new Mlflow(factory.CreateClient());
        await using var hub = new TrackerHubClient(new TrackerHubClientOptions
        {
            BaseAddress = factory.Server.BaseAddress,
            HttpMessageHandlerFactory = _ => factory.Server.CreateHandler(),
            Transports = HttpTransportType.LongPolling,
        });
        var metrics = new List<MetricsMessage>();
        var twoSteps = new TaskCompletionSource();
        var completed = new TaskCompletionSource<TrialInfo>();
        var experimentChanged = new TaskCompletionSource<ExperimentInfo>();
        hub.MetricsReceived += m =>
        {
            lock (metrics) { metrics.Add(m); if (metrics.Count == 2) twoSteps.TrySetResult(); }
        };
        hub.TrialChanged += t => { if (t.State == RunState.Completed) completed.TrySetResult(t); };
        hub.ExperimentChanged += e => experimentChanged.TrySetResult(e);
        await hub.ConnectAsync();

        string name = $"hub-{Guid.NewGuid():N}";
        string experimentId = await mlflow.CreateExperimentAsync(name);
        await hub.JoinExperimentAsync(experimentId);
        string runId = await mlflow.CreateRunIdAsync(experimentId, "typed");
        await mlflow.LogBatchAsync(runId, [Mlflow.Metric("val_f1_macro", 0.5, step: 1), Mlflow.Metric("val_f1_macro", 0.75, step: 2), Mlflow.Metric("loss", 0.3, step: 2)],
            [Mlflow.Pair("optimizer", "adam"), Mlflow.Pair("lr", "0.01")]);
        await mlflow.PostAsync("runs/update", new { run_id = runId, status = "FINISHED", end_time = 1_700_000_005_000 });
        await mlflow.PostAsync("experiments/set-experiment-tag", new { experiment_id = experimentId, key = "team", value = "vision" });

        await twoSteps.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (metrics)
        {
            Assert.Equal([1L, 2L], metrics.Select(m => m.Step).Order());
            var second = metrics.Single(m => m.Step == 2);
            Assert.Equal((experimentId, runId), (second.ExperimentId, second.TrialId));
            Assert.Equal(new Dictionary<string, double> { ["val_f1_macro"] = 0.75, ["loss"] = 0.3 }, second.Values);
        }
        var trial = await completed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((runId, experimentId, 0, 0.75), (trial.Id, trial.ExperimentId, trial.Number, trial.Objective));
        Assert.Equal("adam", trial.Parameters["optimizer"].GetString());
        Assert.Equal(0.01, trial.Parameters["lr"].GetDouble());
        Assert.Equal(0.75, trial.FinalMetrics["val_f1_macro"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_005_000), trial.FinishedAt);
        var experiment = await experimentChanged.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((experimentId, name, "logged", Client.ExperimentState.Running), (experiment.Id, experiment.Spec.Name, experiment.Spec.Execution, experiment.State));
    }
}
