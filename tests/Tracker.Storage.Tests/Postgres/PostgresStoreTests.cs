using System.Collections.Concurrent;
using Npgsql;
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

    [Fact]
    public async Task QueryTrialsAsync_SortAndFilterByValues_BothProcessesMakeEachIndexOnceAndAgreeOnTheRows()
    {
        // Values of a metric and a parameter whose names need quoting; the trial without them, and the one whose metric
        // is NaN, come last either way.
        const string metric = "it's \\ f1", parameter = "lr'\\";
        await first.SaveTrialsAsync(
        [
            .. new[] { 0.5, 0.9, 0.1, 0.7 }.Select((v, i) => Trial($"t{i}") with
            {
                CreatedAt = T0.AddMinutes(i),
                FinalMetrics = new() { [metric] = v },
                Parameters = new() { [parameter] = 1 - v },
            }),
            Trial("nan") with { CreatedAt = T0.AddMinutes(10), FinalMetrics = new() { [metric] = double.NaN }, Parameters = new() { [parameter] = "text" } },
            Trial("none") with { CreatedAt = T0.AddMinutes(11) },
        ]);
        var descending = new TrialQuery { SortBy = TrialSortField.Metric(metric) };
        var ascending = descending with { Descending = false };
        var byParameter = new TrialQuery { SortBy = TrialSortField.Parameter(parameter), Descending = false };
        var range = new TrialQuery { Metrics = new Dictionary<string, ValueFilter> { [metric] = ValueFilter.Range(0.5, null) } };

        // Each query at once in both processes: one makes each index, the other waits for it or finds it.
        var results = await Task.WhenAll(new[] { descending, ascending, byParameter, range }
            .SelectMany(q => new ITrialStore[] { first, second }.Select(store => Task.Run(() => store.QueryTrialsAsync(q)))));

        string[][] ids = [.. results.Select(r => r.Items.Select(row => row.Trial.Id).ToArray())];
        string[] expectedDescending = ["t1", "t3", "t0", "t2", "none", "nan"], expectedAscending = ["t2", "t0", "t3", "t1", "none", "nan"];
        string[] expectedByParameter = ["t1", "t3", "t0", "t2", "nan", "none"], expectedRange = ["t3", "t1", "t0"];
        Assert.Equal([expectedDescending, expectedDescending, expectedAscending, expectedAscending, expectedByParameter, expectedByParameter,
            expectedRange, expectedRange], ids);
        Assert.All(results, r => Assert.Equal(r.Items.Count, r.Total));
        // The metric range used the descending metric index, made for the sort; the parameter sort made its own.
        Assert.Equal([PostgresStore.ValueIndexName("ma", metric), PostgresStore.ValueIndexName("md", metric), PostgresStore.ValueIndexName("pa", parameter)],
            await ValueIndexesAsync());
    }

    [Fact]
    public async Task QueryTrialsAsync_MoreSortedParametersThanTheCap_MakesNoMoreIndexesAndStillSorts()
    {
        int names = PostgresStore.MaxValueIndexes + 2;
        await first.SaveTrialsAsync(Enumerable.Range(0, 3).Select(i => Trial($"t{i}") with
        {
            CreatedAt = T0.AddMinutes(i),
            Parameters = Enumerable.Range(0, names).ToDictionary(n => $"p{n}", n => (ParameterValue)((i + n) % 3)),
        }));

        for (int n = 0; n < names; n++)
        {
            var page = await (n % 2 == 0 ? first : second).QueryTrialsAsync(new TrialQuery { SortBy = TrialSortField.Parameter($"p{n}"), Descending = false });
            // Trial i holds (i + n) % 3, so the smallest value is trial (3 - n % 3) % 3's.
            string[] expected = [.. Enumerable.Range(0, 3).Select(k => $"t{(k - n % 3 + 3) % 3}")];
            Assert.Equal(expected, page.Items.Select(r => r.Trial.Id));
        }

        var made = await ValueIndexesAsync();
        Assert.Equal(PostgresStore.MaxValueIndexes, made.Count);
        Assert.DoesNotContain(PostgresStore.ValueIndexName("pa", $"p{names - 1}"), made);
    }

    // The names of the metric and parameter indexes on the trials, in ordinal order.
    private async Task<List<string>> ValueIndexesAsync()
    {
        await using var connection = new NpgsqlConnection(harness.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT indexname FROM pg_indexes WHERE tablename = 'trials' AND starts_with(indexname, @prefix)", connection);
        command.Parameters.AddWithValue("prefix", PostgresStore.ValueIndexPrefix);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
