using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Tests;

/// <summary>External trials: a worker in any language asks, reports and completes over HTTP.</summary>
public sealed class AskTellApiTests
{
    private static object ExternalSpec(int trials = 3, int concurrent = 2, string? pruner = null) => new
    {
        name = "external",
        execution = "external",
        strategy = "random",
        pruner,
        searchSpace = new
        {
            parameters = new object[]
            {
                new { type = "float", name = "x", low = -5.0, high = 10.0 },
                new { type = "choice", name = "kind", values = new[] { "a", "b" } },
            },
        },
        objective = new { metric = "loss", direction = "minimize" },
        maxTrials = trials,
        epochs = 4,
        maxConcurrentTrials = concurrent,
        seed = 5,
    };

    private static async Task<JsonElement> AskAsync(HttpClient client, string experimentId)
    {
        var response = await client.PostAsync($"/api/experiments/{experimentId}/ask", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task AskReportComplete_ExternalWorker_RunsTheWholeSearch()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, ExternalSpec())).Id;

        var first = await AskAsync(client, id);
        var second = await AskAsync(client, id);
        var third = await AskAsync(client, id);
        Assert.Equal("trial", first.GetProperty("status").GetString());
        Assert.Equal("trial", second.GetProperty("status").GetString());
        Assert.Equal("wait", third.GetProperty("status").GetString()); // two may run at once
        var firstTrial = first.GetProperty("trial");
        string t0 = firstTrial.GetProperty("id").GetString()!;
        double x = firstTrial.GetProperty("parameters").GetProperty("x").GetDouble();
        Assert.InRange(x, -5, 10);
        Assert.Contains(firstTrial.GetProperty("parameters").GetProperty("kind").GetString(), new[] { "a", "b" });
        Assert.Equal(4, firstTrial.GetProperty("epochs").GetInt32());

        for (int step = 1; step <= 2; step++)
        {
            var report = await client.PostAsJsonAsync($"/api/trials/{t0}/report", new { step, metrics = new { loss = x * x / step, accuracy = 0.5 } });
            Assert.Equal(HttpStatusCode.OK, report.StatusCode);
            Assert.Equal("continue", (await report.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("action").GetString());
        }
        var done = await client.PostAsJsonAsync($"/api/trials/{t0}/complete", new { metrics = new { loss = 1.25 } });
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        string t1 = second.GetProperty("trial").GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/trials/{t1}/fail", new { error = "CUDA out of memory" })).StatusCode);

        var last = await AskAsync(client, id);
        Assert.Equal("trial", last.GetProperty("status").GetString());
        string t2 = last.GetProperty("trial").GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/trials/{t2}/complete", new { metrics = new { loss = 0.5 } })).StatusCode);
        var end = await AskAsync(client, id);
        Assert.Equal("done", end.GetProperty("status").GetString());

        var summary = (await client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{id}", Api.Json))!;
        Assert.Equal(ExperimentState.Completed, summary.Experiment.State);
        Assert.Equal(0.5, summary.BestObjective); // minimised
        var trials = await Api.TrialsAsync(client, id);
        Assert.Equal([TrialState.Completed, TrialState.Failed, TrialState.Completed], trials.Select(t => t.State));
        Assert.Equal(1.25, trials[0].Objective);
        Assert.Equal([1, 2], trials[0].Intermediate.Select(v => v.Step));
        Assert.Equal(x * x / 2, trials[0].Intermediate[1].Value);
        Assert.Equal("CUDA out of memory", trials[1].Error);
        var series = await client.GetFromJsonAsync<JsonElement>($"/api/trials/{t0}/metrics", Api.Json);
        Assert.Equal(2, series.GetProperty("series").GetProperty("accuracy").GetArrayLength());
    }

    [Fact]
    public async Task ExternalCalls_BadRequests_GetProblemsNamingTheCause()
    {
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();
        var id = (await Api.CreateAsync(client, ExternalSpec(trials: 5))).Id;
        string trial = (await AskAsync(client, id)).GetProperty("trial").GetProperty("id").GetString()!;

        async Task Expect(HttpResponseMessage response, HttpStatusCode status, string text)
        {
            Assert.Equal(status, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(text, problem.GetProperty("title").GetString());
        }

        await Expect(await client.PostAsync("/api/experiments/nope/ask", null), HttpStatusCode.NotFound, "nope");
        await Expect(await client.PostAsJsonAsync("/api/trials/nope/report", new { step = 1, metrics = new { loss = 1.0 } }), HttpStatusCode.NotFound, "nope");
        await Expect(await client.PostAsJsonAsync($"/api/trials/{trial}/report", new { step = 1, metrics = new { accuracy = 1.0 } }), HttpStatusCode.BadRequest, "'loss'");
        await Expect(await client.PostAsJsonAsync($"/api/trials/{trial}/report", new { step = 0, metrics = new { loss = 1.0 } }), HttpStatusCode.BadRequest, "step");
        await Expect(await client.PostAsJsonAsync($"/api/trials/{trial}/complete", new { metrics = new { } }), HttpStatusCode.BadRequest, "'loss'");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/trials/{trial}/complete", new { metrics = new { loss = 2.0 } })).StatusCode);
        await Expect(await client.PostAsJsonAsync($"/api/trials/{trial}/complete", new { metrics = new { loss = 2.0 } }), HttpStatusCode.Conflict, "Completed");

        var builtin = (await Api.CreateAsync(client, Api.TinySpec(trials: 1, epochs: 1))).Id;
        await Expect(await client.PostAsync($"/api/experiments/{builtin}/ask", null), HttpStatusCode.Conflict, "external");
    }
}
