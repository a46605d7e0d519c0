using LiteDB;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

/// <summary>
/// The runs browser at scale: 10,000 trials (the 100,000-trial timings are in bench/Tracker.RunsBench). Nothing here is
/// timed; the assertions are on the rows and on LiteDB's query plans, which show the filters answered through indexes.
/// </summary>
public sealed class TrialQueryScaleTests : IClassFixture<TrialQueryScaleTests.Store>
{
    private const int Trials = 10_000, Experiments = 20;
    private readonly Store fixture;

    public TrialQueryScaleTests(Store fixture) => this.fixture = fixture;

    /// <summary>One store of 10,000 trials for the whole class: writing them is the slow part.</summary>
    public sealed class Store : IDisposable
    {
        private readonly string folder = Directory.CreateTempSubdirectory("tracker-scale-").FullName;

        public Store()
        {
            RunStore = new LiteDbRunStore(Path.Combine(folder, "tracker.db"));
            var random = new Random(12345);
            var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
            for (int e = 0; e < Experiments; e++)
                RunStore.SaveExperiment(new Experiment
                {
                    Id = $"e{e:D2}",
                    CreatedAt = t0,
                    Spec = new ExperimentSpec { Name = $"sweep {e}", Model = e % 2 == 0 ? "small-cnn" : "resnet18", Strategy = "random" },
                });
            All = Enumerable.Range(0, Trials).Select(i =>
            {
                var state = (i % 10) switch { 0 => TrialState.Running, 1 => TrialState.Failed, _ => TrialState.Completed };
                double f1 = random.NextDouble();
                return new Trial
                {
                    Id = $"t{i:D5}",
                    ExperimentId = $"e{i % Experiments:D2}",
                    Number = i / Experiments,
                    Parameters = new() { ["learning_rate"] = Math.Exp(random.NextDouble() * Math.Log(1e-5)), ["optimizer"] = i % 3 == 0 ? "sgd" : "adam" },
                    State = state,
                    Epochs = 3,
                    Objective = state == TrialState.Completed ? f1 : null,
                    FinalMetrics = state == TrialState.Running ? [] : new() { [MetricNames.ValF1Macro] = f1, [MetricNames.ValLoss] = 1 - f1 },
                    Tags = i % 250 == 0 ? ["baseline"] : [],
                    CreatedAt = t0.AddSeconds(i),
                    FinishedAt = state == TrialState.Running ? null : t0.AddSeconds(i + 60),
                };
            }).ToList();
            RunStore.SaveTrials(All);
        }

        public LiteDbRunStore RunStore { get; }

        public List<Trial> All { get; }

        public void Dispose()
        {
            RunStore.Dispose();
            Directory.Delete(folder, recursive: true);
        }
    }

    private static double F1(Trial t) => t.FinalMetrics[MetricNames.ValF1Macro];

    [Fact]
    public void QueryTrials_FilteredSortedFirstPage_ReturnsTheRightRows()
    {
        var query = new TrialQuery
        {
            ExperimentIds = ["e07"],
            States = [TrialState.Completed],
            SortBy = TrialSortField.Metric(MetricNames.ValF1Macro),
            PageSize = 20,
        };

        var page = fixture.RunStore.QueryTrials(query);

        var expected = fixture.All.Where(t => t.ExperimentId == "e07" && t.State == TrialState.Completed).OrderByDescending(F1).ToList();
        Assert.Equal(expected.Count, page.Total);
        Assert.Equal(expected.Take(20).Select(t => t.Id), page.Items.Select(r => r.Trial.Id));
        Assert.All(page.Items, r => Assert.Equal("sweep 7", r.ExperimentName));
    }

