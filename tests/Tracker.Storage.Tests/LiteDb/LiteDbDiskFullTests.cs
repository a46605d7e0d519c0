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

    // 4 MiB fills the log before any checkpoint; 24 MiB runs out while checkpoints copy the log into the file.
    [Theory]
    [InlineData(4)]
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
}
