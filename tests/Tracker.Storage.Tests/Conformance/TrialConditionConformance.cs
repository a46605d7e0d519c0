using System.Diagnostics;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary>
/// <see cref="TrialQuery.Conditions"/>, <see cref="TrialQuery.OrderBy"/>, <see cref="TrialQuery.Lifecycles"/> and
/// <see cref="TrialQuery.LoggedOnly"/>: MLflow's run search, answered by the store.
/// </summary>
public abstract class TrialConditionConformance : StoreConformance
{
    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static Trial Run(string id, int number, TrialState state, DateTimeOffset? started, Dictionary<string, string> tags,
        Dictionary<string, double> metrics, Dictionary<string, string> loggedParams, string userId = "") => new()
    {
        Id = id,
        ExperimentId = "m1",
        Number = number,
        Parameters = loggedParams.ToDictionary(p => p.Key, p => double.TryParse(p.Value, System.Globalization.CultureInfo.InvariantCulture, out var d) ? ParameterValue.Of(d) : ParameterValue.Of(p.Value)),
        State = state,
        Epochs = 1,
        FinalMetrics = metrics,
        CreatedAt = T0.AddSeconds(number),
        StartedAt = started,
        FinishedAt = state is TrialState.Running or TrialState.Queued ? null : started?.AddMinutes(1),
        RunTags = tags,
        Logged = new LoggedRunInfo { UserId = userId, ArtifactUri = $"file:///artifacts/{id}", Params = loggedParams },
    };

    /// <summary>Five logged runs of experiment m1 (r4 deleted and without a start time) and one trial the server ran (n1).</summary>
    private async Task SeedAsync()
    {
        await Experiments.SaveExperimentAsync(Experiment("m1", "mlflow runs", "", "", TrialExecution.Logged));
        await Experiments.SaveExperimentAsync(Experiment("e1", "sweep"));
        await Trials.SaveTrialsAsync(
        [
            Run("r1", 0, TrialState.Completed, T0.AddMinutes(1),
                new() { ["mlflow.runName"] = "alpha-run", ["team"] = "Vision", ["path"] = "a.b[1]" },
                new() { ["acc"] = 0.9, ["loss"] = 0.1 }, new() { ["lr"] = "0.01", ["opt"] = "adam" }, "ann"),
            Run("r2", 1, TrialState.Failed, T0.AddMinutes(2),
                new() { ["mlflow.runName"] = "beta-run", ["team"] = "vision", ["path"] = "axb[1]" },
                new() { ["acc"] = 0.7 }, new() { ["lr"] = "1e-3" }, "bob"),
            Run("r3", 2, TrialState.Completed, T0.AddMinutes(3),
                new() { ["mlflow.runName"] = "gamma" },
                new() { ["acc"] = 0.9, ["loss"] = 0.3 }, new() { ["lr"] = "0.01" }, "ann"),
            Run("r4", 3, TrialState.Running, null, [], [], []) with { CreatedAt = T0.AddMinutes(4), LifecycleStage = LifecycleStage.Deleted },
            Run("r5", 4, TrialState.Completed, T0.AddMinutes(5),
                new() { ["mlflow.runName"] = "delta" },
                new() { ["acc"] = double.NaN }, []),
            new Trial
            {
                Id = "n1", ExperimentId = "e1", Number = 0, Epochs = 1, State = TrialState.Completed,
                Parameters = new() { ["lr"] = 0.01, ["opt"] = "adam" },
                FinalMetrics = new() { ["acc"] = 0.8 },
                CreatedAt = T0, StartedAt = T0.AddMinutes(6), FinishedAt = T0.AddMinutes(7),
            },
        ]);
    }

    private async Task<string[]> Ids(TrialQuery query) =>
        (await Trials.QueryTrialsAsync(query with { PageSize = TrialQuery.MaxPageSize })).Items.Select(r => r.Trial.Id).ToArray();

