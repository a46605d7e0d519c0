using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Tracker.Server.Tests;

/// <summary>
/// Random and mutated input to the readers of untrusted requests: experiment specs, MLflow's run-search filters and
/// log-batch bodies, and the runs browser's query string. Whatever arrives, the answer is never a 5xx, each request
/// ends within its time, and the server still answers afterwards. A failure prints the seed that reproduces it.
/// </summary>
public sealed class FuzzTests(FuzzTests.Server server) : IClassFixture<FuzzTests.Server>
{
    /// <summary>A server without model or strategy plugins, so that no spec the fuzzing makes valid starts training.</summary>
    public sealed class Server : IAsyncDisposable
    {
        public Server()
        {
            string data = TrackerServerFactory.NewDataFolder();
            Directory.CreateDirectory(Path.Combine(data, "no-plugins"));
            Factory = new TrackerServerFactory(data)
            {
                Settings = new Dictionary<string, string> { ["Plugins:BuiltInFolder"] = Path.Combine(data, "no-plugins") },
            };
        }

        public TrackerServerFactory Factory { get; }

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private const int Iterations = 150;
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(20);
    private readonly HttpClient client = server.Factory.CreateClient();

    // Values that break naive readers: nulls, wrong types, extremes, control characters, deep and empty containers.
    private static readonly Gen<JsonNode?> OddValue = Gen.OneOf<Func<JsonNode?>>(
        () => null, () => JsonValue.Create(-1), () => JsonValue.Create(0), () => JsonValue.Create(2147483648L),
        () => JsonValue.Create(-1e308), () => JsonValue.Create(1e308), () => JsonValue.Create(1.5), () => JsonValue.Create(""),
        () => JsonValue.Create("\u0000\u001f"), () => JsonValue.Create(new string('x', 5000)), () => JsonValue.Create(true),
        () => new JsonArray(), () => new JsonObject(), () => new JsonArray(JsonValue.Create(1), null, new JsonObject()),
        () => JsonNode.Parse("""{"type":"float","name":"learning_rate","low":"a"}"""), () => JsonValue.Create("NaN"),
        () => JsonValue.Create("float"), () => JsonValue.Create("choice"), () => JsonValue.Create(-2147483648))
        .Select(make => make());

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using var timeout = new CancellationTokenSource(PerRequest);
        var response = await client.SendAsync(request, timeout.Token);
        await response.Content.LoadIntoBufferAsync(timeout.Token);
        return response;
    }

    private static void AssertNo5xx(HttpResponseMessage response, string input) =>
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {input}: {response.Content.ReadAsStringAsync().Result}");

    private async Task AssertStillServingAsync() =>
        Assert.Equal("ok", (await client.GetFromJsonAsync<JsonElement>("/healthz")).GetProperty("status").GetString());

    /// <summary>Every object and array inside <paramref name="node"/>, itself included.</summary>
    private static List<JsonNode> Containers(JsonNode node)
    {
        var found = new List<JsonNode> { node };
        IEnumerable<JsonNode?> children = node switch { JsonObject o => o.Select(p => p.Value), JsonArray a => a, _ => [] };
        foreach (var child in children)
            if (child is JsonObject or JsonArray) found.AddRange(Containers(child));
        return found;
    }

    /// <summary>Applies one mutation, chosen by <paramref name="kind"/>, at the container picked by <paramref name="where"/>.</summary>
    private static void Mutate(JsonNode root, int kind, int where, JsonNode? value)
    {
        var containers = Containers(root);
        var target = containers[where % containers.Count];
        if (target is JsonObject obj && obj.Count > 0)
        {
            var names = obj.Select(p => p.Key).ToList();
            string name = names[where % names.Count];
            switch (kind)
            {
                case 0: obj[name] = value; break;                       // a field gets an odd value
                case 1: obj.Remove(name); break;                         // a field goes missing
                case 2:                                                  // the same field again in another case
                    var copy = obj[name]?.DeepClone();
                    obj[name.ToUpperInvariant() == name ? name.ToLowerInvariant() : name.ToUpperInvariant()] = copy;
                    break;
                default:                                                 // the properties in another order
                    var pairs = obj.Select(p => (p.Key, Value: p.Value?.DeepClone())).ToList();
                    obj.Clear();
                    foreach (var (k, v) in pairs.AsEnumerable().Reverse()) obj[k] = v;
                    break;
            }
        }
        else if (target is JsonArray array)
        {
            if (kind % 2 == 0 || array.Count == 0) array.Add(value);
            else array[where % array.Count] = value;
        }
    }

