using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Tracker.Core.Experiments;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>One server per test class for the MLflow tests: they only log, so they can share it. On LiteDB.</summary>
public class MlflowServer : ServerFixture
{
    public MlflowServer()
        : this(ServerBackend.LiteDb)
    {
    }

    protected MlflowServer(ServerBackend backend)
        : base(backend)
    {
    }

    public Mlflow Api => new(Client);
}

/// <summary>The MLflow tests' server on PostgreSQL.</summary>
public sealed class PostgresMlflowServer(PostgresCluster cluster) : MlflowServer(ServerBackend.Postgres(cluster));

/// <summary>A small MLflow REST client for the tests: bodies as MLflow's clients send them, answers as JSON.</summary>
public sealed class Mlflow(HttpClient client)
{
    public const string Root = "/api/2.0/mlflow/";

    // Property names as written (run_id, not runId).
    private static readonly JsonSerializerOptions Plain = new();

    public async Task<JsonElement> PostAsync(string path, object body, HttpStatusCode expected = HttpStatusCode.OK) =>
        await PostRawAsync(path, JsonSerializer.Serialize(body, Plain), expected);

    public async Task<JsonElement> PostRawAsync(string path, string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await ExpectAsync(await client.PostAsync(Root + path, content), expected);
    }

    public async Task<JsonElement> GetAsync(string pathAndQuery, HttpStatusCode expected = HttpStatusCode.OK) =>
        await ExpectAsync(await client.GetAsync(Root + pathAndQuery), expected);

    /// <summary>Asserts MLflow's error shape: exactly error_code and a message.</summary>
    public static void AssertError(JsonElement body, string code, string? messagePart = null)
    {
        Assert.Equal(code, body.GetProperty("error_code").GetString());
        string message = body.GetProperty("message").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        if (messagePart is not null) Assert.Contains(messagePart, message);
        Assert.Equal(["error_code", "message"], body.EnumerateObject().Select(p => p.Name).Order());
    }

    public async Task<string> CreateExperimentAsync(string name, params (string Key, string Value)[] tags) =>
        (await PostAsync("experiments/create", new { name, tags = tags.Select(t => new { key = t.Key, value = t.Value }) }))
        .GetProperty("experiment_id").GetString()!;

    public async Task<JsonElement> CreateRunAsync(string experimentId, string? runName = null, long? startTime = null) =>
        (await PostAsync("runs/create", new { experiment_id = experimentId, run_name = runName, start_time = startTime ?? 1_700_000_000_000, tags = Array.Empty<object>() }))
        .GetProperty("run");

    public async Task<string> CreateRunIdAsync(string experimentId, string? runName = null, long? startTime = null) =>
        (await CreateRunAsync(experimentId, runName, startTime)).GetProperty("info").GetProperty("run_id").GetString()!;

    public Task<JsonElement> LogBatchAsync(string runId, IEnumerable<object>? metrics = null, IEnumerable<object>? parameters = null,
        IEnumerable<object>? tags = null, HttpStatusCode expected = HttpStatusCode.OK) =>
        PostAsync("runs/log-batch", new { run_id = runId, metrics = metrics ?? [], @params = parameters ?? [], tags = tags ?? [] }, expected);

    public async Task<JsonElement> GetRunAsync(string runId) => (await GetAsync($"runs/get?run_id={runId}")).GetProperty("run");

    public static object Metric(string key, double value, long timestamp = 1_700_000_000_000, long step = 0) => new { key, value, timestamp, step };

    public static object Pair(string key, string value) => new { key, value };

    public static Dictionary<string, string> Pairs(JsonElement array) =>
        array.EnumerateArray().ToDictionary(p => p.GetProperty("key").GetString()!, p => p.GetProperty("value").GetString()!);

