using System.Collections;
using LiteDB;
using Tracker.Storage.LiteDb;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>
/// The LiteDB backend answers queries from its trial catalog (every trial's query fields in memory): the catalog follows
/// every write, annotation, rolled-back transaction and reopening, and its paging agrees with its full order on 10,000
/// trials (the 100,000-trial timings are in bench/). Nothing here is timed.
/// </summary>
public sealed class LiteDbTrialCatalogTests(LiteDbTrialCatalogTests.Store fixture) : IClassFixture<LiteDbTrialCatalogTests.Store>, IDisposable
{
    private const int Trials = 10_000, ExperimentCount = 20;

    private readonly string folder = Directory.CreateTempSubdirectory("tracker-catalog-").FullName;
    private readonly List<LiteDbStore> opened = [];

    /// <summary>One store of 10,000 trials for the paging tests: writing them is the slow part.</summary>
    public sealed class Store : IAsyncLifetime
    {
        private readonly string folder = Directory.CreateTempSubdirectory("tracker-catalog-large-").FullName;

        public LiteDbStore Backend { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Backend = new LiteDbStore(Path.Combine(folder, "tracker.db"));
            var random = new Random(12345);
            for (int e = 0; e < ExperimentCount; e++)
                await Backend.SaveExperimentAsync(Experiment($"e{e:D2}", $"sweep {e}", e % 2 == 0 ? "small-cnn" : "resnet18"));
            await Backend.SaveTrialsAsync(Enumerable.Range(0, Trials).Select(i =>
            {
                var state = (i % 10) switch { 0 => TrialState.Running, 1 => TrialState.Failed, _ => TrialState.Completed };
                double f1 = Math.Round(random.NextDouble(), 2); // few distinct values: many ties to break
                return new Trial
                {
                    Id = $"t{i:D5}",
                    ExperimentId = $"e{i % ExperimentCount:D2}",
                    Number = i / ExperimentCount,
                    Parameters = new() { ["learning_rate"] = Math.Exp(random.NextDouble() * Math.Log(1e-5)), ["optimizer"] = i % 3 == 0 ? "sgd" : "adam" },
                    State = state,
                    Epochs = 3,
                    Objective = state == TrialState.Completed ? f1 : null,
                    FinalMetrics = state == TrialState.Running ? [] : new() { [MetricNames.ValF1Macro] = f1, [MetricNames.ValLoss] = 1 - f1 },
                    Tags = i % 250 == 0 ? ["baseline"] : [],
                    CreatedAt = T0.AddSeconds(i / 3), // three trials a second: ties on the time too
                    FinishedAt = state == TrialState.Running ? null : T0.AddSeconds(i + 60),
                };
            }).ToList());
        }

        public ValueTask DisposeAsync()
        {
            Backend.Dispose();
            Directory.Delete(folder, recursive: true);
            return ValueTask.CompletedTask;
        }
    }

    public void Dispose()
    {
        foreach (var store in opened) store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private string DatabasePath => Path.Combine(folder, "tracker.db");

    private LiteDbStore Open()
    {
        foreach (var store in opened) store.Dispose();
        opened.Clear();
        var opening = new LiteDbStore(DatabasePath);
        opened.Add(opening);
        return opening;
    }

    private static Trial Run(string id, int number, double f1, TrialState state = TrialState.Completed, string optimizer = "adam") => Trial(id, "e1", number, state) with
    {
        Parameters = new() { ["optimizer"] = optimizer, ["learning_rate"] = 0.01 * (number + 1) },
        Objective = state == TrialState.Completed ? f1 : null,
        FinalMetrics = new() { [MetricNames.ValF1Macro] = f1 },
        CreatedAt = T0.AddMinutes(number),
    };

    private static async Task<string[]> Ids(LiteDbStore store, TrialQuery query) =>
        (await store.QueryTrialsAsync(query with { PageSize = TrialQuery.MaxPageSize })).Items.Select(r => r.Trial.Id).ToArray();

    private static TrialQuery ByF1 => new() { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) };

