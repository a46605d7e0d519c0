using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>
/// A real full disk (a small tmpfs): every write the store acknowledged is in the file afterwards, every write it
/// refused is not, writes are refused while the disk is full, and the store takes writes again once there is room.
/// </summary>
public sealed class LiteDbDiskFullTests
{
    private const int BatchPoints = 1000;

    // 24 MiB runs out while checkpoints copy the log into the file (a disk that the log fills first is the conformance
    // suite's case, LiteDbHonestWriteTests).
    [Theory]
    [InlineData(24)]
    public async Task DiskFull_AcknowledgedPointsStored_RefusedPointsNot_WritesResumeWhenThereIsRoom(int mebibytes)
    {
        using var disk = SmallDisk.Mount(mebibytes);
        string database = Path.Combine(disk.Path, "tracker.db"), files = Path.Combine(disk.Path, "files");
        // Half the disk to free later: enough for a checkpoint to copy the whole log into the file.
        string reserve = disk.Fill(leaveBytes: mebibytes / 2 * 1024L * 1024);
        var acknowledged = new SortedSet<int>();
        int nextStep = 0, refusals = 0;
        string lastRefusal = "";

        // Each attempt logs steps no other attempt uses, so that a refused batch found in the file would show.
        async Task<bool> TryBatchAsync(LiteDbStore s)
        {
            var steps = Enumerable.Range(nextStep, BatchPoints).ToList();
            nextStep += BatchPoints;
            try
            {
                await s.AppendMetricsAsync([.. steps.Select(step => Point("t1", "loss", step, step * 0.5))]);
                acknowledged.UnionWith(steps);
                return true;
            }
            catch (StoreUnavailableException error)
            {
                refusals++;
                lastRefusal = error.ToString();
                Assert.Contains("cannot keep writes", error.Message);
                return false;
            }
        }

        var store = new LiteDbStore(database, files) { RecoveryInterval = TimeSpan.FromHours(1) };
        try
        {
            await store.SaveExperimentAsync(Experiment("e1"));
            await store.SaveTrialAsync(FullTrial("t1", "e1", 0, TrialState.Running));
            for (int attempt = 0; attempt < 10_000 && await TryBatchAsync(store); attempt++) { }
            Assert.Equal(1, refusals);
            Assert.True(store.IsRefusingWrites);
            long beforeFull = acknowledged.Count;
            Assert.True(beforeFull > 0);

            // Still full: refused, whether the store retries the disk or not, and other kinds of write too.
            for (int i = 0; i < 3; i++) Assert.False(await TryBatchAsync(store));
            await Assert.ThrowsAsync<StoreUnavailableException>(() =>
                store.UpdateTrialAsync("t1", t => new TrialWrite(t with { Notes = new string('n', 2_000_000) })));

            File.Delete(reserve);
            store.RecoveryInterval = TimeSpan.FromMilliseconds(100);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!await TryBatchAsync(store)) Assert.True(DateTime.UtcNow < deadline, $"writes did not resume after the disk had room again: {lastRefusal}");
            Assert.False(store.IsRefusingWrites);
            for (int i = 0; i < 3; i++) Assert.True(await TryBatchAsync(store));
            Assert.Equal(TrialState.Running, (await store.GetTrialAsync("t1"))!.State);
        }
        finally
        {
            store.Dispose();
        }

