using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Tracker.Core.Data;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>The real server with a small artifact limit, so that the 413 case needs no large upload. On LiteDB.</summary>
public class RunLoggingServer : ServerFixture
{
    /// <summary>The artifact limit of this server, in bytes.</summary>
    public const int MaxArtifactBytes = 64 * 1024;

    public RunLoggingServer()
        : this(ServerBackend.LiteDb)
    {
    }

    protected RunLoggingServer(ServerBackend backend)
        : base(backend)
    {
    }

    public string DataFolder => Factory.DataFolder;

    protected override TrackerServerFactory CreateFactory(ServerStore store) =>
        new(store) { Settings = new Dictionary<string, string> { ["Tracking:MaxArtifactBytes"] = MaxArtifactBytes.ToString() } };
}

/// <summary>The run-logging tests' server on PostgreSQL.</summary>
public sealed class PostgresRunLoggingServer(PostgresCluster cluster) : RunLoggingServer(ServerBackend.Postgres(cluster));

/// <summary>The native run-logging API on LiteDB.</summary>
public sealed class LiteDbRunLoggingApiTests(RunLoggingServer server) : RunLoggingApiTests(server), IClassFixture<RunLoggingServer>;

/// <summary>The native run-logging API on PostgreSQL.</summary>
public sealed class PostgresRunLoggingApiTests(PostgresRunLoggingServer server) : RunLoggingApiTests(server), IClassFixture<PostgresRunLoggingServer>;

