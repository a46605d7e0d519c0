using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>
/// The server on a real full disk (a small tmpfs under its LiteDB file, or under its PostgreSQL database's tablespace):
/// every metric batch answered 200 is stored, none answered 503 is, the 503s carry problem details (or MLflow's error
/// shape) and <c>Retry-After</c>, reads go on, and writes are taken again once the disk has room.
/// </summary>
public sealed class DiskFullTests(PostgresCluster cluster)
{
    private const int BatchPoints = 1000;

    [Fact]
    public async Task LiteDb_DiskFull_AnsweredPointsEqualStoredPoints_503WhileFull_WritesResumeWithRoom()
    {
        using var disk = SmallDisk.Mount(8);
        await using var factory = new TrackerServerFactory(Path.Combine(disk.Path, "data"));
        var store = (LiteDbStore)factory.Services.GetRequiredService<Core.Storage.IMetricStore>();
        store.RecoveryInterval = TimeSpan.FromHours(1); // no reopening while the test fills the disk
        await FillThenFreeAsync(factory, disk, leaveBytes: 3L * 1024 * 1024, "No space left on device",
            beforeFreeing: () => store.RecoveryInterval = TimeSpan.FromMilliseconds(100));
    }

    // The database's files live on the small disk through a tablespace; its write-ahead log stays on the cluster's disk.
    [Fact]
    public async Task Postgres_DiskFull_AnsweredPointsEqualStoredPoints_503WhileFull_WritesResumeWithRoom()
    {
        using var disk = SmallDisk.Mount(40, owner: Environment.UserName == "root" ? "postgres" : null);
        string connectionString = await cluster.CreateDatabaseInAsync(disk.Path);
        try
        {
            await using var factory = new TrackerServerFactory(new ServerStore(TrackerServerFactory.NewDataFolder(), connectionString));
            // A full tablespace makes the cluster's checkpoints fail, and with them other tests' CREATE and DROP DATABASE.
            var held = await cluster.HoldDatabaseChangesAsync();
            try
            {
                await FillThenFreeAsync(factory, disk, leaveBytes: 4L * 1024 * 1024, "53100", beforeFreeing: () => { });
            }
            finally
            {
                await held.DisposeAsync();
            }
        }
        finally
        {
            await cluster.DropDatabaseAndTablespaceAsync(connectionString);
        }
    }

    private static async Task FillThenFreeAsync(TrackerServerFactory factory, SmallDisk disk, long leaveBytes, string reason, Action beforeFreeing)
    {
        var cancel = TestContext.Current.CancellationToken;
        var client = factory.CreateClient();
        var created = await client.PostAsJsonAsync("/api/runs", new { experiment = "disk full" }, cancel);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string runId = (await created.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("id").GetString()!;
        string reserve = disk.Fill(leaveBytes: leaveBytes); // freed later

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
            Assert.True(attempt < 20_000, "the disk never filled");
            refused = await SendBatchAsync();
            if (refused.StatusCode != HttpStatusCode.OK) break;
        }
        string body = await refused.Content.ReadAsStringAsync(cancel);
        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode}: {body}");
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        Assert.Contains(reason, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.True(acknowledged.Count > 0);

        // While full: writes refused, MLflow's route in its own shape, reads answered.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendBatchAsync()).StatusCode);
        var mlflow = await client.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch",
            new { run_id = runId, metrics = Enumerable.Range(0, BatchPoints).Select(i => new { key = "acc", value = 0.5, timestamp = 1_700_000_000_000L, step = i }).ToArray() }, cancel);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, mlflow.StatusCode);
        Assert.Equal("TEMPORARILY_UNAVAILABLE", (await mlflow.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/runs/{runId}", cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", cancel)).StatusCode);

        beforeFreeing();
        File.Delete(reserve);
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