        using var reopened = new LiteDbStore(database, files);
        var stored = await reopened.ReadAllMetricsAsync("t1", "loss");
        Assert.Equal(acknowledged, stored.Select(p => p.Step));
        Assert.All(stored, p => Assert.Equal(p.Step * 0.5, p.Value));
        Assert.Null((await reopened.GetTrialAsync("t1"))!.Notes is { Length: > 1_000_000 } ? "the refused note was stored" : null);
    }
    // A log made unwritable while the store runs: LiteDB's open handles keep writing, so the test first fails a write
    // on a full disk, which makes the store close the file and open it again. Reopening needs the log, so writes stay
    // refused after the disk has room, until the log can be written; nothing acknowledged is lost, nothing refused kept.
    [Fact]
    public async Task LogUnwritable_WritesRefusedUntilItIsWritable_AcknowledgedEqualsStored()
    {
        using var disk = SmallDisk.Mount(8);
        string database = Path.Combine(disk.Path, "tracker.db"), files = Path.Combine(disk.Path, "files");
        var acknowledged = new SortedSet<int>();
        int nextStep = 0;
        string lastRefusal = "";
        async Task<bool> TryBatchAsync(LiteDbStore s)
        {
            var steps = Enumerable.Range(nextStep, BatchPoints).ToList();
            nextStep += BatchPoints;
            try
            {
                await s.AppendMetricsAsync([.. steps.Select(step => Point("t1", "loss", step, step))]);
                acknowledged.UnionWith(steps);
                return true;
            }
            catch (StoreUnavailableException error)
            {
                lastRefusal = error.ToString();
                return false;
            }
        }

        var store = new LiteDbStore(database, files) { RecoveryInterval = TimeSpan.FromMilliseconds(100) };
        IDisposable? readOnly = null;
        try
        {
            await store.SaveExperimentAsync(Experiment("e1"));
            await store.SaveTrialAsync(FullTrial("t1", "e1", 0, TrialState.Running));
            for (int i = 0; i < 5; i++) Assert.True(await TryBatchAsync(store));
            string filler = disk.Fill(leaveBytes: 64 * 1024);
            for (int attempt = 0; attempt < 1000 && await TryBatchAsync(store); attempt++) { }
            Assert.True(store.IsRefusingWrites);

            readOnly = SmallDisk.ReadOnlyFile(LiteDbFileCheck.LogPath(database));
            File.Delete(filler);
            for (int i = 0; i < 5; i++)
            {
                await Task.Delay(150, TestContext.Current.CancellationToken); // past the recovery interval
                Assert.False(await TryBatchAsync(store));
            }
            var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.SaveExperimentAsync(Experiment("e2")));
            Assert.Contains("Read-only file system", refused.Message);

            readOnly.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!await TryBatchAsync(store))
            {
                Assert.True(DateTime.UtcNow < deadline, $"writes did not resume once the log was writable: {lastRefusal}");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            Assert.False(store.IsRefusingWrites);
        }
        finally
        {
            store.Dispose();
            readOnly?.Dispose();
        }

        using var reopened = new LiteDbStore(database, files);
        Assert.Equal(acknowledged, (await reopened.ReadAllMetricsAsync("t1", "loss")).Select(p => p.Step));
        Assert.Null(await reopened.GetExperimentAsync("e2"));
    }

    // The log made unwritable while the server was down (restored by another user, say): the store does not open, and
    // says which file and why, rather than serving writes it cannot keep. Nothing in the file changes.
    [Fact]
    public async Task LogUnwritableAtOpen_Refused_WithThePathAndTheReason_FileUntouched()
    {
        using var disk = SmallDisk.Mount(16);
        string database = Path.Combine(disk.Path, "tracker.db"), files = Path.Combine(disk.Path, "files");
        using (var first = new LiteDbStore(database, files))
        {
            await first.SaveExperimentAsync(Experiment("e1"));
            await first.AppendMetricsAsync([.. Enumerable.Range(0, 10).Select(step => Point("t1", "loss", step, step))]);
        }
        string log = LiteDbFileCheck.LogPath(database);
        if (!File.Exists(log)) File.WriteAllBytes(log, []);
        byte[] before = File.ReadAllBytes(database);
        using (SmallDisk.ReadOnlyFile(log))
        {
            var refused = Assert.Throws<IOException>(() => new LiteDbStore(database, files));
            Assert.Contains(database, refused.Message);
            Assert.Contains("Read-only file system", refused.Message);
        }
        Assert.Equal(before, File.ReadAllBytes(database));
        using var reopened = new LiteDbStore(database, files);
        Assert.Equal(10, (await reopened.ReadAllMetricsAsync("t1", "loss")).Count);
    }
}