    private async Task<string[]> Where(TrialCondition condition, bool loggedOnly = false) =>
        (await Ids(new TrialQuery { Conditions = [condition], LoggedOnly = loggedOnly })).Order(StringComparer.Ordinal).ToArray();

    private static TrialCondition Metric(string name, SearchOperator op, double value) => new(TrialField.Metric(name), op, SearchValue.Of(value));

    private static TrialCondition Param(string name, SearchOperator op, string value) => new(TrialField.Param(name), op, SearchValue.Of(value));

    private static TrialCondition Tag(string name, SearchOperator op, string value) => new(TrialField.RunTag(name), op, SearchValue.Of(value));

    private static TrialCondition Tag(string name, SearchOperator op, IReadOnlyList<string> values) => new(TrialField.RunTag(name), op, SearchValue.Of(values));

    private static TrialCondition Attribute(TrialAttribute attribute, SearchOperator op, string value) => new(TrialField.Of(attribute), op, SearchValue.Of(value));

    private static TrialCondition Attribute(TrialAttribute attribute, SearchOperator op, IReadOnlyList<string> values) => new(TrialField.Of(attribute), op, SearchValue.Of(values));

    private static TrialCondition Attribute(TrialAttribute attribute, SearchOperator op, double value) => new(TrialField.Of(attribute), op, SearchValue.Of(value));

    [Fact]
    public async Task QueryTrialsAsync_MetricComparisons_CompareTheFinalValue()
    {
        await SeedAsync();

        Assert.Equal(["r1", "r3"], await Where(Metric("acc", SearchOperator.Greater, 0.8)));            // not n1 (0.8), r5 (NaN), r4 (none)
        Assert.Equal(["n1", "r1", "r3"], await Where(Metric("acc", SearchOperator.GreaterOrEqual, 0.8)));
        Assert.Equal(["r2"], await Where(Metric("acc", SearchOperator.Less, 0.8)));
        Assert.Equal(["r2"], await Where(Metric("acc", SearchOperator.LessOrEqual, 0.7)));
        Assert.Equal(["r1", "r3"], await Where(Metric("acc", SearchOperator.Equal, 0.9)));
        Assert.Equal(["r1", "r3"], await Where(Metric("acc", SearchOperator.Greater, 0.8), loggedOnly: true));
    }

    [Fact]
    public async Task QueryTrialsAsync_MissingField_NeverMatchesEvenNotEqual()
    {
        await SeedAsync();

        Assert.Equal(["r3"], await Where(Metric("loss", SearchOperator.NotEqual, 0.1)));            // r2, r4, r5, n1 have no loss
        Assert.Equal(["r2"], await Where(Tag("team", SearchOperator.NotEqual, "Vision")));           // r3, r4, r5, n1 have no team
        Assert.Equal(["r2"], await Where(Param("lr", SearchOperator.NotEqual, "0.01"), loggedOnly: true)); // r4, r5 have no lr
        Assert.Equal(["r2"], await Where(Tag("team", SearchOperator.NotIn, ["Vision"])));
        Assert.Empty(await Where(Metric("no_such_metric", SearchOperator.NotEqual, 1)));
        Assert.Equal(["r1", "r2", "r3", "r5"], await Where(Attribute(TrialAttribute.EndTime, SearchOperator.Greater, 0), loggedOnly: true)); // r4 runs
    }

    [Fact]
    public async Task QueryTrialsAsync_ParamEquals_ComparesTheLoggedText()
    {
        await SeedAsync();

        Assert.Equal(["r1", "r3"], await Where(Param("lr", SearchOperator.Equal, "0.01"), loggedOnly: true));
        Assert.Equal(["r2"], await Where(Param("lr", SearchOperator.Equal, "1e-3")));
        Assert.Empty(await Where(Param("lr", SearchOperator.Equal, "0.001"), loggedOnly: true));    // r2 logged "1e-3": text, not number
        Assert.Equal(["n1", "r1"], await Where(Param("opt", SearchOperator.Equal, "adam")));        // n1's string parameter
        Assert.Equal(["r1"], await Where(Param("opt", SearchOperator.Like, "ad%"), loggedOnly: true));
    }