/// <summary>
/// The native run-logging API (<c>/api/runs</c>) through the real server: a run's whole life, the limits and the
/// problems each wrong request gets, artifacts, and the live hub messages that logging over REST causes.
/// </summary>
public abstract class RunLoggingApiTests(RunLoggingServer server)
{
    private readonly HttpClient client = server.Client;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private async Task<JsonElement> CreateRunAsync(object body)
    {
        var response = await client.PostAsJsonAsync("/api/runs", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/runs/{run.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        return run;
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] ErrorFields(JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors) ? errors.EnumerateObject().Select(e => e.Name).ToArray() : [];

    private static object Points(int count, string key = "loss") =>
        new { points = Enumerable.Range(0, count).Select(i => new { key, value = 1.0 / (i + 1), step = i, timestamp = 1_700_000_000_000L + i }).ToArray() };

    private static byte[] TinyPng(float shade)
    {
        var pixels = Enumerable.Range(0, 3 * 4 * 4).Select(i => (i % 7) / 7f * shade).ToArray();
        return Png.Encode(pixels, 3, 4, 4);
    }

    private static ByteArrayContent Bytes(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    [Fact]
    public async Task Run_CreateLogParamsTagsMetricsPageHistoryFinishAndSearch()
    {
        string experiment = Unique("native");
        var run = await CreateRunAsync(new
        {
            experiment,
            name = "baseline",
            parameters = new Dictionary<string, object> { ["lr"] = 0.01, ["batch_size"] = 32, ["optimizer"] = "adam", ["augment"] = true },
            tags = new { team = "vision" },
        });
        string id = run.GetProperty("id").GetString()!;
        string experimentId = run.GetProperty("experimentId").GetString()!;
        Assert.Equal(experiment, run.GetProperty("experimentName").GetString());
        Assert.Equal("baseline", run.GetProperty("name").GetString());
        Assert.Equal("running", run.GetProperty("state").GetString());
        Assert.Equal(0, run.GetProperty("number").GetInt32());
        Assert.Equal(0.01, run.GetProperty("parameters").GetProperty("lr").GetDouble());
        Assert.Equal(32, run.GetProperty("parameters").GetProperty("batch_size").GetDouble());
        Assert.Equal("adam", run.GetProperty("parameters").GetProperty("optimizer").GetString());
        Assert.Equal("true", run.GetProperty("parameters").GetProperty("augment").GetString());
        Assert.Equal(["team"], run.GetProperty("tags").EnumerateObject().Select(t => t.Name));
        Assert.Equal($"/trials/{id}", run.GetProperty("url").GetString());
        Assert.False(run.TryGetProperty("finishedAt", out _));

        // A second run by experiment name joins the same experiment; by id too.
        var second = await CreateRunAsync(new { experiment });
        Assert.Equal(experimentId, second.GetProperty("experimentId").GetString());
        Assert.Equal(1, second.GetProperty("number").GetInt32());
        var third = await CreateRunAsync(new { experimentId });
        Assert.Equal(2, third.GetProperty("number").GetInt32());

        var parameters = await client.PostAsJsonAsync($"/api/runs/{id}/parameters", new { lr = 0.01, epochs = 5 });
        Assert.Equal(HttpStatusCode.OK, parameters.StatusCode);
        Assert.Equal(5, (await parameters.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("parameters").GetProperty("epochs").GetDouble());

        // Sent as curl -d sends it: JSON under a form content type.
        var tags = await client.PostAsync($"/api/runs/{id}/tags",
            new StringContent("""{ "team": "ml", "stage": "tuning" }""", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        var tagged = (await tags.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tags");
        Assert.Equal("ml", tagged.GetProperty("team").GetString());
        Assert.Equal("tuning", tagged.GetProperty("stage").GetString());

        var logged = await client.PostAsJsonAsync($"/api/runs/{id}/metrics", Points(5000));
        Assert.Equal(HttpStatusCode.OK, logged.StatusCode);
        Assert.Equal(5000, (await logged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());

        var steps = new List<int>();
        string? token = null;
        int pages = 0;
        do
        {
            string url = $"/api/runs/{id}/metrics/loss?maxResults=2000" + (token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}");
            var page = await client.GetFromJsonAsync<JsonElement>(url);
            foreach (var point in page.GetProperty("points").EnumerateArray())
            {
                int step = point.GetProperty("step").GetInt32();
                Assert.Equal("loss", point.GetProperty("key").GetString());
                Assert.Equal(1.0 / (step + 1), point.GetProperty("value").GetDouble());
                Assert.Equal(1_700_000_000_000L + step, point.GetProperty("timestamp").GetInt64());
                steps.Add(step);
            }
            var next = page.GetProperty("nextPageToken");
            token = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
            pages++;
        } while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 5000), steps);

        var finished = await client.PatchAsJsonAsync($"/api/runs/{id}", new { state = "completed" });
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        var view = await finished.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("completed", view.GetProperty("state").GetString());
        Assert.True(view.TryGetProperty("finishedAt", out _));
        Assert.Equal(1.0 / 5000, view.GetProperty("metrics").GetProperty("loss").GetDouble());

        var fetched = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
        Assert.Equal("completed", fetched.GetProperty("state").GetString());

        // The runs browser's query: only the finished run has a loss this low.
        var search = await client.GetFromJsonAsync<JsonElement>($"/api/runs?experiment={experimentId}&metric.loss=..0.001");
        Assert.Equal(1, search.GetProperty("total").GetInt32());
        Assert.Equal(id, search.GetProperty("items")[0].GetProperty("trial").GetProperty("id").GetString());
        var all = await client.GetFromJsonAsync<JsonElement>($"/api/runs?experiment={experimentId}");
        Assert.Equal(3, all.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Metrics_RetriedWithTheSameIdempotencyKey_LoggedOnce()
    {
        string id = (await CreateRunAsync(new { experiment = Unique("idempotent") })).GetProperty("id").GetString()!;
        async Task<HttpResponseMessage> PostAsync(string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{id}/metrics") { Content = JsonContent.Create(Points(3)) };
            if (key is not null) request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }

        var first = await PostAsync("batch-1");
        var retry = await PostAsync("batch-1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(3, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        var history = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/metrics/loss?maxResults=100");
        Assert.Equal(3, history.GetProperty("points").GetArrayLength());

        // Another key, or none, is another write.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("batch-2")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(null)).StatusCode);
        history = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/metrics/loss?maxResults=100");
        Assert.Equal(9, history.GetProperty("points").GetArrayLength());

        var tooLong = await ProblemAsync(await PostAsync(new string('k', 201)), HttpStatusCode.BadRequest);
        Assert.Equal(["Idempotency-Key"], ErrorFields(tooLong));
    }

    [Fact]
    public async Task Metrics_RetriedAfterARestart_LoggedOnce_UntilSixteenLaterKeysHaveGone()
    {
        // A client whose first attempt was stored just before the server went down retries against the new process:
        // the key is in the store, not in the old process's memory.
        var store = await server.Backend.NewStoreAsync();
        string id;
        static async Task<HttpResponseMessage> PostAsync(HttpClient to, string runId, string key, int points = 3)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{runId}/metrics") { Content = JsonContent.Create(Points(points)) };
            request.Headers.Add("Idempotency-Key", key);
            return await to.SendAsync(request);
        }
        await using (var first = new TrackerServerFactory(store))
        {
            var before = first.CreateClient();
            var created = await before.PostAsJsonAsync("/api/runs", new { experiment = Unique("restart") });
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            var stored = await PostAsync(before, id, "before-restart");
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            Assert.False(stored.Headers.Contains("Idempotent-Replayed"));
        }
        await using var second = new TrackerServerFactory(store);
        var after = second.CreateClient();
        var retry = await PostAsync(after, id, "before-restart");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(3, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        var history = await after.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/metrics/loss?maxResults=1000");
        Assert.Equal(3, history.GetProperty("points").GetArrayLength());

        // The run remembers its 16 latest keys: 15 more writes keep the first, the 16th pushes it out.
        for (int i = 1; i <= 15; i++) Assert.Equal(HttpStatusCode.OK, (await PostAsync(after, id, $"later-{i}", points: 1)).StatusCode);
        Assert.True((await PostAsync(after, id, "before-restart")).Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(after, id, "later-16", points: 1)).StatusCode);
        var forgotten = await PostAsync(after, id, "before-restart");
        Assert.Equal(HttpStatusCode.OK, forgotten.StatusCode);
        Assert.False(forgotten.Headers.Contains("Idempotent-Replayed"));
        history = await after.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/metrics/loss?maxResults=1000");
        Assert.Equal(3 + 16 + 3, history.GetProperty("points").GetArrayLength());
    }

    [Fact]
    public async Task Parameters_SameValueAgainIsFine_AnotherValueOrAFinishedRunIsAConflict()
    {
        var run = await CreateRunAsync(new { experiment = Unique("params"), parameters = new { lr = 0.1 } });
        string id = run.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/api/runs/{id}/parameters", new { lr = 0.1 })).StatusCode);

        var changed = await ProblemAsync(await client.PostAsJsonAsync($"/api/runs/{id}/parameters", new { lr = 0.2 }), HttpStatusCode.Conflict);
        Assert.Contains("lr", changed.GetProperty("detail").GetString());
        Assert.Equal(["parameters.lr"], ErrorFields(changed));

        var nested = await ProblemAsync(await client.PostAsJsonAsync($"/api/runs/{id}/parameters", new { layers = new[] { 1, 2 } }), HttpStatusCode.BadRequest);
        Assert.Equal(["parameters.layers"], ErrorFields(nested));

        Assert.Equal(HttpStatusCode.OK, (await client.PatchAsJsonAsync($"/api/runs/{id}", new { state = "failed", error = "diverged" })).StatusCode);
        var afterEnd = await ProblemAsync(await client.PostAsJsonAsync($"/api/runs/{id}/parameters", new { momentum = 0.9 }), HttpStatusCode.Conflict);
        Assert.Contains("finished", afterEnd.GetProperty("detail").GetString());
        var view = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}");
        Assert.Equal("failed", view.GetProperty("state").GetString());
        Assert.Equal("diverged", view.GetProperty("error").GetString());
        Assert.False(view.GetProperty("parameters").TryGetProperty("momentum", out _));
    }

    [Fact]
    public async Task Problems_NameWhatWasWrong()
    {
        var run = await CreateRunAsync(new { experiment = Unique("problems") });
        string id = run.GetProperty("id").GetString()!;

        var tooMany = await ProblemAsync(await client.PostAsJsonAsync($"/api/runs/{id}/metrics", Points(10_001)), HttpStatusCode.BadRequest);
        Assert.Equal(["points"], ErrorFields(tooMany));
        Assert.Contains("10000", tooMany.GetProperty("errors").GetProperty("points")[0].GetString());

        var nan = await ProblemAsync(await client.PostAsync($"/api/runs/{id}/metrics", new StringContent(
            """{ "points": [ { "key": "loss", "value": 0.5, "step": 0 }, { "key": "loss", "value": "NaN", "step": 1 } ] }""", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest);
        Assert.Equal(["points[1].value"], ErrorFields(nan));
        var emptyKey = await ProblemAsync(await client.PostAsJsonAsync($"/api/runs/{id}/metrics", new { points = new[] { new { key = "", value = 1.0, step = 0 } } }),
            HttpStatusCode.BadRequest);
        Assert.Equal(["points[0].key"], ErrorFields(emptyKey));
        // Nothing of a refused batch was kept.
        var history = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/metrics/loss");
        Assert.Empty(history.GetProperty("points").EnumerateArray());

        var badJson = await ProblemAsync(await client.PostAsync($"/api/runs/{id}/metrics", new StringContent("{ \"points\": [", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest);
        Assert.Contains("JSON", badJson.GetProperty("title").GetString());

        var bothExperiments = await ProblemAsync(await client.PostAsJsonAsync("/api/runs", new { experiment = "a", experimentId = "b" }), HttpStatusCode.BadRequest);
        Assert.Equal(["experiment"], ErrorFields(bothExperiments));
        await ProblemAsync(await client.PostAsJsonAsync("/api/runs", new { experimentId = "no-such-experiment" }), HttpStatusCode.NotFound);

        var badState = await ProblemAsync(await client.PatchAsJsonAsync($"/api/runs/{id}", new { state = "pruned" }), HttpStatusCode.BadRequest);
        Assert.Equal(["state"], ErrorFields(badState));

        var unknown = await ProblemAsync(await client.GetAsync("/api/runs/no-such-run"), HttpStatusCode.NotFound);
        Assert.Contains("no-such-run", unknown.GetProperty("detail").GetString());
        await ProblemAsync(await client.PostAsJsonAsync("/api/runs/no-such-run/metrics", Points(1)), HttpStatusCode.NotFound);
        await ProblemAsync(await client.PostAsJsonAsync("/api/runs/no-such-run/tags", new { a = "b" }), HttpStatusCode.NotFound);
        await ProblemAsync(await client.GetAsync("/api/runs/no-such-run/artifacts"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Artifacts_RoundTripAndRefusals()
    {
        var run = await CreateRunAsync(new { experiment = Unique("artifacts") });
        string id = run.GetProperty("id").GetString()!;
        byte[] png = TinyPng(1f);

        var put = await client.PutAsync($"/api/runs/{id}/artifacts/samples/cat.png?caption=first%20try&trueLabel=cat&predictedLabel=dog", Bytes(png, "image/png"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var artifact = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("samples/cat.png", artifact.GetProperty("path").GetString());
        Assert.Equal(png.Length, artifact.GetProperty("size").GetInt64());
        Assert.Equal("image/png", artifact.GetProperty("contentType").GetString());
        Assert.Equal($"/api/runs/{id}/artifacts/samples/cat.png", artifact.GetProperty("url").GetString());
        Assert.Equal("first try", artifact.GetProperty("caption").GetString());
        Assert.Equal("cat", artifact.GetProperty("trueLabel").GetString());
        Assert.Equal("dog", artifact.GetProperty("predictedLabel").GetString());

        var notes = await client.PutAsync($"/api/runs/{id}/artifacts/notes.txt", Bytes("hello"u8.ToArray(), "text/plain; charset=utf-8"));
        Assert.Equal(HttpStatusCode.Created, notes.StatusCode);
        Assert.False((await notes.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("caption", out _));

        var download = await client.GetAsync($"/api/runs/{id}/artifacts/samples/cat.png");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await download.Content.ReadAsByteArrayAsync());

        // Refused: too large (declared, and streamed with no length), a type the server does not keep, a corrupt image, a path out of the folder.
        var tooLarge = await ProblemAsync(await client.PutAsync($"/api/runs/{id}/artifacts/big.bin",
            Bytes(new byte[RunLoggingServer.MaxArtifactBytes + 1], "application/octet-stream")), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains(RunLoggingServer.MaxArtifactBytes.ToString(), tooLarge.GetProperty("detail").GetString());
        var streamed = new StreamContent(new UnknownLengthStream(RunLoggingServer.MaxArtifactBytes * 2));
        streamed.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        await ProblemAsync(await client.PutAsync($"/api/runs/{id}/artifacts/streamed.bin", streamed), HttpStatusCode.RequestEntityTooLarge);

        var html = await ProblemAsync(await client.PutAsync($"/api/runs/{id}/artifacts/page.html", Bytes("<p>hi</p>"u8.ToArray(), "text/html")),
            HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("text/html", html.GetProperty("detail").GetString());

        byte[] corrupt = png[..(png.Length / 2)];
        var broken = await ProblemAsync(await client.PutAsync($"/api/runs/{id}/artifacts/broken.png", Bytes(corrupt, "image/png")), HttpStatusCode.BadRequest);
        Assert.Contains("image/png", broken.GetProperty("detail").GetString());
        var garbage = await ProblemAsync(await client.PutAsync($"/api/runs/{id}/artifacts/garbage.png", Bytes("not an image"u8.ToArray(), "image/png")),
            HttpStatusCode.BadRequest);
        Assert.Contains("not a valid image/png", garbage.GetProperty("detail").GetString());

        // Sent as written: HttpClient (and Kestrel) resolve dot segments, so the test server takes the raw path.
        var escape = await server.Factory.Server.SendAsync(context =>
        {
            context.Request.Method = HttpMethods.Put;
            context.Request.Headers.Authorization = $"Bearer {TrackerServerFactory.TestKey}";
            context.Request.Path = $"/api/runs/{id}/artifacts/samples/../../escape.txt";
            context.Request.ContentType = "text/plain";
            context.Request.Body = new MemoryStream("x"u8.ToArray());
        });
        Assert.Equal(StatusCodes.Status400BadRequest, escape.Response.StatusCode);
        Assert.Contains("'..'", await new StreamReader(escape.Response.Body).ReadToEndAsync());
        Assert.False(File.Exists(Path.Combine(server.DataFolder, "artifacts", "escape.txt")));

        var listed = await client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/artifacts");
        Assert.Equal(["notes.txt", "samples/cat.png"], listed.EnumerateArray().Select(a => a.GetProperty("path").GetString()));
        Assert.Equal("cat", listed[1].GetProperty("trueLabel").GetString());
        Assert.Equal("text/plain", listed[0].GetProperty("contentType").GetString());
        await ProblemAsync(await client.GetAsync($"/api/runs/{id}/artifacts/broken.png"), HttpStatusCode.NotFound);

        // The run's dashboard page shows its images with their caption and labels (here as prerendered), and links its other files.
        string runPage = await client.GetStringAsync($"/trials/{id}");
        Assert.Contains($"src=\"/api/runs/{id}/artifacts/samples/cat.png\"", runPage);
        Assert.Contains("first try", runPage);
        Assert.Contains("Artifacts (2)", runPage);
        Assert.Contains($"href=\"/api/runs/{id}/artifacts/notes.txt\"", runPage);

        // MLflow's artifact listing shows the same files.
        var mlflow = await client.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/artifacts/list?run_id={id}");
        Assert.Equal(["notes.txt", "samples"], mlflow.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task Hub_JoinedToTheExperiment_ReceivesMetricsAndImagesLoggedOverRest()
    {
        var run = await CreateRunAsync(new { experiment = Unique("live") });
        string id = run.GetProperty("id").GetString()!, experimentId = run.GetProperty("experimentId").GetString()!;

        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.Factory.Server.BaseAddress, "/hubs/metrics"), o =>
            {
                o.HttpMessageHandlerFactory = _ => server.Factory.Server.CreateHandler();
                o.Transports = HttpTransportType.LongPolling;
            })
            .Build();
        var metrics = Channel.CreateUnbounded<JsonElement>();
        var images = Channel.CreateUnbounded<JsonElement>();
        connection.On<JsonElement>("metrics", m => metrics.Writer.TryWrite(m));
        connection.On<JsonElement>("images", m => images.Writer.TryWrite(m));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await connection.StartAsync(timeout.Token);
        await connection.InvokeAsync("JoinExperiment", experimentId, timeout.Token);

        var logged = await client.PostAsJsonAsync($"/api/runs/{id}/metrics", new { points = new[] { new { key = "acc", value = 0.75, step = 4 } } });
        Assert.Equal(HttpStatusCode.OK, logged.StatusCode);
        var message = await metrics.Reader.ReadAsync(timeout.Token);
        Assert.Equal(experimentId, message.GetProperty("experimentId").GetString());
        Assert.Equal(id, message.GetProperty("trialId").GetString());
        Assert.Equal(4, message.GetProperty("step").GetInt32());
        Assert.Equal(0.75, message.GetProperty("values").GetProperty("acc").GetDouble());

        var put = await client.PutAsync($"/api/runs/{id}/artifacts/pred/0.png?trueLabel=circle&predictedLabel=square", Bytes(TinyPng(0.5f), "image/png"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var announced = await images.Reader.ReadAsync(timeout.Token);
        Assert.Equal(experimentId, announced.GetProperty("experimentId").GetString());
        Assert.Equal(id, announced.GetProperty("trialId").GetString());
        var image = Assert.Single(announced.GetProperty("images").EnumerateArray());
        Assert.Equal($"/api/runs/{id}/artifacts/pred/0.png", image.GetProperty("url").GetString());
        Assert.Equal("circle", image.GetProperty("trueLabel").GetString());
        Assert.Equal("square", image.GetProperty("predictedLabel").GetString());
        Assert.False(image.TryGetProperty("caption", out _));
    }

    /// <summary>A body whose length the client cannot know, so it is sent chunked with no Content-Length.</summary>
    private sealed class UnknownLengthStream(int length) : Stream
    {
        private int left = length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, left);
            Array.Fill(buffer, (byte)7, offset, n);
            left -= n;
            return n;
        }
    }
}
