using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace Tracker.Client.Tests;

/// <summary>The typed hub client against a real SignalR hub that speaks the contract's messages.</summary>
public sealed class TrackerHubClientTests
{
    private static TrackerHubClient Connect(Uri baseAddress, string? apiKey = null) => new(new TrackerHubClientOptions
    {
        BaseAddress = baseAddress,
        ApiKey = apiKey,
        ReconnectDelays = [TimeSpan.Zero, .. Enumerable.Repeat(TimeSpan.FromMilliseconds(100), 100)],
    });

    private static async Task<T> Next<T>(TaskCompletionSource<T> source) => await source.Task.WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task Messages_ArriveTyped_UnknownFieldsIgnored_KeySentAsAccessToken()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var hub = Connect(server.BaseAddress, Scripts.ApiKey);
        var metrics = new TaskCompletionSource<MetricsMessage>();
        var trial = new TaskCompletionSource<TrialInfo>();
        var experiment = new TaskCompletionSource<ExperimentInfo>();
        var images = new TaskCompletionSource<ImagesMessage>();
        hub.MetricsReceived += m => metrics.TrySetResult(m);
        hub.TrialChanged += t => trial.TrySetResult(t);
        hub.ExperimentChanged += e => experiment.TrySetResult(e);
        hub.ImagesLogged += i => images.TrySetResult(i);
        await hub.ConnectAsync();
        await hub.JoinExperimentAsync("exp-1");
        await hub.JoinRunAsync("run-1");
        Assert.Equal(["experiment:exp-1", "trial:run-1"], server.Joins);
        Assert.Contains("Bearer " + Scripts.ApiKey, server.HubCredentials);

        var group = server.Hub.Clients.Group("experiment:exp-1");
        await group.SendAsync("metrics", new { experimentId = "exp-1", trialId = "run-1", step = 3, values = new { loss = 0.5, acc = 0.75 }, future = 1 });
        await group.SendAsync("trialChanged", new
        {
            id = "run-1", experimentId = "exp-1", number = 2, state = "somethingNew", parameters = new { lr = 0.01, optimizer = "adam" },
            epochs = 10, epochsDone = 4, objective = 0.8, finalMetrics = new { val_f1_macro = 0.8 }, error = (string?)null,
            intermediate = new[] { new { step = 1, value = 0.7 } }, createdAt = "2025-05-01T08:00:00+00:00",
        });
        await group.SendAsync("experimentChanged", new
        {
            id = "exp-1", state = "paused", spec = new { name = "fashion", execution = "logged", searchSpace = new { parameters = Array.Empty<object>() } },
            createdAt = "2025-05-01T08:00:00+00:00", experimentTags = new { team = "vision" },
        });
        await server.Hub.Clients.Group("trial:run-1").SendAsync("images", new
        {
            experimentId = "exp-1", trialId = "run-1",
            images = new object[] { new { url = "/api/runs/run-1/artifacts/a.png", caption = "a", trueLabel = "cat", predictedLabel = "dog", width = 28 }, new { url = "/b.png" } },
        });

        var m = await Next(metrics);
        Assert.Equal(("exp-1", "run-1", 3L), (m.ExperimentId, m.TrialId, m.Step));
        Assert.Equal(new Dictionary<string, double> { ["loss"] = 0.5, ["acc"] = 0.75 }, m.Values);
        var t = await Next(trial);
        Assert.Equal(("run-1", 2, RunState.Unknown, 10, 4, 0.8), (t.Id, t.Number, t.State, t.Epochs, t.EpochsDone, t.Objective));
        Assert.Equal("adam", t.Parameters["optimizer"].GetString());
        Assert.Equal(0.8, t.FinalMetrics["val_f1_macro"]);
        Assert.Null(t.Error);
        var e = await Next(experiment);
        Assert.Equal(("exp-1", ExperimentState.Paused, "fashion", "logged"), (e.Id, e.State, e.Spec.Name, e.Spec.Execution));
        var i = await Next(images);
        Assert.Equal(2, i.Images.Count);
        Assert.Equal(("/api/runs/run-1/artifacts/a.png", "a", "cat", "dog"), (i.Images[0].Url, i.Images[0].Caption, i.Images[0].TrueLabel, i.Images[0].PredictedLabel));
        Assert.Null(i.Images[1].Caption);
    }

    [Fact]
    public async Task LeftGroups_NoLongerDeliver()
    {
        await using var server = await ScriptedServer.StartAsync();
        await using var hub = Connect(server.BaseAddress);
        var steps = new List<long>();
        hub.MetricsReceived += m => { lock (steps) steps.Add(m.Step); };
        await hub.ConnectAsync();
        await hub.JoinExperimentAsync("exp-1");
        await server.Hub.Clients.Group("experiment:exp-1").SendAsync("metrics", new { experimentId = "exp-1", trialId = "run-1", step = 1, values = new { } });
        await Scripts.WaitUntilAsync(() => { lock (steps) return steps.Count == 1; }, "the first message arrived");

        await hub.LeaveExperimentAsync("exp-1");
        await server.Hub.Clients.Group("experiment:exp-1").SendAsync("metrics", new { experimentId = "exp-1", trialId = "run-1", step = 2, values = new { } });
        await hub.JoinRunAsync("run-1"); // a round trip after the send: anything for the left group would have arrived by now
        await server.Hub.Clients.Group("trial:run-1").SendAsync("metrics", new { experimentId = "exp-1", trialId = "run-1", step = 3, values = new { } });
        await Scripts.WaitUntilAsync(() => { lock (steps) return steps.Count == 2; }, "the run's message arrived");
        lock (steps) Assert.Equal([1L, 3L], steps);
    }

    [Fact]
    public async Task ServerRestart_ReconnectsAndJoinsItsGroupsAgain()
    {
        var first = await ScriptedServer.StartAsync();
        int port = first.BaseAddress.Port;
        await using var hub = Connect(first.BaseAddress);
        var reconnected = new TaskCompletionSource();
        var metrics = new TaskCompletionSource<MetricsMessage>();
        hub.Reconnected += () => reconnected.TrySetResult();
        hub.MetricsReceived += m => metrics.TrySetResult(m);
        await hub.ConnectAsync();
        await hub.JoinExperimentAsync("exp-1");
        await hub.JoinRunAsync("run-1");
        await hub.JoinRunAsync("run-2");
        await hub.LeaveRunAsync("run-2");

        await first.DisposeAsync();
        await using var second = await ScriptedServer.StartAsync(port);
        await reconnected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HubConnectionState.Connected, hub.State);
        Assert.Equal(["experiment:exp-1", "trial:run-1"], second.Joins);
        await second.Hub.Clients.Group("experiment:exp-1").SendAsync("metrics", new { experimentId = "exp-1", trialId = "run-1", step = 9, values = new { loss = 0.1 } });
        Assert.Equal(9, (await Next(metrics)).Step);
    }
}