    [Theory]
    [InlineData(TrialSortKind.CreatedAt, false)]
    [InlineData(TrialSortKind.CreatedAt, true)]
    [InlineData(TrialSortKind.Objective, false)]
    [InlineData(TrialSortKind.Objective, true)]
    [InlineData(TrialSortKind.FinishedAt, true)]
    [InlineData(TrialSortKind.Number, false)]
    [InlineData(TrialSortKind.State, true)]
    public async Task QueryTrialsAsync_EveryPage_IsTheSliceOfTheExport(TrialSortKind kind, bool descending)
    {
        var query = new TrialQuery { SortBy = new TrialSortField(kind), Descending = descending, PageSize = 300 };
        var export = await fixture.Backend.ExportTrialsAsync(query).Select(r => r.Trial.Id).ToListAsync();

        Assert.Equal(Trials, export.Count);
        Assert.Equal(Trials, export.Distinct().Count());
        // Near the start (top-k), in the middle (full sort) and at the end (top-k in the reverse order).
        foreach (int page in new[] { 0, 1, 2, Trials / 600, Trials / 300 - 1, Trials / 300 })
        {
            var result = await fixture.Backend.QueryTrialsAsync(query with { Page = page });
            Assert.Equal(Trials, result.Total);
            Assert.Equal(export.Skip(page * 300).Take(300), result.Items.Select(r => r.Trial.Id));
        }
    }

    [Fact]
    public async Task QueryTrialsAsync_SortByMetricAcrossAllTrials_RunningOnesLastNewestFirst()
    {
        var last = await fixture.Backend.QueryTrialsAsync(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, Page = (Trials / 500) - 1, PageSize = 500 });

