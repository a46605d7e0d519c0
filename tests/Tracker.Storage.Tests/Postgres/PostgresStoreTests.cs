using System.Collections.Concurrent;
using Tracker.Storage.Postgres;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Postgres;

/// <summary>What only the PostgreSQL backend promises: several processes (here, store objects) sharing one database.</summary>
public sealed class PostgresStoreTests(PostgresCluster cluster) : IAsyncLifetime
{
    private readonly PostgresHarness harness = new(cluster);
    private PostgresStore first = null!, second = null!;

    public async ValueTask InitializeAsync()
    {
        await harness.OpenAsync();
        first = await harness.OpenAnotherAsync();
        second = await harness.OpenAnotherAsync();
    }

    public ValueTask DisposeAsync() => harness.DisposeAsync();

    [Fact]
    public async Task UpdateTrialAsync_EightWritersInTwoProcesses_LoseNoUpdate()
    {
        await first.SaveTrialAsync(Trial("t", state: TrialState.Running) with { Epochs = 1000 });

        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            ITrialStore store = writer % 2 == 0 ? first : second;
            for (int i = 0; i < 20; i++)
                await store.UpdateTrialAsync("t", t => new TrialWrite(t with { EpochsDone = t.EpochsDone + 1 }));
        })));

        Assert.Equal(160, (await second.GetTrialAsync("t"))!.EpochsDone);
        Assert.Equal(160, (await first.GetTrialAsync("t"))!.EpochsDone);
    }

    [Fact]
    public async Task NextTrialNumberAsync_TwoProcesses_NeverGiveTheSameNumber()
    {
        var numbers = new ConcurrentBag<int>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            ITrialStore store = caller % 2 == 0 ? first : second;
            for (int i = 0; i < 25; i++) numbers.Add(await store.NextTrialNumberAsync("e1"));
        })));

        Assert.Equal(Enumerable.Range(0, 200), numbers.Order());
    }

    [Fact]
    public async Task UpdateExperimentAsync_WritersInTwoProcesses_LoseNoUpdate()
    {
        await first.SaveExperimentAsync(FullExperiment() with { Spec = FullExperiment().Spec with { MaxTrials = 0 } });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            IExperimentStore store = writer % 2 == 0 ? first : second;
            for (int i = 0; i < 10; i++)
                await store.UpdateExperimentAsync("exp1", e => e with { Spec = e.Spec with { MaxTrials = e.Spec.MaxTrials + 1 } });
        })));

        Assert.Equal(40, (await first.GetExperimentAsync("exp1"))!.Spec.MaxTrials);
    }

    [Fact]
    public async Task RevokeApiKeyAsync_InOneProcess_SeenAndKeptByTheOther()
    {
        var key = new ApiKeyRecord("k1", "ci", new string('a', 64), "trk_abcd", T0);
        await first.AddApiKeyAsync(key);

        await second.RevokeApiKeyAsync("k1", T0.AddMinutes(1));
        await first.RecordApiKeyUseAsync("k1", T0.AddMinutes(2));

        Assert.Equal(T0.AddMinutes(1), (await first.FindApiKeyByHashAsync(key.Sha256))!.RevokedAt);
    }

    [Fact]
    public async Task OpenAsync_SameDatabaseAgain_MigratesNothingAndKeepsData()
    {
        await first.SaveTrialAsync(Trial("t"));

        await using var third = await PostgresStore.OpenAsync(harness.ConnectionString, harness.ArtifactRoot, CancellationToken.None);

        Assert.NotNull(await third.GetTrialAsync("t"));
    }

    [Fact]
    public async Task OpenAsync_ConcurrentFirstOpens_MigrateOnce()
    {
        string database = await cluster.CreateEmptyDatabaseAsync();
        try
        {
            var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresStore.OpenAsync(database, harness.ArtifactRoot, CancellationToken.None))));
            try
            {
                await stores[0].SaveTrialAsync(Trial("t"));
                Assert.All(await Task.WhenAll(stores.Select(s => s.GetTrialAsync("t"))), Assert.NotNull);
            }
            finally
            {
                foreach (var s in stores) await s.DisposeAsync();
            }
        }
        finally
        {
            await cluster.DropDatabaseAsync(database);
        }
    }
}
