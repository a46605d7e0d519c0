using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary>
/// The store's promise that acknowledged means stored, on a real full disk (a small tmpfs under the backend's data):
/// every append that returned is stored, none that was refused is, refusals are the store's own
/// (<see cref="StoreUnavailableException.Recognise"/>), reads go on while the disk is full, and writes are taken again
/// once it has room. A backend says how it puts its data on the disk.
/// </summary>
public abstract class HonestWriteConformance
{
    private const int BatchPoints = 1000;

    /// <summary>The size of the small disk, in MiB.</summary>
    protected abstract int DiskMebibytes { get; }

    /// <summary>The user who owns the disk's root folder (a database server's), or <c>null</c> for this process's.</summary>
    protected virtual string? DiskOwner => null;

    /// <summary>The free space left when the test fills the disk; the store's writes use it up.</summary>
    protected abstract long LeaveBytes { get; }

    /// <summary>Opens a new, empty store whose data is on <paramref name="disk"/>.</summary>
    protected abstract Task<TrackerStores> OpenOnAsync(SmallDisk disk);

    /// <summary>
    /// Called before the disk is filled; what it returns is disposed once the disk has room again (a database server
    /// holds back what a full disk would break for others, say).
    /// </summary>
    protected virtual Task<IAsyncDisposable?> WhileFullAsync() => Task.FromResult<IAsyncDisposable?>(null);

    /// <summary>Called when the disk has room again: a store that waits between its attempts to recover may try now.</summary>
    protected virtual void AllowRecovery()
    {
    }

    /// <summary>Closes the store and opens the same data again, as a restarted process would.</summary>
    protected abstract Task<TrackerStores> ReopenAsync();

    /// <summary>Closes the store and lets go of the disk, which is unmounted after.</summary>
    protected abstract ValueTask CloseAsync();

    [Fact]
    public async Task DiskFull_AcknowledgedAppendsStored_RefusedOnesNot_ReadsGoOn_WritesResumeWithRoom()
    {
        using var disk = SmallDisk.Mount(DiskMebibytes, DiskOwner);
        IAsyncDisposable? whileFull = null;
        try
        {
            var store = await OpenOnAsync(disk);
            await store.Experiments.SaveExperimentAsync(Experiment("e1"));
            await store.Trials.SaveTrialAsync(FullTrial("t1", "e1", 0, TrialState.Running));
            whileFull = await WhileFullAsync();
            string reserve = disk.Fill(LeaveBytes); // freed later

            var acknowledged = new SortedSet<int>();
            int nextStep = 0;
            StoreUnavailableException? lastRefusal = null;
            // Each attempt logs steps no other attempt uses, so that a refused batch found in the store would show.
            async Task<bool> TryBatchAsync()
            {
                var steps = Enumerable.Range(nextStep, BatchPoints).ToList();
                nextStep += BatchPoints;
                try
                {
                    await store.Metrics.AppendMetricsAsync([.. steps.Select(step => Point("t1", "loss", step, step * 0.5))]);
                    acknowledged.UnionWith(steps);
                    return true;
                }
                catch (Exception error) when (StoreUnavailableException.Recognise(error) is { } refusal)
                {
                    lastRefusal = refusal;
                    return false;
                }
            }

            for (int attempt = 0; await TryBatchAsync(); attempt++) Assert.True(attempt < 20_000, "the disk never filled");
            Assert.NotEmpty(acknowledged);
            Assert.False(await TryBatchAsync()); // still full

            // Reads go on while writes are refused.
            Assert.Equal(TrialState.Running, (await store.Trials.GetTrialAsync("t1"))!.State);
            var firstPage = await store.Metrics.ReadMetricsAsync("t1", "loss", MetricCursor.Start, 100);
            Assert.Equal(Enumerable.Range(0, 100), firstPage.Points.Select(p => p.Step));

            AllowRecovery();
            File.Delete(reserve);
            if (whileFull is not null) await whileFull.DisposeAsync();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!await TryBatchAsync())
            {
                Assert.True(DateTime.UtcNow < deadline, $"writes did not resume after the disk had room again: {lastRefusal}");
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
            for (int i = 0; i < 3; i++) Assert.True(await TryBatchAsync(), $"refused after recovering: {lastRefusal}");

            store = await ReopenAsync();
            var stored = await store.Metrics.ReadAllMetricsAsync("t1", "loss");
            Assert.Equal(acknowledged, stored.Select(p => p.Step));
            Assert.All(stored, p => Assert.Equal(p.Step * 0.5, p.Value));
        }
        finally
        {
            if (whileFull is not null) await whileFull.DisposeAsync(); // released once only; a failed test must not hold it
            await CloseAsync();
        }
    }
}
