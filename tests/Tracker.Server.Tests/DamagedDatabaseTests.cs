using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;

namespace Tracker.Server.Tests;

/// <summary>
/// A LiteDB file with garbage inside a page, past the page's header, where the check at open does not look: the server
/// starts, reads every record back in the background, and from then on answers writes 503 and reads of the damaged
/// records 500, both naming the file and <c>tracker db check</c>; other reads are answered, and the file is never written.
/// </summary>
public sealed class DamagedDatabaseTests
{
    [Fact]
    public async Task GarbageInsideAPage_ServerRefusesWrites_ServesReads_FileUntouched()
    {
        var cancel = TestContext.Current.CancellationToken;
        string folder = TrackerServerFactory.NewDataFolder();
        string database = Path.Combine(folder, "tracker.db");
        using (var store = new LiteDbStore(database, Path.Combine(folder, "artifacts")))
        {
            await store.SaveExperimentAsync(new Experiment { Id = "e1", Spec = new ExperimentSpec { Name = "damaged" }, CreatedAt = DateTimeOffset.UtcNow, State = ExperimentState.Completed }, cancel);
            for (int i = 0; i < 40; i++)
                await store.SaveTrialAsync(new Trial
                {
                    Id = $"t{i}", ExperimentId = "e1", Number = i, Parameters = [], Epochs = 1, State = TrialState.Completed,
                    Notes = new string('n', 3000), CreatedAt = DateTimeOffset.UtcNow,
                }, [.. Enumerable.Range(0, 500).Select(s => new MetricPoint($"t{i}", "loss", s, 1.0 / (s + 1), DateTimeOffset.UtcNow))], cancel);
        }
        long pages = new FileInfo(database).Length / LiteDbFileCheck.PageSize;
        using (var file = new FileStream(database, FileMode.Open))
        {
            file.Position = pages * 3 / 10 * LiteDbFileCheck.PageSize + 1000;
            var garbage = new byte[3000];
            new Random(7).NextBytes(garbage);
            file.Write(garbage);
        }
        byte[] before = SHA256.HashData(await File.ReadAllBytesAsync(database, cancel));

        await using (var factory = new TrackerServerFactory(folder))
        {
            var client = factory.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", cancel)).StatusCode);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpResponseMessage write;
            while (true)
            {
                write = await client.PostAsJsonAsync("/api/runs", new { experiment = "after damage" }, cancel);
                if (write.StatusCode != HttpStatusCode.Created) break;
                Assert.True(DateTime.UtcNow < deadline, "the damage was not found");
                await Task.Delay(100, cancel);
            }
            // A write that got in before the verification held the file would have changed it: the hash below says so.
            string body = await write.Content.ReadAsStringAsync(cancel);
            Assert.True(write.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)write.StatusCode}: {body}");
            string detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
            Assert.Contains(database, detail);
            Assert.Contains("tracker db check", detail);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", cancel)).StatusCode);
            // A read of the damaged records says what is wrong, rather than a bare 500; one that does not touch them is answered.
            var damagedRead = await client.GetAsync("/api/experiments", cancel);
            Assert.Equal(HttpStatusCode.InternalServerError, damagedRead.StatusCode);
            var problem = await damagedRead.Content.ReadFromJsonAsync<JsonElement>(cancel);
            Assert.Equal("The database is damaged.", problem.GetProperty("title").GetString());
            Assert.Contains("tracker db check", problem.GetProperty("detail").GetString());
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/plugins", cancel)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs/t39", cancel)).StatusCode);
        }
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(database, cancel)));
    }
}
