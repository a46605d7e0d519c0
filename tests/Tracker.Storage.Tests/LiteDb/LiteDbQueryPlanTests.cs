using LiteDB;
using Tracker.Storage.LiteDb;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>
/// The LiteDB backend answers the runs browser's main filters through indexes: LiteDB's query plans for 10,000 trials
/// (the 100,000-trial timings are in bench/). Nothing here is timed.
/// </summary>
public sealed class LiteDbQueryPlanTests(LiteDbQueryPlanTests.Store fixture) : IClassFixture<LiteDbQueryPlanTests.Store>
{
    private const int Trials = 10_000, ExperimentCount = 20;

    /// <summary>One store of 10,000 trials for the whole class: writing them is the slow part.</summary>
    public sealed class Store : IAsyncLifetime
    {
        private readonly string folder = Directory.CreateTempSubdirectory("tracker-plans-").FullName;

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
                double f1 = random.NextDouble();
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
                    CreatedAt = T0.AddSeconds(i),
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

    private static (string Index, string Loader, bool Sorts) Describe(BsonDocument plan) =>
        (plan["index"]["mode"].AsString, plan["lookup"]["loader"].AsString, plan.ContainsKey("orderBy"));

    private (string Index, string Loader, bool Sorts) Count(TrialQuery q) => Describe(fixture.Backend.Explain(q)!.Value.Count);

    private (string Index, string Loader, bool Sorts) Page(TrialQuery q) => Describe(fixture.Backend.Explain(q)!.Value.Page);

    [Fact]
    public void Explain_RootFilters_SeekTheirIndex()
    {
        Assert.StartsWith("INDEX SEEK(experimentId", Count(new TrialQuery { ExperimentIds = ["e03"] }).Index);
        Assert.StartsWith("INDEX SEEK(experimentId", Count(new TrialQuery { Model = "small-cnn" }).Index); // resolved to experiment ids
        Assert.StartsWith("INDEX SEEK(state", Count(new TrialQuery { States = [TrialState.Failed] }).Index);
        Assert.StartsWith("INDEX SEEK(tags", Count(new TrialQuery { Tag = "baseline" }).Index);
    }

    [Fact]
    public void Explain_MetricAndParameterFilters_ScanARangeOfTheirIndex()
    {
        Assert.StartsWith("INDEX RANGE SCAN(x_finalMetrics_val_f1_m", Count(new TrialQuery { Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.99, null) } }).Index);
        // A parameter gets its index the first time someone filters or sorts by it.
        Assert.StartsWith("INDEX RANGE SCAN(x_parameters_learning_r", Count(new TrialQuery { Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1e-3, 2e-3) } }).Index);
        Assert.StartsWith("INDEX SEEK(x_parameters_optimizer", Count(new TrialQuery { Parameters = new Dictionary<string, ValueFilter> { ["optimizer"] = ValueFilter.Exactly("sgd") } }).Index);
    }

    [Fact]
    public void Explain_SortByIndexedKey_WalksTheIndexWithoutASortStep()
    {
        var newest = Page(new TrialQuery());
        Assert.Contains("created", newest.Index);
        Assert.False(newest.Sorts);
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
    }

    [Fact]
    public void Explain_CountWithoutFilters_ReadsIndexKeysOnly()
    {
        Assert.Equal("index", Describe(fixture.Backend.Explain(new TrialQuery())!.Value.Count).Loader);
    }

    [Fact]
    public async Task QueryTrialsAsync_SortByMetricAcrossAllTrials_RunningOnesLastNewestFirst()
    {
        var last = await fixture.Backend.QueryTrialsAsync(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, Page = (Trials / 500) - 1, PageSize = 500 });

        Assert.Equal(Trials, last.Total);
        Assert.Equal(Enumerable.Range(0, Trials).Where(i => i % 10 == 0).Reverse().TakeLast(500).Select(i => $"t{i:D5}"), last.Items.Select(r => r.Trial.Id));
    }
}