    [Fact]
    public async Task ExperimentSpecs_Mutated_NeverA5xx()
    {
        var valid = JsonSerializer.SerializeToNode(Api.TinySpec(), Api.Json)!.AsObject();
        valid["execution"] = "external";
        await PostMutatedAsync("/api/experiments", valid, maxMutations: 5);
    }

    /// <summary>
    /// Posts <see cref="Iterations"/> copies of <paramref name="valid"/>, each with 1 to <paramref name="maxMutations"/>
    /// mutations, to <paramref name="path"/>; none may answer a 5xx, and the server must answer afterwards.
    /// </summary>
    private async Task PostMutatedAsync(string path, JsonNode valid, int maxMutations)
    {
        var mutations = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 1000], OddValue).Array[1, maxMutations];
        await mutations.SampleAsync(async steps =>
        {
            var body = valid.DeepClone();
            foreach (var (kind, where, value) in steps) Mutate(body, kind, where, value?.DeepClone());
            await PostAsync(path, body.ToJsonString());
        }, iter: Iterations, threads: 1);
        await AssertStillServingAsync();
    }

    /// <summary>Posts a JSON body and asserts that the answer is not a 5xx.</summary>
    private async Task PostAsync(string path, string body)
    {
        var response = await SendAsync(new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });
        AssertNo5xx(response, body);
    }

    private static readonly string[] FilterTokens =
    [
        "metrics.acc", "params.lr", "tags.team", "tags.`a b`", "attributes.status", "attributes.run_name", "run_name", "status",
        "attributes.start_time", "metric.x", "=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "IN", "NOT IN", "'x'", "'%a%a%a%a%b'",
        "'FINISHED'", "0.5", "-1e309", "1e999", "(", ")", ",", "AND", "and", "OR", "'", "\"", "`", "%", "_", "''", "'\u0000'", "NULL",
    ];

    [Fact]
    public async Task MlflowRunSearchFilters_Random_NeverA5xx()
    {
        var searches = Gen.Select(Gen.Int[0, FilterTokens.Length - 1].Array[0, 12], Gen.Int[0, FilterTokens.Length - 1].Array[0, 3],
            Gen.Int[-5, 60000], Gen.Bool);

        await searches.SampleAsync(async search =>
        {
            var (filter, order, maxResults, spaced) = search;
            var body = new JsonObject
            {
                ["experiment_ids"] = new JsonArray("0"),
                ["filter"] = string.Join(spaced ? " " : "", filter.Select(i => FilterTokens[i])),
                ["order_by"] = new JsonArray([.. order.Select(i => (JsonNode?)JsonValue.Create(FilterTokens[i] + (i % 2 == 0 ? " DESC" : "")))]),
                ["max_results"] = maxResults,
            }.ToJsonString();
            await PostAsync("/api/2.0/mlflow/runs/search", body);
        }, iter: Iterations, threads: 1);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task MlflowLogBatch_Mutated_NeverA5xx()
    {
        var created = await client.PostAsync("/api/2.0/mlflow/runs/create",
            new StringContent("""{"experiment_id":"0","run_name":"fuzz"}""", Encoding.UTF8, "application/json"));
        string runId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        var valid = JsonNode.Parse($$"""
            {"run_id":"{{runId}}","metrics":[{"key":"loss","value":0.5,"timestamp":1700000000000,"step":1}],
             "params":[{"key":"lr","value":"0.01"}],"tags":[{"key":"team","value":"vision"}]}
            """)!;
        await PostMutatedAsync("/api/2.0/mlflow/runs/log-batch", valid, maxMutations: 4);
    }

    private static readonly string[] QueryKeys = ["experiment", "model", "strategy", "state", "tag", "q", "param.lr", "metric.val_f1_macro", "sort", "desc", "page", "pageSize", "lifecycle"];
    private static readonly string[] QueryValues =
        ["", "x", "completed", "-1", "0", "99999999999", "0.1..0.01", "..", "1..", "..2", "metric:", "param:lr", "metric:val_f1_macro", "number", "true", "maybe", "%", "%00", "1e309", "NaN", "a..b"];

    [Fact]
    public async Task RunsBrowserQueries_Random_NeverA5xx()
    {
        var queries = Gen.Select(Gen.Int[0, QueryKeys.Length - 1], Gen.Int[0, QueryValues.Length - 1]).Array[0, 6];

        await queries.SampleAsync(async pairs =>
        {
            string query = string.Join('&', pairs.Select(p => $"{QueryKeys[p.Item1]}={Uri.EscapeDataString(QueryValues[p.Item2])}"));
            var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/trials?" + query));
            AssertNo5xx(response, query);
        }, iter: Iterations, threads: 1);
        await AssertStillServingAsync();
    }
}
