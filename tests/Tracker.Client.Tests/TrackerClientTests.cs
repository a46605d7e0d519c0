using System.Net;
using System.Text;

namespace Tracker.Client.Tests;

/// <summary>What the client sends for each call of the contract, and how it reads the answers.</summary>
public sealed class TrackerClientTests : IAsyncLifetime
{
    private ScriptedServer server = null!;
    private TrackerClient client = null!;

    public async ValueTask InitializeAsync()
    {
        server = await ScriptedServer.StartAsync();
        client = Scripts.Client(server);
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task StartRun_PostsTheContractsBodyWithTheKey_AndReadsTheRunView()
    {
        var run = await client.StartRunAsync("fashion", "baseline",
            parameters: new() { ["lr"] = 0.01, ["optimizer"] = "adam", ["batch_size"] = 32, ["nesterov"] = true },
            tags: new() { ["team"] = "vision" });

        var request = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/api/runs", "Bearer " + Scripts.ApiKey), (request.Method, request.Path, request.Authorization));
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal("""{"experiment":"fashion","name":"baseline","parameters":{"lr":0.01,"optimizer":"adam","batch_size":32,"nesterov":true},"tags":{"team":"vision"}}""",
            request.Json!.ToJsonString());
        Assert.Equal(("run-1", "exp-1", "fashion", "baseline", RunState.Running), (run.Id, run.ExperimentId, run.Info.ExperimentName, run.Info.Name, run.Info.State));
        Assert.Equal(0.01, run.Info.Parameters["lr"].GetDouble());
        Assert.Equal("adam", run.Info.Parameters["optimizer"].GetString());
        Assert.Equal("vision", run.Info.Tags["team"]);
        Assert.Equal(0.25, run.Info.Metrics["loss"]);
        Assert.Equal(new DateTimeOffset(2025, 5, 1, 8, 0, 0, TimeSpan.Zero), run.Info.CreatedAt);
        Assert.Null(run.Info.FinishedAt);
        Assert.Equal(new Uri(server.BaseAddress, "/trials/run-1"), run.DashboardUrl);
    }

    [Fact]
    public async Task StartRunInExperiment_SendsTheIdAndOmitsWhatIsNotGiven()
    {
        await client.StartRunInExperimentAsync("exp-1");
        Assert.Equal("""{"experimentId":"exp-1","parameters":{},"tags":{}}""", Assert.Single(server.Requests).Json!.ToJsonString());
    }

    [Fact]
    public async Task StartRun_BadRequest_ThrowsTheProblem_NotRetried()
    {
        server.Script("POST", "/api/runs", new Scripted(400, Scripts.Problem(400, "The run cannot be created.", "Name an experiment.",
            new() { ["experiment"] = ["Give exactly one of experiment and experimentId."] })));

        var error = await Assert.ThrowsAsync<TrackerApiException>(() => client.StartRunAsync("fashion"));
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("The run cannot be created.", error.Title);
        Assert.Equal("Name an experiment.", error.Detail);
        Assert.Equal(["Give exactly one of experiment and experimentId."], error.Errors["experiment"]);
        Assert.Contains("\"title\"", error.Body);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task LogParameters_Conflict_ThrowsWithStatus409_NotRetried()
    {
        var run = await client.StartRunAsync("fashion");
        server.Script("POST", "/parameters", new Scripted(409, Scripts.Problem(409, "Parameter 'lr' already has another value.", "It was 0.01.")));

        var error = await Assert.ThrowsAsync<TrackerApiException>(() => run.LogParametersAsync(new() { ["lr"] = 0.1 }));
        Assert.Equal(HttpStatusCode.Conflict, error.StatusCode);
        Assert.Equal("Parameter 'lr' already has another value.", error.Title);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task LogParametersAndSetTags_PostTheMaps_AndRefreshTheView()
    {
        var run = await client.StartRunAsync("fashion");
        await run.LogParametersAsync(new() { ["epochs"] = 10, ["augment"] = "flip" });
        await run.SetTagsAsync(new() { ["stage"] = "tuning" });

        var posts = server.Requests.Skip(1).ToList();
        Assert.Equal(["/api/runs/run-1/parameters", "/api/runs/run-1/tags"], posts.Select(r => r.Path));
        Assert.Equal("""{"epochs":10,"augment":"flip"}""", posts[0].Json!.ToJsonString());
        Assert.Equal("""{"stage":"tuning"}""", posts[1].Json!.ToJsonString());
        Assert.Equal("tuning", run.Info.Tags["stage"]);
        await Assert.ThrowsAsync<ArgumentException>(() => run.LogParametersAsync(new() { ["bad"] = double.NaN }));
        await Assert.ThrowsAsync<ArgumentException>(() => run.LogParametersAsync(new() { ["bad"] = new object() }));
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task UpdateRun_PatchesOnlyTheGivenFields()
    {
        var view = await client.UpdateRunAsync("run-1", RunState.Interrupted, name: "renamed");
        var request = Assert.Single(server.Requests);
        Assert.Equal(("PATCH", "/api/runs/run-1"), (request.Method, request.Path));
        Assert.Equal("""{"state":"interrupted","name":"renamed"}""", request.Json!.ToJsonString());
        Assert.Equal(RunState.Interrupted, view.State);
        Assert.NotNull(view.FinishedAt);
    }

    [Fact]
    public async Task SearchRuns_WritesTheQueryString_AndReadsThePage()
    {
        var page = await client.SearchRunsAsync(new RunQuery
        {
            Experiments = ["a", "b"],
            States = [RunState.Running, RunState.Completed],
            Tag = "best",
            Text = "res net",
            Parameters = new Dictionary<string, string> { ["lr"] = RunQuery.Range(0.001, 0.1), ["optimizer"] = "adam" },
            Metrics = new Dictionary<string, string> { ["val_f1_macro"] = RunQuery.Range(0.8, null) },
            Sort = "metric:val_f1_macro",
            Descending = true,
            Page = 1,
            PageSize = 20,
        });

        var request = Assert.Single(server.Requests);
        Assert.Equal("/api/runs", request.Path);
        Assert.Equal("?experiment=a&experiment=b&state=running&state=completed&tag=best&q=res%20net&param.lr=0.001..0.1&param.optimizer=adam"
            + "&metric.val_f1_macro=0.8..&sort=metric%3Aval_f1_macro&desc=true&page=1&pageSize=20", request.Query);
        Assert.Equal((1, 0, 50), (page.Total, page.Page, page.PageSize));
        var row = Assert.Single(page.Items);
        Assert.Equal(("run-1", RunState.Completed, "fashion"), (row.Trial.Id, row.Trial.State, row.ExperimentName));
        Assert.Equal(0.01, row.Trial.Parameters["lr"].GetDouble());
        Assert.Equal(0.5, row.Trial.FinalMetrics["loss"]);

        await client.SearchRunsAsync();
        Assert.Equal("", server.Requests[1].Query);
    }

    [Fact]
    public async Task MetricHistory_FollowsPageTokensToTheEnd()
    {
        var points = await client.GetMetricHistoryAsync("run-1", "val loss");

        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), points.Select(p => p.Step));
        Assert.All(points, p => Assert.Equal("val loss", p.Key));
        Assert.Equal(0.6, points[6].Value);
        Assert.Equal(1_700_000_000_006L, points[6].Timestamp);
        Assert.Equal(["", "?pageToken=3", "?pageToken=6"], server.Requests.Select(r => r.Query));
        Assert.All(server.Requests, r => Assert.Equal("/api/runs/run-1/metrics/val loss", r.Path));

        var page = await client.GetMetricHistoryPageAsync("run-1", "val loss", maxResults: 2, pageToken: "4");
        Assert.Equal([4L, 5L], page.Points.Select(p => p.Step));
        Assert.Equal("6", page.NextPageToken);
        Assert.Equal("?maxResults=2&pageToken=4", server.Requests[^1].Query);
    }

    [Fact]
    public async Task LogImage_PutsTheBytesWithTheirTypeAndLabels()
    {
        var run = await client.StartRunAsync("fashion");
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3];
        var artifact = await run.LogImageAsync("samples/epoch 1/7.png", png, caption: "a cat", trueLabel: "cat", predictedLabel: "dog");

        var put = server.Requests[^1];
        Assert.Equal(("PUT", "/api/runs/run-1/artifacts/samples/epoch 1/7.png", "image/png"), (put.Method, put.Path, put.ContentType));
        Assert.Equal("?caption=a%20cat&trueLabel=cat&predictedLabel=dog", put.Query);
        Assert.Equal(png, put.Body);
        Assert.Equal(("samples/epoch 1/7.png", 11L, "image/png", "cat", "dog"), (artifact.Path, artifact.Size, artifact.ContentType, artifact.TrueLabel, artifact.PredictedLabel));
    }

    [Fact]
    public async Task LogFile_FromDisk_GuessesTheContentTypeAndKeepsTheName()
    {
        var run = await client.StartRunAsync("fashion");
        string file = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, "class,f1\ncat,0.9\n");
        try
        {
            await run.LogFileAsync(file, "reports/f1.csv");
        }
        finally
        {
            File.Delete(file);
        }

        var put = server.Requests[^1];
        Assert.Equal(("/api/runs/run-1/artifacts/reports/f1.csv", "text/csv"), (put.Path, put.ContentType));
        Assert.Equal("class,f1\ncat,0.9\n", Encoding.UTF8.GetString(put.Body));
    }

    [Theory]
    [InlineData("../secret.png")]
    [InlineData("a/../../b.png")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b.png")]
    [InlineData("")]
    [InlineData("C:/x.png")]
    public async Task ArtifactPath_NotRelativeOrEscaping_RefusedBeforeSending(string path)
    {
        var run = await client.StartRunAsync("fashion");
        await Assert.ThrowsAsync<ArgumentException>(() => run.LogFileAsync(path, new byte[] { 1 }, "application/octet-stream"));
        await Assert.ThrowsAsync<ArgumentException>(() => run.LogFileAsync(new string('a', 256), new byte[] { 1 }));
        Assert.Single(server.Requests);
    }
}