    [Fact]
    public async Task QueryTrialsAsync_RunTagPatterns_LikeIsCaseSensitiveILikeIsNot()
    {
        await SeedAsync();

        Assert.Equal(["r1"], await Where(Tag("team", SearchOperator.Like, "V%")));
        Assert.Equal(["r1", "r2"], await Where(Tag("team", SearchOperator.ILike, "v%")));
        Assert.Equal(["r1", "r2"], await Where(Tag("team", SearchOperator.Like, "%ision")));
        Assert.Empty(await Where(Tag("team", SearchOperator.Like, "VISION")));
        Assert.Equal(["r1", "r2"], await Where(Tag("team", SearchOperator.ILike, "VISION")));
        Assert.Equal(["r1"], await Where(Tag("team", SearchOperator.Equal, "Vision")));
        Assert.Equal(["r2"], await Where(Tag("team", SearchOperator.In, ["vision", "audio"])));
        // '.', '[' and ']' are characters, '_' is one character of any kind.
        Assert.Equal(["r1"], await Where(Tag("path", SearchOperator.Like, "a.b%")));
        Assert.Equal(["r1", "r2"], await Where(Tag("path", SearchOperator.Like, "a_b[1]")));
        Assert.Empty(await Where(Tag("path", SearchOperator.Like, "a_b[")));
    }

    [Fact]
    public async Task QueryTrialsAsync_StringAttributes_RunNameUserIdStateAndIds()
    {
        await SeedAsync();

        Assert.Equal(["r3"], await Where(Attribute(TrialAttribute.RunName, SearchOperator.Equal, "gamma")));
        Assert.Equal(["r1", "r2"], await Where(Attribute(TrialAttribute.RunName, SearchOperator.Like, "%-run")));
        // Every run has a name: without the mlflow.runName tag it is "" (as MLflow's search has always read it), not absent.
        Assert.Equal(["n1", "r1", "r2", "r4", "r5"], await Where(Attribute(TrialAttribute.RunName, SearchOperator.NotEqual, "gamma")));
        Assert.Equal(["n1", "r4"], await Where(Attribute(TrialAttribute.RunName, SearchOperator.Equal, "")));
        Assert.Equal(["r1", "r3"], await Where(Attribute(TrialAttribute.UserId, SearchOperator.Equal, "ann")));
        Assert.Equal(["r2", "r4", "r5"], await Where(Attribute(TrialAttribute.UserId, SearchOperator.NotEqual, "ann"))); // n1 has none
        Assert.Equal(["r2"], await Where(Attribute(TrialAttribute.Id, SearchOperator.Equal, "r2")));
        Assert.Equal(["n1"], await Where(Attribute(TrialAttribute.ExperimentId, SearchOperator.Equal, "e1")));
        Assert.Equal(["r4"], await Where(Attribute(TrialAttribute.LifecycleStage, SearchOperator.Equal, "deleted")));
        Assert.Equal(["r1", "r2", "r3", "r5"], await Where(Attribute(TrialAttribute.State, SearchOperator.In, ["completed", "failed"]), loggedOnly: true));
        Assert.Equal(["r2", "r4"], await Where(Attribute(TrialAttribute.State, SearchOperator.NotIn, ["completed"]), loggedOnly: true));
        Assert.Equal(["r4"], await Where(Attribute(TrialAttribute.State, SearchOperator.Equal, "running")));
    }

