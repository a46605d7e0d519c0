using System.Net;
using System.Text.Json;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>runs/search on LiteDB.</summary>
public sealed class LiteDbMlflowSearchApiTests(MlflowServer server) : MlflowSearchApiTests(server), IClassFixture<MlflowServer>;

/// <summary>runs/search on PostgreSQL.</summary>
public sealed class PostgresMlflowSearchApiTests(PostgresMlflowServer server) : MlflowSearchApiTests(server), IClassFixture<PostgresMlflowServer>;

/// <summary>runs/search: MLflow's filter syntax, order_by and page tokens over five logged runs.</summary>
public abstract class MlflowSearchApiTests(MlflowServer server) : IAsyncLifetime
{
    private const long T0 = 1_700_000_000_000;
    private readonly Mlflow api = server.Api;
    private string experimentId = "";
    private readonly List<string> runIds = [];

    // Run i starts at T0 + 1000 i. Run 4 has no f1.
    private static readonly double?[] F1 = [0.5, 0.9, 0.7, 0.6, null];
    private static readonly double[] ValLoss = [0.5, 0.1, 0.3, 0.4, 0.2];
    private static readonly string[] Optimizer = ["adam", "sgd", "adam", "AdamW", "sgd"];
    private static readonly string[] LearningRate = ["0.1", "0.01", "0.001", "0.01", "0.1"];
    private static readonly string[] Team = ["vision", "nlp", "vision", "Vision", "nlp"];
    private static readonly string[] Status = ["FINISHED", "FINISHED", "FAILED", "RUNNING", "KILLED"];

