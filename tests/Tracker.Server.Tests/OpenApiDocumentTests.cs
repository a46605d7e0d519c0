using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tracker.Server.Tests;

/// <summary>The OpenAPI document documents the REST API, and its reference page needs nothing from the internet.</summary>
public sealed partial class OpenApiDocumentTests(MlflowServer server) : IClassFixture<MlflowServer>
{
    private readonly HttpClient client = server.Client;

    [Fact]
    public async Task Document_ListsNativeAndMlflowOperations_WithTypesAndProblems()
    {
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        Assert.Equal("Tracker API", document.GetProperty("info").GetProperty("title").GetString());
        var paths = document.GetProperty("paths");

        var runs = paths.GetProperty("/api/runs");
        var create = runs.GetProperty("post");
        Assert.Equal("CreateRun", create.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrWhiteSpace(create.GetProperty("summary").GetString()));
        Assert.True(create.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out var createBody));
        // Exactly one of experiment and experimentId is given, so neither is required; nullable fields are optional.
        Assert.False(createBody.GetProperty("schema").TryGetProperty("required", out var createRequired)
            && createRequired.EnumerateArray().Any(r => r.GetString() is "experiment" or "experimentId"));
        Assert.True(create.GetProperty("responses").TryGetProperty("201", out _));
        Assert.True(create.GetProperty("responses").TryGetProperty("400", out _));
        Assert.Equal("SearchRuns", runs.GetProperty("get").GetProperty("operationId").GetString());

        var metrics = paths.GetProperty("/api/runs/{id}/metrics").GetProperty("post");
        Assert.Equal("LogRunMetrics", metrics.GetProperty("operationId").GetString());
        Assert.Contains("Runs", metrics.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True(metrics.GetProperty("responses").TryGetProperty("404", out _));
        Assert.True(paths.GetProperty("/api/runs/{id}/artifacts/{path}").TryGetProperty("put", out var put));
        Assert.True(put.GetProperty("responses").TryGetProperty("413", out _));
        Assert.True(put.GetProperty("responses").TryGetProperty("415", out _));

        var batch = paths.GetProperty("/api/2.0/mlflow/runs/log-batch").GetProperty("post");
        Assert.False(string.IsNullOrWhiteSpace(batch.GetProperty("summary").GetString()));
        Assert.Contains("MLflow", batch.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True(paths.GetProperty("/api/2.0/mlflow/runs/create").GetProperty("post").GetProperty("responses").TryGetProperty("200", out _));

        Assert.True(paths.GetProperty("/api/trials").GetProperty("get").TryGetProperty("summary", out _));
        Assert.True(paths.GetProperty("/api/experiments").GetProperty("post").TryGetProperty("summary", out _));
        // The dashboard's pages, the hub and MLflow's catch-all are not API operations.
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/trials", StringComparison.Ordinal) || p.Name.Contains("{**", StringComparison.Ordinal)
            || p.Name.Contains("/{path}", StringComparison.Ordinal) && p.Name.StartsWith("/api/2.0", StringComparison.Ordinal));
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("RunView", out _));
    }

    [Fact]
    public async Task Document_MlflowOperations_DescribeTheSnakeCaseBodiesOnTheWire()
    {
        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var paths = document.GetProperty("paths");
        JsonElement Resolve(JsonElement schema) => schema.TryGetProperty("$ref", out var reference)
            ? schemas.GetProperty(reference.GetString()!["#/components/schemas/".Length..]) : schema;
        static string[] Names(JsonElement schema) => [.. schema.GetProperty("properties").EnumerateObject().Select(p => p.Name)];

        // A real answer's fields are exactly the documented ones.
        var api = server.Api;
        var run = await api.CreateRunAsync(await api.CreateExperimentAsync("documented shapes"), "doc run");
        var created = paths.GetProperty("/api/2.0/mlflow/runs/create").GetProperty("post");
        var createdSchema = Resolve(created.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["run"], Names(createdSchema));
        var runSchema = Resolve(createdSchema.GetProperty("properties").GetProperty("run"));
        var infoSchema = Resolve(runSchema.GetProperty("properties").GetProperty("info"));
        Assert.Equal(run.GetProperty("info").EnumerateObject().Select(p => p.Name).Order(), Names(infoSchema).Where(n => run.GetProperty("info").TryGetProperty(n, out _)).Order());
        Assert.Contains("run_id", Names(infoSchema));
        Assert.DoesNotContain("runId", Names(infoSchema));
        var error = Resolve(created.GetProperty("responses").GetProperty("400").GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["error_code", "message"], Names(error).Order());

        // Request bodies: MLflow's fields, only the non-nullable ones required.
        var batch = Resolve(paths.GetProperty("/api/2.0/mlflow/runs/log-batch").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["metrics", "params", "run_id", "tags"], Names(batch).Order());
        Assert.Equal(["run_id"], batch.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        var metric = Resolve(batch.GetProperty("properties").GetProperty("metrics").GetProperty("items"));
        Assert.Equal(["key", "step", "timestamp", "value"], Names(metric).Order());
        var createExperiment = Resolve(paths.GetProperty("/api/2.0/mlflow/experiments/create").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.Equal(["artifact_location", "name", "tags"], Names(createExperiment).Order());

        // GET endpoints take their fields from the query string.
        var history = paths.GetProperty("/api/2.0/mlflow/metrics/get-history").GetProperty("get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => (In: p.GetProperty("in").GetString(), Required: p.TryGetProperty("required", out var r) && r.GetBoolean()));
        Assert.Equal(("query", true), history["run_id"]);
        Assert.Equal(("query", true), history["metric_key"]);
        Assert.Equal(("query", false), history["max_results"]);
        Assert.Equal(("query", false), history["page_token"]);
    }

    [Fact]
    public async Task ReferencePage_IsServedWithLocalAssetsOnly()
    {
        var page = await client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();

        var sources = AssetReference().Matches(html).Select(m => m.Groups["url"].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, url => Assert.False(Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https",
            $"The page loads {url} from another host."));
        Assert.DoesNotContain("cdn.jsdelivr", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("fonts.scalar.com", html, StringComparison.OrdinalIgnoreCase);
        foreach (var url in sources)
        {
            var asset = await client.GetAsync(new Uri(page.RequestMessage!.RequestUri!, url));
            Assert.True(asset.IsSuccessStatusCode, $"{url} answered {asset.StatusCode}");
            Assert.True((await asset.Content.ReadAsByteArrayAsync()).Length > 1000, $"{url} is nearly empty");
        }
    }

    [GeneratedRegex("""(?:src|href)\s*=\s*["'](?<url>[^"']+)["']""", RegexOptions.IgnoreCase)]
    private static partial Regex AssetReference();
}
