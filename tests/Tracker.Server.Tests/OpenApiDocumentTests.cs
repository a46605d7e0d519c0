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
        Assert.True(create.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
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