    public async ValueTask InitializeAsync()
    {
        experimentId = await api.CreateExperimentAsync($"search-{Guid.NewGuid():N}");
        for (int i = 0; i < 5; i++)
        {
            string runId = await api.CreateRunIdAsync(experimentId, $"run-{i}", T0 + 1000 * i);
            runIds.Add(runId);
            var metrics = new List<object> { Mlflow.Metric("val loss", ValLoss[i], T0 + 1000 * i + 1) };
            if (F1[i] is { } f1) metrics.Add(Mlflow.Metric("f1", f1, T0 + 1000 * i + 1));
            await api.LogBatchAsync(runId, metrics, [Mlflow.Pair("optimizer", Optimizer[i]), Mlflow.Pair("lr", LearningRate[i])], [Mlflow.Pair("team", Team[i])]);
            await api.PostAsync("runs/update", new { run_id = runId, status = Status[i] });
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<JsonElement> SearchAsync(object body, HttpStatusCode expected = HttpStatusCode.OK) => await api.PostAsync("runs/search", body, expected);

    private async Task<int[]> IndicesAsync(string? filter = null, string[]? orderBy = null)
    {
        var page = await SearchAsync(new { experiment_ids = new[] { experimentId }, filter, order_by = orderBy ?? [] });
        return page.GetProperty("runs").EnumerateArray().Select(r => runIds.IndexOf(r.GetProperty("info").GetProperty("run_id").GetString()!)).ToArray();
    }

    [Theory]
    [InlineData("metrics.f1 > 0.6", new[] { 1, 2 })]
    [InlineData("metrics.f1 >= 0.6", new[] { 1, 2, 3 })]
    [InlineData("metrics.f1 < 0.6", new[] { 0 })]
    [InlineData("metrics.f1 <= 0.6", new[] { 0, 3 })]
    [InlineData("metrics.f1 = 0.9", new[] { 1 })]
    [InlineData("metrics.f1 != 0.9", new[] { 0, 2, 3 })] // a run without the metric never matches
    [InlineData("metric.f1>0.65", new[] { 1, 2 })]
    [InlineData("metrics.`val loss` < 0.35", new[] { 1, 2, 4 })]
    [InlineData("metrics.\"val loss\" >= 0.4", new[] { 0, 3 })]
    [InlineData("params.optimizer = 'adam'", new[] { 0, 2 })]
    [InlineData("params.optimizer != 'adam'", new[] { 1, 3, 4 })]
    [InlineData("params.optimizer LIKE 'adam%'", new[] { 0, 2 })]
    [InlineData("params.optimizer ILIKE 'adam%'", new[] { 0, 2, 3 })]
    [InlineData("param.lr = \"0.01\"", new[] { 1, 3 })]
    [InlineData("params.lr LIKE '0.0_'", new[] { 1, 3 })]
    [InlineData("tags.team = 'vision'", new[] { 0, 2 })]
    [InlineData("tags.team ILIKE 'VISION'", new[] { 0, 2, 3 })]
    [InlineData("tags.team LIKE '_lp'", new[] { 1, 4 })]
    [InlineData("tags.`team` like '%o%'", new[] { 0, 2, 3 })]
    [InlineData("attributes.status = 'FINISHED'", new[] { 0, 1 })]
    [InlineData("status != 'FINISHED'", new[] { 2, 3, 4 })]
    [InlineData("attributes.run_name LIKE 'run-%'", new[] { 0, 1, 2, 3, 4 })]
    [InlineData("attributes.run_name IN ('run-1', 'run-3')", new[] { 1, 3 })]
    [InlineData("attributes.run_name NOT IN ('run-1', 'run-3')", new[] { 0, 2, 4 })]
    [InlineData("attributes.start_time >= 1700000003000", new[] { 3, 4 })]
    [InlineData("created < 1700000001000", new[] { 0 })]
    [InlineData("attributes.end_time > 0", new int[0])]
    [InlineData("params.missing = 'x'", new int[0])]
    [InlineData("metrics.f1 > 0.55 AND params.optimizer = 'adam' and tags.team = 'vision'", new[] { 2 })]
    [InlineData("  metrics.f1 > 0.55   AND   attributes.status = 'FINISHED'  ", new[] { 1 })]
    public async Task Filter_MlflowSyntax_MatchesExpectedRuns(string filter, int[] expected)
    {
        Assert.Equal(expected, (await IndicesAsync(filter)).Order());
    }

    [Fact]
    public async Task Filter_RunIdIn_MatchesThoseRuns()
    {
        string filter = $"attributes.run_id IN ('{runIds[0]}', '{runIds[4]}')";
        Assert.Equal([0, 4], (await IndicesAsync(filter)).Order());
    }

    [Theory]
    [InlineData("metrics.f1 > 'high'", "number")]
    [InlineData("metrics.f1 LIKE '0.%'", "number")]
    [InlineData("params.lr > 0.01", "string")]
    [InlineData("params.optimizer = adam", "quoted")]
    [InlineData("tags.team IN ('a')", "string")]
    [InlineData("foo.bar = 'x'", "entity")]
    [InlineData("attributes.nope = 'x'", "nope")]
    [InlineData("metrics.f1 > 0.5 OR metrics.f1 < 0.2", "OR")]
    [InlineData("metrics.f1 >", "end")]
    [InlineData("params.optimizer = 'adam", "never closed")]
    [InlineData("metrics.f1 > 0.5 metrics.f1 < 0.9", "AND")]
    [InlineData("attributes.start_time > 'yesterday'", "number")]
    [InlineData("attributes.run_name IN ()", "empty")]
    [InlineData("datasets.name = 'mnist'", "dataset")]
    [InlineData("metrics. > 1", "key")]
    [InlineData("metrics.f1 == 1", "number")]
    public async Task Filter_Invalid_InvalidParameterValueSaysWhy(string filter, string messagePart)
    {
        var error = await SearchAsync(new { experiment_ids = new[] { experimentId }, filter }, HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", messagePart);
        Assert.Contains("position", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(new[] { "metrics.f1 DESC" }, new[] { 1, 2, 3, 0, 4 })] // a run without the metric comes last
    [InlineData(new[] { "metrics.f1 ASC" }, new[] { 0, 3, 2, 1, 4 })]
    [InlineData(new[] { "metrics.f1" }, new[] { 0, 3, 2, 1, 4 })]
    [InlineData(new[] { "metrics.`val loss` desc" }, new[] { 0, 3, 2, 4, 1 })]
    [InlineData(new[] { "params.optimizer ASC", "metrics.f1 DESC" }, new[] { 3, 2, 0, 1, 4 })]
    [InlineData(new[] { "attributes.start_time ASC" }, new[] { 0, 1, 2, 3, 4 })]
    [InlineData(new string[0], new[] { 4, 3, 2, 1, 0 })] // MLflow's default: newest first
    [InlineData(new[] { "tags.team" }, new[] { 3, 4, 1, 2, 0 })] // ties: newest first
    [InlineData(new[] { "attributes.status DESC", "run_name" }, new[] { 3, 4, 0, 1, 2 })]
    public async Task OrderBy_SortsRuns(string[] orderBy, int[] expected)
    {
        Assert.Equal(expected, await IndicesAsync(orderBy: orderBy));
    }

    [Theory]
    [InlineData("metrics.f1 SIDEWAYS")]
    [InlineData("attributes.nope")]
    [InlineData("metrics.f1 DESC extra")]
    [InlineData("")]
    public async Task OrderBy_Invalid_InvalidParameterValue(string orderBy)
    {
        var error = await SearchAsync(new { experiment_ids = new[] { experimentId }, order_by = new[] { orderBy } }, HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", "order_by");
    }

    [Fact]
    public async Task PageTokens_MaxResultsTwoOverFiveRuns_ThreePagesInOrder()
    {
        var seen = new List<int>();
        var pageSizes = new List<int>();
        string? token = null;
        do
        {
            var page = await SearchAsync(new { experiment_ids = new[] { experimentId }, max_results = 2, order_by = new[] { "attributes.start_time ASC" }, page_token = token });
            var runs = page.GetProperty("runs").EnumerateArray().ToList();
            pageSizes.Add(runs.Count);
            seen.AddRange(runs.Select(r => runIds.IndexOf(r.GetProperty("info").GetProperty("run_id").GetString()!)));
            token = page.TryGetProperty("next_page_token", out var next) ? next.GetString() : null;
        }
        while (token is not null);
        Assert.Equal([2, 2, 1], pageSizes);
        Assert.Equal([0, 1, 2, 3, 4], seen);
    }

    [Theory]
    [InlineData("{\"max_results\": 50001}", "50000")]
    [InlineData("{\"max_results\": 0}", "max_results")]
    [InlineData("{\"page_token\": \"eyJvZmZzZXQiOiAtMX0=\"}", "page token")] // {"offset": -1}
    [InlineData("{\"page_token\": \"%%%\"}", "page token")]
    [InlineData("{\"run_view_type\": \"SOMETIMES\"}", "run_view_type")]
    public async Task Search_InvalidPaging_InvalidParameterValue(string body, string messagePart)
    {
        var error = await api.PostRawAsync("runs/search", body.Insert(1, $"\"experiment_ids\": [\"{experimentId}\"], "), HttpStatusCode.BadRequest);
        Mlflow.AssertError(error, "INVALID_PARAMETER_VALUE", messagePart);
    }

    [Fact]
    public async Task Search_SeveralOrUnknownExperiments_UnionOfKnownOnes()
    {
        string other = await api.CreateExperimentAsync($"search-other-{Guid.NewGuid():N}");
        string otherRun = await api.CreateRunIdAsync(other, "elsewhere", T0 + 10_000);
        var page = await SearchAsync(new { experiment_ids = new[] { experimentId, other, "no-such-experiment" }, max_results = 50 });
        var ids = page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_id").GetString()).ToList();
        Assert.Equal(6, ids.Count);
        Assert.Equal(otherRun, ids[0]);
        Assert.Empty((await SearchAsync(new { experiment_ids = Array.Empty<string>() })).GetProperty("runs").EnumerateArray());
    }
}