    public static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    private static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

/// <summary>The MLflow experiments endpoints, MLflow's error shape, bad requests and unknown ids.</summary>
public sealed class MlflowApiTests(MlflowServer server) : IClassFixture<MlflowServer>
{
    private readonly Mlflow api = server.Api;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task CreateAndGet_Experiment_HasMlflowShape()
    {
        string name = Unique("shape");
        var created = await api.PostAsync("experiments/create", new { name, tags = new[] { Mlflow.Pair("owner", "ada") } });
        Assert.Equal(["experiment_id"], Mlflow.Names(created));
        string id = created.GetProperty("experiment_id").GetString()!;

        var experiment = (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal(["artifact_location", "creation_time", "experiment_id", "last_update_time", "lifecycle_stage", "name", "tags"], Mlflow.Names(experiment));
        Assert.Equal(id, experiment.GetProperty("experiment_id").GetString());
        Assert.Equal(name, experiment.GetProperty("name").GetString());
        Assert.Equal("active", experiment.GetProperty("lifecycle_stage").GetString());
        Assert.StartsWith("file:", experiment.GetProperty("artifact_location").GetString());
        long created_ = experiment.GetProperty("creation_time").GetInt64();
        Assert.InRange(created_, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.True(experiment.GetProperty("last_update_time").GetInt64() >= created_);
        Assert.Equal(new Dictionary<string, string> { ["owner"] = "ada" }, Mlflow.Pairs(experiment.GetProperty("tags")));

        var byName = (await api.GetAsync($"experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}")).GetProperty("experiment");
        Assert.Equal(id, byName.GetProperty("experiment_id").GetString());
    }

    [Fact]
    public async Task Create_WithArtifactLocation_RunsKeepArtifactsBelowIt()
    {
        // A location inside the server's artifact folder (one outside it is refused: ArtifactSafetyTests).
        string location = new Uri(Path.Combine(server.Factory.ArtifactRoot, "team")).AbsoluteUri;
        var id = (await api.PostAsync("experiments/create", new { name = Unique("team"), artifact_location = location })).GetProperty("experiment_id").GetString()!;
        var experiment = (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal(location, experiment.GetProperty("artifact_location").GetString());
        var run = await api.CreateRunAsync(id);
        string runId = run.GetProperty("info").GetProperty("run_id").GetString()!;
        Assert.Equal($"{location}/{runId}/artifacts", run.GetProperty("info").GetProperty("artifact_uri").GetString());
    }

    [Fact]
    public async Task Create_DuplicateName_ResourceAlreadyExists()
    {
        string name = Unique("dup");
        await api.CreateExperimentAsync(name);
        var error = await api.PostAsync("experiments/create", new { name }, HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "RESOURCE_ALREADY_EXISTS", name);
    }

    [Fact]
    public async Task Create_NameOfADeletedExperiment_ResourceAlreadyExists()
    {
        string name = Unique("gone");
        string id = await api.CreateExperimentAsync(name);
        await api.PostAsync("experiments/delete", new { experiment_id = id });
        Mlflow.AssertError(await api.PostAsync("experiments/create", new { name }, HttpStatusCode.BadRequest), "RESOURCE_ALREADY_EXISTS");
    }

    [Theory]
    [InlineData("{\"name\": \"\"}", "Missing value for required parameter 'name'")]
    [InlineData("{}", "Missing value for required parameter 'name'")]
    [InlineData("{\"name\": {\"nested\": true}}", "parameter 'name'")]
    [InlineData("{\"name\": \"ok\", \"tags\": [{\"key\": \"a//b\", \"value\": \"x\"}]}", "Invalid tag name")]
    [InlineData("{\"name\": \"ok\", \"artifact_location\": \"runs:/abc\"}", "runs:/")]
    public async Task Create_InvalidRequest_InvalidParameterValue(string body, string messagePart)
    {
        var error = await api.PostRawAsync("experiments/create", body, HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", messagePart);
    }

    [Fact]
    public async Task Create_NameTooLong_InvalidParameterValue()
    {
        Mlflow.AssertError(await api.PostAsync("experiments/create", new { name = new string('x', 501) }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "500");
    }

    [Fact]
    public async Task DefaultExperiment_IdZero_ExistsAndTakesRunsWithoutExperiment()
    {
        var experiment = (await api.GetAsync("experiments/get?experiment_id=0")).GetProperty("experiment");
        Assert.Equal("Default", experiment.GetProperty("name").GetString());
        var byName = (await api.GetAsync("experiments/get-by-name?experiment_name=Default")).GetProperty("experiment");
        Assert.Equal("0", byName.GetProperty("experiment_id").GetString());

        var run = (await api.PostAsync("runs/create", new { start_time = 1_700_000_000_000 })).GetProperty("run");
        Assert.Equal("0", run.GetProperty("info").GetProperty("experiment_id").GetString());
        Mlflow.AssertError(await api.PostAsync("experiments/delete", new { experiment_id = "0" }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "default experiment");
    }

    [Fact]
    public async Task Search_FilterOrderAndPageTokens_PageThroughMatches()
    {
        string prefix = Unique("search");
        foreach (var suffix in new[] { "a", "b", "c" }) await api.CreateExperimentAsync($"{prefix}-{suffix}", ("kind", suffix == "b" ? "odd" : "even"));

        var first = await api.PostAsync("experiments/search", new { filter = $"name LIKE '{prefix}-%'", order_by = new[] { "name DESC" }, max_results = 2 });
        Assert.Equal([$"{prefix}-c", $"{prefix}-b"], first.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        string token = first.GetProperty("next_page_token").GetString()!;
        var second = await api.PostAsync("experiments/search", new { filter = $"name LIKE '{prefix}-%'", order_by = new[] { "name DESC" }, max_results = 2, page_token = token });
        Assert.Equal([$"{prefix}-a"], second.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.False(second.TryGetProperty("next_page_token", out _));

        // The same search over GET, with a tag filter.
        var byTag = await api.GetAsync($"experiments/search?filter={Uri.EscapeDataString($"tags.kind = 'even' AND name ILIKE '{prefix.ToUpperInvariant()}%'")}&order_by=name%20ASC");
        Assert.Equal([$"{prefix}-a", $"{prefix}-c"], byTag.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("{\"filter\": \"name = experiment\"}", "quoted")]
    [InlineData("{\"filter\": \"metrics.f1 > 1\"}", "metrics")]
    [InlineData("{\"filter\": \"name > 'a'\"}", "string")]
    [InlineData("{\"order_by\": [\"tags.kind DESC\"]}", "tags")]
    [InlineData("{\"max_results\": 50001}", "50000")]
    [InlineData("{\"page_token\": \"not-a-token\"}", "page token")]
    [InlineData("{\"view_type\": \"SOME\"}", "view_type")]
    public async Task Search_InvalidRequest_InvalidParameterValue(string body, string messagePart)
    {
        Mlflow.AssertError(await api.PostRawAsync("experiments/search", body, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE", messagePart);
    }

    [Fact]
    public async Task List_ViewTypes_SeparateActiveAndDeleted()
    {
        string live = await api.CreateExperimentAsync(Unique("live")), dead = await api.CreateExperimentAsync(Unique("dead"));
        await api.PostAsync("experiments/delete", new { experiment_id = dead });

        static string[] Ids(JsonElement page) => page.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("experiment_id").GetString()!).ToArray();
        var active = Ids(await api.GetAsync("experiments/list"));
        Assert.Contains(live, active);
        Assert.DoesNotContain(dead, active);
        var deleted = Ids(await api.GetAsync("experiments/list?view_type=DELETED_ONLY"));
        Assert.Contains(dead, deleted);
        Assert.DoesNotContain(live, deleted);
        var all = Ids(await api.GetAsync("experiments/list?view_type=ALL&max_results=50000"));
        Assert.Contains(dead, all);
        Assert.Contains(live, all);
    }

    [Fact]
    public async Task UpdateDeleteRestore_Lifecycle_FollowsMlflow()
    {
        string name = Unique("life");
        string id = await api.CreateExperimentAsync(name);
        string runId = await api.CreateRunIdAsync(id);

        Assert.Empty((await api.PostAsync("experiments/update", new { experiment_id = id, new_name = name + "-renamed" })).EnumerateObject());
        Assert.Equal(name + "-renamed", (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("name").GetString());
        string other = await api.CreateExperimentAsync(name + "-other");
        Mlflow.AssertError(await api.PostAsync("experiments/update", new { experiment_id = other, new_name = name + "-renamed" }, HttpStatusCode.BadRequest),
            "RESOURCE_ALREADY_EXISTS");

        await api.PostAsync("experiments/delete", new { experiment_id = id });
        var deleted = (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment");
        Assert.Equal("deleted", deleted.GetProperty("lifecycle_stage").GetString());
        Assert.Equal("deleted", (await api.GetRunAsync(runId)).GetProperty("info").GetProperty("lifecycle_stage").GetString());
        Mlflow.AssertError(await api.PostAsync("runs/create", new { experiment_id = id }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE", "active");
        Mlflow.AssertError(await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "k", value = "v" }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "active");
        Mlflow.AssertError(await api.PostAsync("experiments/update", new { experiment_id = id, new_name = "x" + name }, HttpStatusCode.BadRequest),
            "INVALID_PARAMETER_VALUE", "non-active");

        await api.PostAsync("experiments/restore", new { experiment_id = id });
        Assert.Equal("active", (await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("lifecycle_stage").GetString());
        Assert.Equal("active", (await api.GetRunAsync(runId)).GetProperty("info").GetProperty("lifecycle_stage").GetString());
        Mlflow.AssertError(await api.PostAsync("experiments/restore", new { experiment_id = id }, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [Fact]
    public async Task SetAndDeleteExperimentTag_ChangeTheTags()
    {
        string id = await api.CreateExperimentAsync(Unique("tags"));
        await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "team", value = "vision" });
        await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "team", value = "nlp" });
        await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "note", value = "" });
        var tags = Mlflow.Pairs((await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("tags"));
        Assert.Equal(new Dictionary<string, string> { ["note"] = "", ["team"] = "nlp" }, tags);

        await api.PostAsync("experiments/delete-experiment-tag", new { experiment_id = id, key = "note" });
        Assert.DoesNotContain("note", Mlflow.Pairs((await api.GetAsync($"experiments/get?experiment_id={id}")).GetProperty("experiment").GetProperty("tags")).Keys);
        Mlflow.AssertError(await api.PostAsync("experiments/delete-experiment-tag", new { experiment_id = id, key = "note" }, HttpStatusCode.NotFound),
            "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task ObjectiveTag_RanksRunsByTheNamedMetric()
    {
        string id = await api.CreateExperimentAsync(Unique("objective"), ("tracker.objective", "acc"));
        string runId = await api.CreateRunIdAsync(id);
        await api.LogBatchAsync(runId, [Mlflow.Metric("acc", 0.8, step: 1), Mlflow.Metric("loss", 0.3, step: 1)]);
        var trial = Assert.Single(await Api.TrialsAsync(server.Client, id));
        Assert.Equal(0.8, trial.Objective);

        await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "tracker.objective", value = "loss" });
        await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "tracker.direction", value = "minimize" });
        trial = Assert.Single(await Api.TrialsAsync(server.Client, id));
        Assert.Equal(0.3, trial.Objective);
        Assert.Equal([new Abstractions.IntermediateValue(1, 0.3)], trial.Intermediate);
        var summary = (await server.Client.GetFromJsonAsync<ExperimentSummary>($"/api/experiments/{id}", Api.Json))!;
        Assert.Equal("loss", summary.Experiment.Spec.Objective.Metric);
        Assert.Equal(Abstractions.ObjectiveDirection.Minimize, summary.Experiment.Spec.Objective.Direction);

        Mlflow.AssertError(await api.PostAsync("experiments/set-experiment-tag", new { experiment_id = id, key = "tracker.direction", value = "sideways" },
            HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE", "tracker.direction");
    }

    [Fact]
    public async Task LoggedExperiments_AreTrackerExperiments_AndTrackerOwnAreNotMlflowExperiments()
    {
        string id = await api.CreateExperimentAsync(Unique("visible"));
        var experiments = (await server.Client.GetFromJsonAsync<List<ExperimentSummary>>("/api/experiments", Api.Json))!;
        Assert.Equal(TrialExecution.Logged, experiments.Single(e => e.Experiment.Id == id).Experiment.Spec.Execution);

        // A logged experiment made through Tracker's own API is an MLflow experiment too.
        var made = await Api.CreateAsync(server.Client, new { name = Unique("made"), execution = "logged" });
        Assert.Equal(made.Spec.Name, (await api.GetAsync($"experiments/get?experiment_id={made.Id}")).GetProperty("experiment").GetProperty("name").GetString());

        // An ask/tell experiment is not.
        var external = await Api.CreateAsync(server.Client, new
        {
            name = "external", execution = "external", strategy = "random", objective = new { metric = "loss", direction = "minimize" },
            searchSpace = new { parameters = new object[] { new { type = "float", name = "x", low = 0.0, high = 1.0 } } }, maxTrials = 1,
        });
        Mlflow.AssertError(await api.GetAsync($"experiments/get?experiment_id={external.Id}", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2, 3]")]
    [InlineData("\"just a string\"")]
    [InlineData("{\"experiment_id\": \"0\", \"start_time\": \"soon\"}")]
    [InlineData("{\"experiment_id\": \"0\", \"tags\": {\"key\": \"a\"}}")]
    [InlineData("{\"experiment_id\": \"0\", \"tags\": [{\"value\": \"no key\"}]}")]
    public async Task BadJson_InvalidParameterValueInMlflowShape(string body)
    {
        Mlflow.AssertError(await api.PostRawAsync("runs/create", body, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [Theory]
    [InlineData("{\"run_id\": \"r\", \"key\": \"m\", \"value\": {}, \"timestamp\": 1}")]
    [InlineData("{\"run_id\": \"r\", \"key\": \"m\", \"value\": 1, \"timestamp\": 1, \"step\": \"abc\"}")]
    [InlineData("{\"run_id\": \"r\", \"key\": \"m\", \"value\": 1, \"timestamp\": 1.5}")]
    [InlineData("{\"run_id\": \"r\", \"key\": \"m\", \"timestamp\": 1}")]
    [InlineData("{\"key\": \"m\", \"value\": 1, \"timestamp\": 1}")]
    public async Task LogMetric_MalformedFields_InvalidParameterValue(string body)
    {
        Mlflow.AssertError(await api.PostRawAsync("runs/log-metric", body, HttpStatusCode.BadRequest), "INVALID_PARAMETER_VALUE");
    }

    [Theory]
    [InlineData("GET", "experiments/get?experiment_id=nope")]
    [InlineData("GET", "runs/get?run_id=nope")]
    [InlineData("GET", "runs/get?run_uuid=nope")]
    [InlineData("GET", "metrics/get-history?run_id=nope&metric_key=loss")]
    [InlineData("GET", "artifacts/list?run_id=nope")]
    [InlineData("POST", "experiments/update", "{\"experiment_id\": \"nope\", \"new_name\": \"x\"}")]
    [InlineData("POST", "experiments/delete", "{\"experiment_id\": \"nope\"}")]
    [InlineData("POST", "experiments/restore", "{\"experiment_id\": \"nope\"}")]
    [InlineData("POST", "experiments/set-experiment-tag", "{\"experiment_id\": \"nope\", \"key\": \"k\", \"value\": \"v\"}")]
    [InlineData("POST", "runs/create", "{\"experiment_id\": \"nope\"}")]
    [InlineData("POST", "runs/update", "{\"run_id\": \"nope\", \"status\": \"FINISHED\"}")]
    [InlineData("POST", "runs/delete", "{\"run_id\": \"nope\"}")]
    [InlineData("POST", "runs/restore", "{\"run_id\": \"nope\"}")]
    [InlineData("POST", "runs/log-metric", "{\"run_id\": \"nope\", \"key\": \"m\", \"value\": 1, \"timestamp\": 1}")]
    [InlineData("POST", "runs/log-batch", "{\"run_id\": \"nope\", \"metrics\": [{\"key\": \"m\", \"value\": 1, \"timestamp\": 1}]}")]
    [InlineData("POST", "runs/log-parameter", "{\"run_id\": \"nope\", \"key\": \"p\", \"value\": \"1\"}")]
    [InlineData("POST", "runs/set-tag", "{\"run_id\": \"nope\", \"key\": \"t\", \"value\": \"1\"}")]
    [InlineData("POST", "runs/delete-tag", "{\"run_id\": \"nope\", \"key\": \"t\"}")]
    public async Task UnknownIds_ResourceDoesNotExist(string method, string path, string? body = null)
    {
        var error = method == "GET" ? await api.GetAsync(path, HttpStatusCode.NotFound) : await api.PostRawAsync(path, body!, HttpStatusCode.NotFound);
        Mlflow.AssertError(error, "RESOURCE_DOES_NOT_EXIST", "nope");
    }

    [Fact]
    public async Task UnknownName_ResourceDoesNotExist()
    {
        Mlflow.AssertError(await api.GetAsync("experiments/get-by-name?experiment_name=no-such-experiment", HttpStatusCode.NotFound), "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task Get_JsonBodyWithoutQueryString_ReadsTheBody()
    {
        // MLflow reads a GET's query string, or its JSON body when there is no query string.
        using var request = new HttpRequestMessage(HttpMethod.Get, Mlflow.Root + "experiments/get")
        {
            Content = new StringContent("{\"experiment_id\": \"0\"}", Encoding.UTF8, "application/json"),
        };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Default", body.GetProperty("experiment").GetProperty("name").GetString());
    }

    [Fact]
    public async Task UnknownEndpoint_EndpointNotFound()
    {
        Mlflow.AssertError(await api.GetAsync("runs/teleport", HttpStatusCode.NotFound), "ENDPOINT_NOT_FOUND");
        Mlflow.AssertError(await api.GetAsync("runs/create", HttpStatusCode.NotFound), "ENDPOINT_NOT_FOUND"); // POST only
    }
}
