using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>Pause and resume of a search, and Grad-CAM maps of a trained trial's images.</summary>
public sealed class AnalyticsApiTests
{
    private static async Task<Experiment> PostAsync(HttpClient client, string url, HttpStatusCode expected)
    {
        var response = await client.PostAsync(url, null);
        Assert.Equal(expected, response.StatusCode);
        return expected == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<Experiment>(Api.Json))! : null!;
    }

    [Fact]
    public async Task PauseResume_RunningSearch_NoNewTrialsWhilePausedThenItCompletes()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, Api.TinySpec(trials: 4, epochs: 3))).Id;
        await Api.WaitUntilAsync(client, id, s => s.TrialsByState.GetValueOrDefault(TrialState.Running) == 1, seconds: 60);

        var paused = await PostAsync(client, $"/api/experiments/{id}/pause", HttpStatusCode.OK);
        Assert.Equal(ExperimentState.Paused, paused.State);
        // The running trial finishes; then nothing new starts, over many polls of the runner (every 100 ms here).
        var summary = await Api.WaitUntilAsync(client, id, s => s.TrialsByState.GetValueOrDefault(TrialState.Running) == 0, seconds: 60);
        int trialsWhenPaused = summary.TrialCount;
        Assert.True(trialsWhenPaused < 4, "the search finished before the pause took effect");
        await Task.Delay(2000);
        summary = (await client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{id}", Api.Json))!;
        Assert.Equal(ExperimentState.Paused, summary.Experiment.State);
        Assert.Equal(trialsWhenPaused, summary.TrialCount);
        Assert.All(await Api.TrialsAsync(client, id), t => Assert.Equal(TrialState.Completed, t.State)); // the running one finished, not cut short

        Assert.Equal(ExperimentState.Paused, (await PostAsync(client, $"/api/experiments/{id}/pause", HttpStatusCode.OK)).State); // idempotent
        var resumed = await PostAsync(client, $"/api/experiments/{id}/resume", HttpStatusCode.OK);
        Assert.Equal(ExperimentState.Running, resumed.State);
        summary = await Api.WaitUntilAsync(client, id, s => s.Experiment.State is not (ExperimentState.Running or ExperimentState.Paused));

        Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
        Assert.Equal(4, summary.TrialCount);
        await PostAsync(client, $"/api/experiments/{id}/resume", HttpStatusCode.Conflict); // a completed search stays completed
        await PostAsync(client, $"/api/experiments/{id}/pause", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task PauseResume_UnknownExperiment_NotFound()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();

        await PostAsync(client, "/api/experiments/nope/pause", HttpStatusCode.NotFound);
        await PostAsync(client, "/api/experiments/nope/resume", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Pause_ExternalSearch_WorkersAreToldToWaitUntilResumed()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, new
        {
            name = "external",
            execution = "external",
            strategy = "random",
            searchSpace = new { parameters = new object[] { new { type = "float", name = "x", low = 0.0, high = 1.0 } } },
            objective = new { metric = "loss", direction = "minimize" },
            maxTrials = 3,
            epochs = 1,
        })).Id;

        await PostAsync(client, $"/api/experiments/{id}/pause", HttpStatusCode.OK);
        var paused = await (await client.PostAsync($"/api/experiments/{id}/ask", null)).Content.ReadFromJsonAsync<JsonElement>();
        await PostAsync(client, $"/api/experiments/{id}/resume", HttpStatusCode.OK);
        var resumed = await (await client.PostAsync($"/api/experiments/{id}/ask", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("wait", paused.GetProperty("status").GetString());
        Assert.Equal("trial", resumed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task GradCam_FinishedTrial_PngPerImageAndClassAndProblemsOtherwise()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, Api.TinySpec(trials: 1, epochs: 1))).Id;
        await Api.WaitUntilAsync(client, id, s => s.Experiment.State != ExperimentState.Running);
        var trial = Assert.Single(await Api.TrialsAsync(client, id));
        var predictions = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{trial.Id}/predictions", Api.Json);
        int index = predictions.GetProperty("samples")[0].GetProperty("prediction").GetProperty("index").GetInt32();

        var predicted = await client.GetAsync($"/api/trials/{trial.Id}/gradcam/{index}.png");
        var chosen = await client.GetAsync($"/api/trials/{trial.Id}/gradcam/{index}.png?class=2");
        var badClass = await client.GetAsync($"/api/trials/{trial.Id}/gradcam/{index}.png?class=3");
        var badImage = await client.GetAsync($"/api/trials/{trial.Id}/gradcam/100000.png");
        var unknown = await client.GetAsync("/api/trials/nope/gradcam/0.png");

        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
        Assert.Equal("image/png", predicted.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await predicted.Content.ReadAsByteArrayAsync()).Take(4));
        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badClass.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, badImage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Contains("nope", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }
}
