using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;

namespace Tracker.Server.Tests;

/// <summary>
/// <c>POST /api/admin/backup</c> on the real server: an admin's key copies the LiteDB database while runs go on
/// logging, the copy opens and holds whole batches only (one moment between writes), and an editor's key is refused.
/// </summary>
public sealed class BackupApiTests : IAsyncLifetime
{
    private const int BatchPoints = 500;
    private readonly TrackerServerFactory factory = new(TrackerServerFactory.NewDataFolder()) { Settings = RoleTests.KeySettings };

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await factory.DisposeAsync();

    [Fact]
    public async Task Backup_WhileARunLogs_CopyOpensWithWholeBatches_EditorRefused()
    {
        var cancel = TestContext.Current.CancellationToken;
        var editor = RoleTests.Client(factory, RoleTests.EditorKey);
        var admin = RoleTests.Client(factory, RoleTests.AdminKey);
        var started = await editor.PostAsJsonAsync("/api/runs", new { experiment = "backed up" }, cancel);
        string runId = (await started.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("id").GetString()!;

        using var stop = new CancellationTokenSource();
        int batches = 0;
        var logging = Task.Run(async () =>
        {
            for (int batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var points = Enumerable.Range(batch * BatchPoints, BatchPoints).Select(step => new { key = "loss", value = 1.0, step }).ToArray();
                var answer = await editor.PostAsJsonAsync($"/api/runs/{runId}/metrics", new { points }, CancellationToken.None);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                batches = batch + 1;
            }
        }, cancel);
        while (batches < 3) await Task.Delay(20, cancel); // some logged before the copy, more while it is taken

        var refused = await editor.PostAsync("/api/admin/backup", null, cancel);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var answer = await admin.PostAsync("/api/admin/backup", null, cancel);
        string text = await answer.Content.ReadAsStringAsync(cancel);
        Assert.True(answer.StatusCode == HttpStatusCode.Created, text);
        await stop.CancelAsync();
        await logging;

        var backup = JsonDocument.Parse(text).RootElement;
        string path = backup.GetProperty("path").GetString()!;
        Assert.Equal(Path.Combine(factory.DataFolder, "backups"), Path.GetDirectoryName(path));
        Assert.Equal(new FileInfo(path).Length, backup.GetProperty("bytes").GetInt64());

        using var copy = new LiteDbStore(path, Path.Combine(factory.DataFolder, "copy-artifacts"));
        Assert.NotNull(await copy.GetTrialAsync(runId, cancel));
        var steps = (await copy.ReadAllMetricsAsync(runId, "loss", cancellationToken: cancel)).Select(p => p.Step).ToList();
        Assert.True(steps.Count >= 3 * BatchPoints, $"{steps.Count} points in the copy");
        Assert.Equal(0, steps.Count % BatchPoints); // whole batches: each is one transaction
        Assert.Equal(Enumerable.Range(0, steps.Count), steps);
        Assert.True(steps.Count <= batches * BatchPoints);
    }
}
