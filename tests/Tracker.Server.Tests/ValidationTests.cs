using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>Validation on LiteDB.</summary>
public sealed class LiteDbValidationTests(ValidationTests.Server server) : ValidationTests(server), IClassFixture<ValidationTests.Server>;

/// <summary>Validation on PostgreSQL.</summary>
public sealed class PostgresValidationTests(ValidationTests.PostgresServer server) : ValidationTests(server), IClassFixture<ValidationTests.PostgresServer>;

/// <summary>Bad input gets a 400 problem that names the field; nothing is stored.</summary>
public abstract class ValidationTests
{
    /// <summary>A server on LiteDB.</summary>
    public class Server : ServerFixture
    {
        public Server()
            : this(ServerBackend.LiteDb)
        {
        }

        protected Server(ServerBackend backend)
            : base(backend)
        {
        }
    }

    /// <summary>A server on PostgreSQL.</summary>
    public sealed class PostgresServer(PostgresCluster cluster) : Server(ServerBackend.Postgres(cluster));

    private readonly HttpClient client;

    protected ValidationTests(Server server) => client = server.Factory.CreateClient();

    private static JsonObject Spec() => JsonSerializer.SerializeToNode(Api.TinySpec(), Api.Json)!.AsObject();

    public static TheoryData<string, string, string> InvalidSpecs => new()
    {
        { "model", "\"no-such-model\"", "model" },
        { "strategy", "\"no-such-strategy\"", "strategy" },
        { "maxTrials", "0", "maxTrials" },
        { "maxTrials", "-3", "maxTrials" },
        { "epochs", "0", "epochs" },
        { "maxConcurrentTrials", "0", "maxConcurrentTrials" },
        { "name", "\"\"", "name" },
        { "searchSpace", """{"parameters":[{"type":"float","name":"learning_rate","low":0.1,"high":0.001}]}""", "searchSpace.learning_rate" },
        { "searchSpace", """{"parameters":[{"type":"float","name":"learning_rate","low":0.01,"high":0.01}]}""", "searchSpace.learning_rate" },
        { "searchSpace", """{"parameters":[{"type":"float","name":"learning_rate","low":0,"high":0.1,"log":true}]}""", "searchSpace.learning_rate" },
        { "searchSpace", """{"parameters":[{"type":"int","name":"width","low":8,"high":9,"step":2}]}""", "searchSpace.width" },
        { "searchSpace", """{"parameters":[{"type":"choice","name":"optimizer","values":[]}]}""", "searchSpace.optimizer" },
        { "searchSpace", """{"parameters":[{"type":"float","name":"momentum_typo","low":0.1,"high":0.9}]}""", "searchSpace.momentum_typo" },
        { "dataset", """{"name":"no-such-data"}""", "dataset.name" },
        { "dataset", """{"name":"shapes","options":{"classes":99}}""", "dataset.options.classes" },
        { "objective", """{"metric":"accuracy_typo"}""", "objective.metric" },
        { "fixed", """{"optimizer":"lion"}""", "fixed.optimizer" },
        { "searchSpace", "null", "searchSpace" },
        { "fixed", "null", "fixed" },
        { "strategyOptions", "null", "strategyOptions" },
        { "dataset", "null", "dataset" },
        { "objective", "null", "objective" },
        { "execution", "-1", "execution" },
        { "execution", "7", "execution" },
        { "seed", "-1", "seed" },
        { "initialWeights", "\"a\\u0000b.pt\"", "initialWeights" },
        { "name", "\"line\\nbreak\"", "name" },
        { "searchSpace", """{"parameters":[null]}""", "searchSpace.parameters" },
    };

    [Fact]
    public async Task PostExperiment_DiscriminatorNotFirst_Accepted()
    {
        var spec = Spec();
        spec["searchSpace"] = JsonNode.Parse("""{"parameters":[{"name":"learning_rate","low":0.001,"high":0.1,"log":true,"type":"float"}]}""");

        var response = await client.PostAsync("/api/experiments", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var parameter = created.GetProperty("spec").GetProperty("searchSpace").GetProperty("parameters")[0];
        Assert.Equal("float", parameter.GetProperty("type").GetString());
        Assert.Equal(0.1, parameter.GetProperty("high").GetDouble());
        await client.PostAsync($"/api/experiments/{created.GetProperty("id").GetString()}/cancel", null);
    }

    [Theory]
    [MemberData(nameof(InvalidSpecs), MemberType = typeof(ValidationTests))]
    public async Task PostExperiment_InvalidField_Returns400NamingTheField(string field, string json, string expectedKey)
    {
        var spec = Spec();
        spec[field] = JsonNode.Parse(json);
        var before = (await client.GetFromJsonAsync<JsonElement>("/api/experiments")).GetArrayLength();

        var response = await client.PostAsync("/api/experiments", new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(expectedKey, out var messages), $"no error for '{expectedKey}' in {errors}");
        Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
        Assert.Equal(before, (await client.GetFromJsonAsync<JsonElement>("/api/experiments")).GetArrayLength());
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("""{"name":"x","maxTrials":"many"}""")]
    [InlineData("""{"name":"x","searchSpace":{"parameters":[{"type":"gaussian","name":"lr"}]}}""")]
    [InlineData("""{"name":"x","searchSpace":{"parameters":[{}]}}""")]
    [InlineData("""{"name":"x","searchSpace":{"parameters":[{"name":"lr","low":0.1}]}}""")]
    public async Task PostExperiment_MalformedJson_Returns400Problem(string body)
    {
        var response = await client.PostAsync("/api/experiments", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("not a valid experiment spec", problem.GetProperty("title").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("/api/experiments/nope")]
    [InlineData("/api/experiments/nope/trials")]
    [InlineData("/api/trials/nope")]
    [InlineData("/api/trials/nope/metrics")]
    public async Task Get_UnknownId_Returns404Problem(string url)
    {
        var response = await client.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("nope", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Healthz_Always_ReportsOk()
    {
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task GetPlugins_BuiltIns_AreActiveWithTheirDeclarations()
    {
        var plugins = await client.GetFromJsonAsync<JsonElement>("/api/plugins");
        var byName = plugins.EnumerateArray().ToDictionary(p => p.GetProperty("info").GetProperty("name").GetString()!);

        Assert.Equal("active", byName["small-cnn"].GetProperty("info").GetProperty("status").GetString());
        Assert.Equal("model", byName["small-cnn"].GetProperty("info").GetProperty("kind").GetString());
        Assert.Equal("active", byName["random"].GetProperty("info").GetProperty("status").GetString());
        Assert.Equal("strategy", byName["random"].GetProperty("info").GetProperty("kind").GetString());
        var hyperparameters = byName["small-cnn"].GetProperty("hyperparameters").EnumerateArray().Select(h => h.GetProperty("name").GetString()).ToList();
        Assert.Contains("learning_rate", hyperparameters);
        Assert.Contains("width", hyperparameters);
    }

    [Fact]
    public async Task GetPlugins_ShowNoServerPaths()
    {
        var plugins = await client.GetFromJsonAsync<JsonElement>("/api/plugins");
        var sources = plugins.EnumerateArray().Select(p => p.GetProperty("info").GetProperty("source").GetString()!).ToList();

        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.StartsWith("built-in/", s));
        Assert.Contains("built-in/Tracker.Plugins.SmallCnn/Tracker.Plugins.SmallCnn.dll", sources);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), plugins.GetRawText());
        Assert.DoesNotContain(Tracker.Core.TrackerPaths.ContentRoot().TrimEnd('/'), plugins.GetRawText());
    }
}