    [Fact]
    public async Task QueryTrialsAsync_StartTimeRange_UsesStartedElseCreated()
    {
        await SeedAsync();

        var query = new TrialQuery
        {
            Conditions =
            [
                Attribute(TrialAttribute.StartTime, SearchOperator.GreaterOrEqual, Ms(T0.AddMinutes(2))),
                Attribute(TrialAttribute.StartTime, SearchOperator.Less, Ms(T0.AddMinutes(5))),
            ],
        };

        Assert.Equal(["r2", "r3", "r4"], (await Ids(query)).Order(StringComparer.Ordinal)); // r4 has no start: its creation counts
        Assert.Equal(["n1"], await Where(Attribute(TrialAttribute.StartTime, SearchOperator.Greater, Ms(T0.AddMinutes(5)))));
        Assert.Equal(["r1"], await Where(Attribute(TrialAttribute.StartTime, SearchOperator.Equal, Ms(T0.AddMinutes(1)))));
    }

    [Fact]
    public async Task QueryTrialsAsync_LifecyclesAndLoggedOnly_FilterTheRuns()
    {
        await SeedAsync();

        Assert.Equal(["r4"], (await Ids(new TrialQuery { Lifecycles = [LifecycleStage.Deleted] })).Order(StringComparer.Ordinal));
        Assert.Equal(["n1", "r1", "r2", "r3", "r5"], (await Ids(new TrialQuery { Lifecycles = [LifecycleStage.Active] })).Order(StringComparer.Ordinal));
        Assert.Equal(6, (await Trials.QueryTrialsAsync(new TrialQuery { Lifecycles = [LifecycleStage.Active, LifecycleStage.Deleted] })).Total);
        Assert.Equal(6, (await Trials.QueryTrialsAsync(new TrialQuery())).Total);
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], (await Ids(new TrialQuery { LoggedOnly = true })).Order(StringComparer.Ordinal));
        Assert.Equal(["r1", "r2", "r3", "r5"], (await Ids(new TrialQuery { LoggedOnly = true, Lifecycles = [LifecycleStage.Active] })).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task QueryTrialsAsync_SeveralConditions_AllMustHoldAndTotalCountsThem()
    {
        await SeedAsync();
        var query = new TrialQuery
        {
            Conditions = [Metric("acc", SearchOperator.GreaterOrEqual, 0.7), Tag("team", SearchOperator.ILike, "%vis%")],
            ExperimentIds = ["m1"],
            PageSize = 1,
        };

        var first = await Trials.QueryTrialsAsync(query);
        var exported = await Trials.ExportTrialsAsync(query).ToListAsync();

        Assert.Equal(2, first.Total);
        Assert.Single(first.Items);
        Assert.Equal(["r1", "r2"], exported.Select(r => r.Trial.Id).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false, new[] { "r2", "r3", "r1", "r5", "r4" })]
    [InlineData(true, new[] { "r3", "r1", "r2", "r5", "r4" })]
    public async Task QueryTrialsAsync_OrderByMetric_MissingAndNaNLastTiesByStartTimeNewestFirst(bool descending, string[] expected)
    {
        await SeedAsync();

        // r1 and r3 tie at 0.9: r3 started later. r5 (NaN) and r4 (none) come last either way, newest start first.
        var ids = await Ids(new TrialQuery { LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Metric("acc"), Ascending: !descending)] });

        Assert.Equal(expected, ids);
    }

    [Fact]
    public async Task QueryTrialsAsync_OrderByStringsAndSeveralKeys_FollowsPrecedence()
    {
        await SeedAsync();

        // r4's name is "" (see above): first ascending, last descending.
        Assert.Equal(["r4", "r1", "r2", "r5", "r3"],
            await Ids(new TrialQuery { LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Of(TrialAttribute.RunName), Ascending: true)] }));
        Assert.Equal(["r3", "r5", "r2", "r1", "r4"],
            await Ids(new TrialQuery { LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Of(TrialAttribute.RunName), Ascending: false)] }));
        Assert.Equal(["r5", "r3", "r1", "r2", "r4"], await Ids(new TrialQuery
        {
            LoggedOnly = true,
            OrderBy = [new TrialOrder(TrialField.Of(TrialAttribute.State), Ascending: true), new TrialOrder(TrialField.Of(TrialAttribute.StartTime), Ascending: false)],
        }));
        // OrderBy replaces SortBy and Descending.
        Assert.Equal(["r3", "r1", "r2", "r5", "r4"], await Ids(new TrialQuery
        {
            LoggedOnly = true, SortBy = new(TrialSortKind.Number), Descending = false,
            OrderBy = [new TrialOrder(TrialField.Metric("acc"), Ascending: false)],
        }));
    }

    [Fact]
    public async Task QueryTrialsAsync_RunStatus_OrdersAndFiltersByTheStatusName()
    {
        await SeedAsync();

        // FAILED < FINISHED < RUNNING; the three FINISHED runs by start time, newest first.
        Assert.Equal(["r2", "r5", "r3", "r1", "r4"], await Ids(new TrialQuery
        {
            LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Of(TrialAttribute.RunStatus), Ascending: true)],
        }));
        Assert.Equal(["r4", "r5", "r3", "r1", "r2"], await Ids(new TrialQuery
        {
            LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Of(TrialAttribute.RunStatus), Ascending: false)],
        }));
        Assert.Equal(["r1", "r3", "r5"], await Where(Attribute(TrialAttribute.RunStatus, SearchOperator.Equal, "FINISHED"), loggedOnly: true));
        Assert.Equal(["r1", "r3", "r4", "r5"], await Where(Attribute(TrialAttribute.RunStatus, SearchOperator.Like, "%NI%"), loggedOnly: true));
    }

    [Fact]
    public async Task QueryTrialsAsync_OrderByWithPages_PagesFollowTheOrder()
    {
        await SeedAsync();
        var query = new TrialQuery { LoggedOnly = true, OrderBy = [new TrialOrder(TrialField.Metric("acc"), Ascending: false)], PageSize = 2 };

        var pages = new List<TrialQueryResult>();
        for (int p = 0; p < 3; p++) pages.Add(await Trials.QueryTrialsAsync(query with { Page = p }));

        Assert.All(pages, p => Assert.Equal(5, p.Total));
        Assert.Equal(["r3", "r1", "r2", "r5", "r4"], pages.SelectMany(p => p.Items).Select(r => r.Trial.Id));
    }

    [Fact]
    public async Task QueryTrialsAsync_OrderByTiesInValueAndStart_BrokenByIdOrdinal()
    {
        var started = T0.AddHours(1);
        await Trials.SaveTrialsAsync(new[] { "x2", "x10", "x1", "X9" }.Select((id, i) =>
            Trial(id, "e1", i) with { StartedAt = started, FinalMetrics = new() { ["acc"] = 0.5 } }));

        Assert.Equal(["X9", "x1", "x10", "x2"], await Ids(new TrialQuery { OrderBy = [new TrialOrder(TrialField.Metric("acc"), Ascending: false)] }));
        Assert.Equal(["X9", "x1", "x10", "x2"], await Ids(new TrialQuery { OrderBy = [new TrialOrder(TrialField.Metric("missing"), Ascending: true)] }));
    }

    [Fact]
    public async Task QueryTrialsAsync_PathologicalLikePattern_FinishesQuickly()
    {
        await Trials.SaveTrialsAsync(Enumerable.Range(0, 20).Select(i =>
            Trial($"t{i:D2}", "e1", i) with { RunTags = new() { ["long"] = new string('a', 60) } }));
        var clock = Stopwatch.StartNew();

        var none = await Where(Tag("long", SearchOperator.Like, "%a%a%a%a%a%a%a%b"));
        var noneIgnoringCase = await Where(Tag("long", SearchOperator.ILike, "%A%A%A%A%A%A%A%B"));
        clock.Stop();
        var all = await Where(Tag("long", SearchOperator.Like, "%a%a%a%a%a%a%a%a"));

        Assert.Empty(none);
        Assert.Empty(noneIgnoringCase);
        Assert.Equal(20, all.Length);
        // A guard against backtracking matchers (they take minutes here), not a benchmark.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"The two LIKE queries took {clock.Elapsed}.");
    }
}