        Assert.Equal(Trials, last.Total);
        // The running trials have no value; among those created in the same second, the lowest id first.
        var expected = Enumerable.Range(0, Trials).Where(i => i % 10 == 0).OrderByDescending(i => i / 3).ThenBy(i => $"t{i:D5}", StringComparer.Ordinal)
            .TakeLast(500).Select(i => $"t{i:D5}");
        Assert.Equal(expected, last.Items.Select(r => r.Trial.Id));
    }

    [Fact]
    public async Task QueryTrialsAsync_FirstUse_DropsTheIndexesOfTheOldQueryPlans()
    {
        using (var raw = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct }))
        {
            var trials = raw.GetCollection("trials");
            trials.EnsureIndex("objective");
            trials.EnsureIndex("_created");
            trials.EnsureIndex("tags", "$.tags[*]");
            trials.EnsureIndex("x_finalMetrics_val_f1_m_0a1b2c3d", "$.finalMetrics.val_f1_macro");
        }
        var store = Open();
        await store.SaveTrialAsync(Run("a", 0, 0.5));
        Assert.Contains("objective", store.TrialIndexNames());

        Assert.Equal(["a"], await Ids(store, ByF1));

        Assert.Equal(["_id", "experimentId", "state"], store.TrialIndexNames().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Catalog_AfterEachKindOfWrite_QueriesAndTallySeeTheChange()
    {
        var store = Open();
        await store.SaveExperimentAsync(Experiment("e1", "Shapes sweep"));
        await store.SaveTrialsAsync([Run("a", 0, 0.5), Run("b", 1, 0.7), Run("c", 2, 0.6, TrialState.Running)]);
        Assert.Equal(["b", "c", "a"], await Ids(store, ByF1)); // the catalog is built here

        // A new trial.
        await store.SaveTrialAsync(Run("d", 3, 0.9, optimizer: "sgd"));
        Assert.Equal(["d", "b", "c", "a"], await Ids(store, ByF1));
        Assert.Equal(["d"], await Ids(store, new TrialQuery { Text = "SGD" }));

        // A replaced trial: new state, metric and parameter.
        await store.UpdateTrialAsync("c", t => new TrialWrite(t with
        {
            State = TrialState.Completed, Objective = 0.95, FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.95 },
            Parameters = new() { ["optimizer"] = "sgd", ["learning_rate"] = 0.5 },
        }));
        Assert.Equal(["c", "d", "b", "a"], await Ids(store, ByF1));
        Assert.Equal(["c", "d"], await Ids(store, new TrialQuery { Text = "sgd", SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) }));
        Assert.Empty(await Ids(store, new TrialQuery { States = [TrialState.Running] }));
        Assert.Equal(["c"], await Ids(store, new TrialQuery { Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(0.1, null) } }));
        var tally = await store.TallyTrialsAsync("e1", ObjectiveDirection.Maximize);
        Assert.Equal(4, tally.ByState[TrialState.Completed]);
        Assert.Equal(("c", 0.95), (tally.BestTrialId!, tally.BestObjective!.Value));

        // An annotation: tags and notes, found by the tag and free-text filters.
        await store.UpdateTrialAnnotationsAsync("a", ["Keep"], "looks odd");
        Assert.Equal(["a"], await Ids(store, new TrialQuery { Tag = "keep" }));
        Assert.Equal(["a"], await Ids(store, new TrialQuery { Text = "ODD" }));
        await store.UpdateTrialAnnotationsAsync("a", [], "");
        Assert.Empty(await Ids(store, new TrialQuery { Tag = "keep" }));
        Assert.Empty(await Ids(store, new TrialQuery { Text = "odd" }));

        // A logged run, deleted: MLflow's conditions and the lifecycle filter see it.
        await store.SaveTrialAsync(Run("e", 4, 0.1) with
        {
            LifecycleStage = LifecycleStage.Deleted,
            RunTags = new() { [RunRegistry.RunNameTag] = "brave-owl" },
            Logged = new LoggedRunInfo { UserId = "ada", Params = new() { ["optimizer"] = "Adam" } },
        });
        Assert.Equal(["e"], await Ids(store, new TrialQuery { Lifecycles = [LifecycleStage.Deleted] }));
        Assert.Equal(["e"], await Ids(store, new TrialQuery
        {
            Conditions =
            [
                new(TrialField.Of(TrialAttribute.RunName), SearchOperator.Like, SearchValue.Of("brave%")),
                new(TrialField.Param("optimizer"), SearchOperator.Equal, SearchValue.Of("Adam")),
                new(TrialField.Of(TrialAttribute.UserId), SearchOperator.Equal, SearchValue.Of("ada")),
            ],
        }));
        Assert.Equal(4, (await store.TallyTrialsAsync("e1", ObjectiveDirection.Maximize)).Total); // deleted runs do not count
    }

    [Fact]
    public async Task Catalog_RolledBackWrite_LeavesTheQueriesAsBefore()
    {
        var store = Open();
        await store.SaveTrialsAsync([Run("a", 0, 0.5), Run("b", 1, 0.7)]);
        Assert.Equal(["b", "a"], await Ids(store, ByF1));

        // The points fail to be read after the trial is written: the transaction rolls back, the catalog too.
        await Assert.ThrowsAsync<IOException>(() => store.SaveTrialAsync(Run("c", 2, 0.9), new FailingPoints()));
        await Assert.ThrowsAsync<IOException>(() => store.UpdateTrialAsync("a", t => new TrialWrite(
            t with { FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.99 } }, new FailingPoints())));

        Assert.Equal(["b", "a"], await Ids(store, ByF1));
        Assert.Null(await store.GetTrialAsync("c"));
        var a = (await store.QueryTrialsAsync(new TrialQuery { ExperimentIds = ["e1"], SortBy = new(TrialSortKind.Number), Descending = false })).Items[0].Trial;
        Assert.Equal(0.5, a.FinalMetrics[MetricNames.ValF1Macro]);
        Assert.Equal(2, (await store.TallyTrialsAsync("e1", ObjectiveDirection.Maximize)).Total);

        // The next write goes through as usual.
        await store.SaveTrialAsync(Run("c", 2, 0.9));
        Assert.Equal(["c", "b", "a"], await Ids(store, ByF1));
    }

    [Fact]
    public async Task Catalog_AfterReopen_IsBuiltFromTheFileWithEveryChange()
    {
        var store = Open();
        await store.SaveTrialsAsync([Run("a", 0, 0.5), Run("b", 1, 0.7)]);
        Assert.Equal(["b", "a"], await Ids(store, ByF1));
        await store.UpdateTrialAnnotationsAsync("a", ["best"], null);
        await store.UpdateTrialAsync("b", t => new TrialWrite(t with { FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.2 } }));

        var reopened = Open();

        Assert.Equal(["a", "b"], await Ids(reopened, ByF1));
        Assert.Equal(["a"], await Ids(reopened, new TrialQuery { Tag = "BEST" }));
        var fields = await reopened.TrialFieldsAsync(new TrialQuery());
        Assert.Equal(["learning_rate", "optimizer"], fields.Parameters);
        Assert.Equal([MetricNames.ValF1Macro], fields.Metrics);
    }

    [Fact]
    public async Task TallyTrialsAsync_BeforeAnyQuery_BuildsTheCatalogAndCounts()
    {
        var store = Open();
        await store.SaveTrialsAsync([Run("a", 0, 0.5), Run("b", 1, 0.7), Run("c", 2, 0, TrialState.Failed), Run("x", 0, 0.9) with { ExperimentId = "e2" }]);
        var reopened = Open();

        var tally = await reopened.TallyTrialsAsync("E1", ObjectiveDirection.Minimize);

        Assert.Equal(new Dictionary<TrialState, int> { [TrialState.Completed] = 2, [TrialState.Failed] = 1 }, tally.ByState);
        Assert.Equal(("a", 0.5), (tally.BestTrialId!, tally.BestObjective!.Value));
    }

    /// <summary>Points whose reading fails, so that the transaction writing them rolls back.</summary>
    private sealed class FailingPoints : IReadOnlyCollection<MetricPoint>
    {
        public int Count => 1;

        public IEnumerator<MetricPoint> GetEnumerator() => throw new IOException("The points cannot be read.");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