    [Fact]
    public void QueryTrials_BroadFilterDeepPage_MatchesLinq()
    {
        var query = new TrialQuery
        {
            Model = "resnet18",
            Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1e-4, 1e-2) },
            Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.5, null) },
            SortBy = TrialSortField.Parameter("learning_rate"),
            Descending = false,
            Page = 3,
            PageSize = 25,
        };

        var page = fixture.RunStore.QueryTrials(query);

        var expected = fixture.All
            .Where(t => int.Parse(t.ExperimentId[1..]) % 2 == 1 && t.Parameters["learning_rate"].AsDouble() is >= 1e-4 and <= 1e-2
                        && t.FinalMetrics.TryGetValue(MetricNames.ValF1Macro, out var f1) && f1 >= 0.5)
            .OrderBy(t => t.Parameters["learning_rate"].AsDouble()).ToList();
        Assert.Equal(expected.Count, page.Total);
        Assert.Equal(expected.Skip(75).Take(25).Select(t => t.Id), page.Items.Select(r => r.Trial.Id));
    }

    [Fact]
    public void QueryTrials_SortByMetricAcrossAllTrials_RunningOnesLast()
    {
        var last = fixture.RunStore.QueryTrials(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, Page = (Trials / 500) - 1, PageSize = 500 });
        var first = fixture.RunStore.QueryTrials(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, PageSize = 10 });

        Assert.Equal(Trials, last.Total);
        Assert.Equal(fixture.All.Where(t => t.FinalMetrics.Count > 0).OrderBy(F1).Take(10).Select(t => t.Id), first.Items.Select(r => r.Trial.Id));
        // The 1,000 running trials have no metrics: the last two pages, newest first.
        Assert.Equal(fixture.All.Where(t => t.State == TrialState.Running).OrderByDescending(t => t.CreatedAt).TakeLast(500).Select(t => t.Id),
            last.Items.Select(r => r.Trial.Id));
    }

    [Fact]
    public void Explain_MainFilters_UseAnIndexNotAFullScan()
    {
        var store = fixture.RunStore;
        (string Index, string Loader, bool Sorts) Count(TrialQuery q) => Describe(store.Explain(q)!.Value.Count);
        (string Index, string Loader, bool Sorts) Page(TrialQuery q) => Describe(store.Explain(q)!.Value.Page);

        Assert.StartsWith("INDEX SEEK(experimentId", Count(new TrialQuery { ExperimentIds = ["e03"] }).Index);
        Assert.StartsWith("INDEX SEEK(experimentId", Count(new TrialQuery { Model = "small-cnn" }).Index); // resolved to experiment ids
        Assert.StartsWith("INDEX SEEK(state", Count(new TrialQuery { States = [TrialState.Failed] }).Index);
        Assert.StartsWith("INDEX SEEK(tags", Count(new TrialQuery { Tag = "baseline" }).Index);
        Assert.StartsWith("INDEX RANGE SCAN(x_finalMetrics_val_f1_m", Count(new TrialQuery { Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.99, null) } }).Index);
        // A parameter gets its index the first time someone filters or sorts by it.
        Assert.StartsWith("INDEX RANGE SCAN(x_parameters_learning_r", Count(new TrialQuery { Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1e-3, 2e-3) } }).Index);
        Assert.StartsWith("INDEX SEEK(x_parameters_optimizer", Count(new TrialQuery { Parameters = new Dictionary<string, ValueFilter> { ["optimizer"] = ValueFilter.Exactly("sgd") } }).Index);

        // Sorting by an indexed key walks that index in order and stops after the page: no sort step.
        Assert.Equal(("FULL INDEX SCAN(created)", false), Page(new TrialQuery()) is var p0 ? (p0.Index, p0.Sorts) : default);
        var byMetric = Page(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) });
        Assert.StartsWith("INDEX RANGE SCAN(x_finalMetrics_val_f1_m", byMetric.Index);
        Assert.False(byMetric.Sorts);
        // ... also when a filter matches most trials (90% are not running); a narrow filter uses its own index and sorts its few matches.
        var broad = Page(new TrialQuery { States = [TrialState.Completed, TrialState.Failed], SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) });
        Assert.StartsWith("INDEX RANGE SCAN(x_finalMetrics_val_f1_m", broad.Index);
        Assert.False(broad.Sorts);
        var narrow = Page(new TrialQuery { Tag = "baseline", SortBy = TrialSortField.Metric(MetricNames.ValF1Macro) });
        Assert.StartsWith("INDEX SEEK(tags", narrow.Index);
        Assert.True(narrow.Sorts);

        // Counting a single filter on a root field reads the index keys alone.
        Assert.Equal("index", Describe(store.Explain(new TrialQuery())!.Value.Count).Loader);
    }

    [Fact]
    public void QueryTrials_Totals_MatchLinqForEachFilterKind()
    {
        var store = fixture.RunStore;
        Assert.Equal(Trials, store.QueryTrials(new TrialQuery()).Total);
        Assert.Equal(fixture.All.Count(t => t.State == TrialState.Running), store.QueryTrials(new TrialQuery { States = [TrialState.Running] }).Total);
        Assert.Equal(fixture.All.Count(t => t.ExperimentId is "e01" or "e02"), store.QueryTrials(new TrialQuery { ExperimentIds = ["e01", "e02"] }).Total);
        Assert.Equal(fixture.All.Count(t => t.Tags.Contains("baseline")), store.QueryTrials(new TrialQuery { Tag = "Baseline" }).Total);
        Assert.Equal(fixture.All.Count(t => t.Parameters["optimizer"].Text == "sgd"), store.QueryTrials(new TrialQuery { Text = "sgd" }).Total);
    }

    private static (string Index, string Loader, bool Sorts) Describe(BsonDocument plan) =>
        (plan["index"]["mode"].AsString, plan["lookup"]["loader"].AsString, plan.ContainsKey("orderBy"));
}
