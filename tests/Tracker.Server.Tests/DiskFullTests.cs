using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Server.Tests;

/// <summary>
/// The server on a real full disk (a small tmpfs under its LiteDB file): every metric batch answered 200 is stored,
/// none answered 503 is, the 503s carry problem details (or MLflow's error shape) and <c>Retry-After</c>, reads go on,
/// and writes are taken again once the disk has room.
/// </summary>
public sealed class DiskFullTests
{
    private const int BatchPoints = 1000;

    [Fact]
    public async Task DiskFull_AnsweredPointsEqualStoredPoints_503WhileFull_WritesResumeWithRoom()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var disk = SmallDisk.Mount(8);
        await using var factory = new TrackerServerFactory(Path.Combine(disk.Path, "data"));
        var client = factory.CreateClient();
        var store = (LiteDbStore)factory.Services.GetRequiredService<Core.Storage.IMetricStore>();
        store.RecoveryInterval = TimeSpan.FromHours(1); // no reopening while the test fills the disk

        var created = await client.PostAsJsonAsync("/api/runs", new { experiment = "disk full" }, cancel);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string runId = (await created.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("id").GetString()!;
        string reserve = disk.Fill(leaveBytes: 3L * 1024 * 1024); // half of what is left, to free later

        var acknowledged = new SortedSet<int>();
        int nextStep = 0;
        async Task<HttpResponseMessage> SendBatchAsync()
        {
            var steps = Enumerable.Range(nextStep, BatchPoints).ToArray();
            nextStep += BatchPoints; // a refused batch's steps are never sent again, so finding one stored would show
            var response = await client.PostAsJsonAsync($"/api/runs/{runId}/metrics",
                new { points = steps.Select(s => new { key = "loss", value = s * 0.5, step = s }).ToArray() }, cancel);
            if (response.StatusCode == HttpStatusCode.OK) acknowledged.UnionWith(steps);
            return response;
        }

        HttpResponseMessage refused;
        for (int attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 10_000, "the disk never filled");
            refused = await SendBatchAsync();
            if (refused.StatusCode != HttpStatusCode.OK) break;
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(cancel);
        Assert.Contains("No space left on device", problem.GetProperty("detail").GetString());
        Assert.True(acknowledged.Count > 0);

        // While full: writes refused, MLflow's route in its own shape, reads answered.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendBatchAsync()).StatusCode);
        var mlflow = await client.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch",
            new { run_id = runId, metrics = new[] { new { key = "acc", value = 0.5, timestamp = 1_700_000_000_000L, step = 0 } } }, cancel);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, mlflow.StatusCode);
        Assert.Equal("TEMPORARILY_UNAVAILABLE", (await mlflow.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/runs/{runId}", cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", cancel)).StatusCode);

        File.Delete(reserve);
        store.RecoveryInterval = TimeSpan.FromMilliseconds(100);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await SendBatchAsync()).StatusCode != HttpStatusCode.OK)
            Assert.True(DateTime.UtcNow < deadline, "writes did not resume after the disk had room again");
        for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await SendBatchAsync()).StatusCode);

        var stored = new List<(int Step, double Value)>();
        string? token = null;
        do
        {
            string url = $"/api/runs/{runId}/metrics/loss?maxResults=25000" + (token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}");
            var page = await client.GetFromJsonAsync<JsonElement>(url, cancel);
            stored.AddRange(page.GetProperty("points").EnumerateArray().Select(p => (p.GetProperty("step").GetInt32(), p.GetProperty("value").GetDouble())));
            token = page.TryGetProperty("nextPageToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (token is not null);
        Assert.Equal(acknowledged, stored.Select(p => p.Step));
        Assert.All(stored, p => Assert.Equal(p.Step * 0.5, p.Value));
    }
}
