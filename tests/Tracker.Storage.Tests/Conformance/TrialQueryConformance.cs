using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary>The runs browser's query (<see cref="ITrialStore.QueryTrialsAsync"/>): every filter, sort and page is the store's.</summary>
public abstract class TrialQueryConformance : StoreConformance
{
    private static readonly DateTimeOffset Q0 = new(2025, 3, 4, 5, 0, 0, TimeSpan.Zero);

    private static Trial NewTrial(string id, string experimentId, int number, TrialState state = TrialState.Completed,
        double? f1 = null, double? lr = null, string? optimizer = null, int minutes = 0)
    {
        var parameters = new Dictionary<string, ParameterValue>();
        if (lr is { } l) parameters["learning_rate"] = l;
        if (optimizer is { } o) parameters["optimizer"] = o;
        return new Trial
        {
            Id = id,
            ExperimentId = experimentId,
            Number = number,
            Parameters = parameters,
            State = state,
            Epochs = 2,
            Objective = state == TrialState.Completed ? f1 : null,
            FinalMetrics = f1 is { } f ? new() { [MetricNames.ValF1Macro] = f, [MetricNames.ValLoss] = 1 - f } : [],
            CreatedAt = Q0.AddMinutes(minutes),
            FinishedAt = state is TrialState.Queued or TrialState.Running ? null : Q0.AddMinutes(minutes + 5),
        };
    }

    /// <summary>Two CNN experiments (random, tpe) and a ResNet one; nine trials with gaps in every field.</summary>
    private async Task SeedAsync()
    {
        await Experiments.SaveExperimentAsync(Experiment("e1", "Shapes sweep", "small-cnn", "random"));
        await Experiments.SaveExperimentAsync(Experiment("e2", "Fashion tuning", "small-cnn", "tpe"));
        await Experiments.SaveExperimentAsync(Experiment("e3", "ResNet baseline", "resnet18", "random"));
        await Trials.SaveTrialsAsync(
        [
            NewTrial("a0", "e1", 0, f1: 0.50, lr: 0.001, optimizer: "adam", minutes: 0),
            NewTrial("a1", "e1", 1, f1: 0.70, lr: 0.01, optimizer: "sgd", minutes: 1),
            NewTrial("a2", "e1", 2, TrialState.Failed, f1: double.NaN, lr: 0.3, optimizer: "adam", minutes: 2),
            NewTrial("a3", "e1", 3, TrialState.Running, lr: 0.02, minutes: 3),
            NewTrial("b0", "e2", 0, f1: 0.90, lr: 0.005, optimizer: "sgd", minutes: 4),
            NewTrial("b1", "e2", 1, TrialState.Pruned, f1: 0.30, lr: 0.05, minutes: 5),
            NewTrial("b2", "e2", 2, TrialState.Queued, minutes: 6),
            NewTrial("c0", "e3", 0, f1: 0.80, lr: 0.1, optimizer: "adamw", minutes: 7),
            NewTrial("c1", "e3", 1, f1: 0.60, optimizer: "sgd", minutes: 8),
        ]);
    }

    private async Task<string[]> Ids(TrialQuery query) =>
        (await Trials.QueryTrialsAsync(query with { PageSize = TrialQuery.MaxPageSize })).Items.Select(r => r.Trial.Id).ToArray();

    private async Task<string[]> SortedIds(TrialQuery query) => (await Ids(query)).Order().ToArray();

    private static Dictionary<string, ValueFilter> Filters(string name, ValueFilter filter) => new() { [name] = filter };

    [Fact]
    public async Task QueryTrialsAsync_NoFilter_AllNewestFirstWithTheirExperiment()
    {
        await SeedAsync();

        var page = await Trials.QueryTrialsAsync(new TrialQuery());

        Assert.Equal(9, page.Total);
        Assert.Equal(["c1", "c0", "b2", "b1", "b0", "a3", "a2", "a1", "a0"], page.Items.Select(r => r.Trial.Id));
        var row = page.Items[1];
        Assert.Equal(("ResNet baseline", "resnet18", "random"), (row.ExperimentName, row.Model, row.Strategy));
        Assert.Equal(0.8, row.Trial.FinalMetrics[MetricNames.ValF1Macro]);
    }

    [Fact]
    public async Task QueryTrialsAsync_TrialOfMissingExperiment_HasEmptyExperimentName()
    {
        await Trials.SaveTrialAsync(NewTrial("orphan", "gone", 0));

        var row = Assert.Single((await Trials.QueryTrialsAsync(new TrialQuery())).Items);

        Assert.Equal(("orphan", ""), (row.Trial.Id, row.ExperimentName));
    }

    [Fact]
    public async Task QueryTrialsAsync_ByExperimentModelOrStrategy_ResolvesToExperiments()
    {
        await SeedAsync();

        Assert.Equal(["a0", "a1", "a2", "a3"], await SortedIds(new TrialQuery { ExperimentIds = ["e1"] }));
        Assert.Equal(["a0", "a1", "a2", "a3", "c0", "c1"], await SortedIds(new TrialQuery { ExperimentIds = ["e1", "e3"] }));
        Assert.Equal(["a0", "a1", "a2", "a3", "b0", "b1", "b2"], await SortedIds(new TrialQuery { Model = "small-cnn" }));
        Assert.Equal(["b0", "b1", "b2"], await SortedIds(new TrialQuery { Strategy = "TPE" }));
        Assert.Equal(["a0", "a1", "a2", "a3"], await SortedIds(new TrialQuery { Model = "small-cnn", Strategy = "random" }));
        Assert.Empty(await Ids(new TrialQuery { ExperimentIds = ["e3"], Model = "small-cnn" }));
        Assert.Equal(0, (await Trials.QueryTrialsAsync(new TrialQuery { Model = "no-such-model" })).Total);
    }

    [Fact]
    public async Task QueryTrialsAsync_ByState_AnyOfTheStates()
    {
        await SeedAsync();

        Assert.Equal(["a3"], await Ids(new TrialQuery { States = [TrialState.Running] }));
        Assert.Equal(["a2", "a3", "b2"], await SortedIds(new TrialQuery { States = [TrialState.Running, TrialState.Queued, TrialState.Failed] }));
        Assert.Empty(await Ids(new TrialQuery { States = [TrialState.Interrupted] }));
    }

    [Fact]
    public async Task QueryTrialsAsync_ByParameter_NumericRangeOpenEndsAndExactText()
    {
        await SeedAsync();

        Assert.Equal(["a1", "a3", "b0", "b1"], await SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(0.005, 0.05)) }));
        Assert.Equal(["a2", "c0"], await SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(0.1, null)) }));
        Assert.Equal(["a0"], await SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(null, 0.001)) }));
        Assert.Equal(["a1", "b0", "c1"], await SortedIds(new TrialQuery { Parameters = Filters("optimizer", ValueFilter.Exactly("sgd")) }));
        // A range never matches a text value, nor a trial without the parameter.
        Assert.Empty(await Ids(new TrialQuery { Parameters = Filters("optimizer", ValueFilter.Range(null, null)) }));
        Assert.Equal(7, (await Ids(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(null, null)) })).Length);
    }

    [Fact]
    public async Task QueryTrialsAsync_ByMetric_RangeOnFinalMetricsSkipsNaNAndMissing()
    {
        await SeedAsync();

        Assert.Equal(["a1", "b0", "c0"], await SortedIds(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(0.7, null)) }));
        Assert.Equal(["a0", "a1", "b1", "c1"], await SortedIds(new TrialQuery { Metrics = Filters(MetricNames.ValLoss, ValueFilter.Range(0.3, 0.7)) }));
        Assert.Equal(6, (await Ids(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(null, null)) })).Length); // not a2 (NaN), a3, b2
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Trials.QueryTrialsAsync(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Exactly("high")) }));
    }

    [Fact]
    public async Task QueryTrialsAsync_SeveralFilters_AllMustHold()
    {
        await SeedAsync();

        var query = new TrialQuery
        {
            Model = "small-cnn",
            States = [TrialState.Completed, TrialState.Pruned],
            Parameters = Filters("learning_rate", ValueFilter.Range(0.004, null)),
            Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(0.5, null)),
        };

        Assert.Equal(["a1", "b0"], await SortedIds(query));
    }

    [Fact]
    public async Task QueryTrialsAsync_FreeText_FindsNameIdNotesTagsAndTextParameters()
    {
        await SeedAsync();
        await Trials.UpdateTrialAnnotationsAsync("b1", ["Promising"], "Loss plateaued after epoch 3");

        Assert.Equal(["c0", "c1"], await SortedIds(new TrialQuery { Text = "resnet" }));            // experiment name
        Assert.Equal(["a2"], await SortedIds(new TrialQuery { Text = "A2" }));                      // trial id
        Assert.Equal(["b1"], await SortedIds(new TrialQuery { Text = "plateaued" }));               // notes
        Assert.Equal(["b1"], await SortedIds(new TrialQuery { Text = "promis" }));                  // tags
        Assert.Equal(["c0"], await SortedIds(new TrialQuery { Text = "adamw" }));                   // string parameter value
        Assert.Equal(["a0", "a2", "c0"], await SortedIds(new TrialQuery { Text = "adam" }));
        Assert.Empty(await Ids(new TrialQuery { Text = "0.005" }));                                 // numbers are for ranges
        Assert.Equal(["b0", "b1", "b2"], await SortedIds(new TrialQuery { Text = "FASHION" }));
        Assert.Equal(["c1"], await SortedIds(new TrialQuery { Text = "sgd", ExperimentIds = ["e3"] }));
    }

    [Fact]
    public async Task QueryTrialsAsync_FreeTextWithPatternCharacters_MatchesThemLiterally()
    {
        await Trials.SaveTrialsAsync(
        [
            NewTrial("p1", "e1", 0) with { Parameters = new() { ["note"] = "100%_done" } },
            NewTrial("p2", "e1", 1) with { Parameters = new() { ["note"] = "1000 done" } },
        ]);

        Assert.Equal(["p1"], await SortedIds(new TrialQuery { Text = "0%_d" }));
        Assert.Empty(await Ids(new TrialQuery { Text = "1_0" }));
    }

    [Fact]
    public async Task QueryTrialsAsync_ByTag_CaseInsensitiveExactTag()
    {
        await SeedAsync();
        await Trials.UpdateTrialAnnotationsAsync("a1", ["baseline", "keep"], null);
        await Trials.UpdateTrialAnnotationsAsync("c0", ["Baseline"], null);
        await Trials.UpdateTrialAnnotationsAsync("b0", ["baselines"], null);

        Assert.Equal(["a1", "c0"], await SortedIds(new TrialQuery { Tag = "baseline" }));
        Assert.Equal(["a1"], await SortedIds(new TrialQuery { Tag = "KEEP" }));
        Assert.Empty(await Ids(new TrialQuery { Tag = "base" }));
    }

    [Theory]
    [InlineData(false, new[] { "b1", "a0", "c1", "a1", "c0", "b0", "b2", "a3", "a2" })]
    [InlineData(true, new[] { "b0", "c0", "a1", "c1", "a0", "b1", "b2", "a3", "a2" })]
    public async Task QueryTrialsAsync_SortByMetric_MissingAndNaNLastEitherWay(bool descending, string[] expected)
    {
        await SeedAsync();

        // Without a value: b2 and a3 (newest first), then a2 whose value is NaN.
        Assert.Equal(expected, await Ids(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = descending }));
    }

    [Theory]
    [InlineData(false, new[] { "a0", "b0", "a1", "a3", "b1", "c0", "a2", "c1", "b2" })]
    [InlineData(true, new[] { "a2", "c0", "b1", "a3", "a1", "b0", "a0", "c1", "b2" })]
    public async Task QueryTrialsAsync_SortByParameter_MissingLastEitherWay(bool descending, string[] expected)
    {
        await SeedAsync();

        Assert.Equal(expected, await Ids(new TrialQuery { SortBy = TrialSortField.Parameter("learning_rate"), Descending = descending }));
    }

    [Fact]
    public async Task QueryTrialsAsync_SortByOtherKeys_UsesThem()
    {
        await SeedAsync();
        var all = (await Trials.QueryTrialsAsync(new TrialQuery())).Items.ToDictionary(r => r.Trial.Id, r => r.Trial);

        async Task<int[]> Numbers(bool descending) =>
            (await Ids(new TrialQuery { SortBy = new(TrialSortKind.Number), Descending = descending })).Select(id => all[id].Number).ToArray();
        async Task<TrialState[]> States(bool descending) =>
            (await Ids(new TrialQuery { SortBy = new(TrialSortKind.State), Descending = descending })).Select(id => all[id].State).ToArray();

        int[] ascending = await Numbers(descending: false), descending = await Numbers(descending: true);
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 3], ascending);
        Assert.Equal([3, 2, 2, 1, 1, 1, 0, 0, 0], descending);
        // By the state's name.
        var byState = await States(descending: false);
        Assert.Equal([TrialState.Completed, TrialState.Completed, TrialState.Completed, TrialState.Completed, TrialState.Completed,
            TrialState.Failed, TrialState.Pruned, TrialState.Queued, TrialState.Running], byState);
        Assert.Equal(TrialState.Running, (await States(descending: true))[0]);
        // Trials without an objective (not completed) or not finished come last, newest first.
        Assert.Equal(["b0", "c0", "a1", "c1", "a0", "b2", "b1", "a3", "a2"], await Ids(new TrialQuery { SortBy = new(TrialSortKind.Objective) }));
        Assert.Equal(["a0", "c1", "a1", "c0", "b0", "b2", "b1", "a3", "a2"], await Ids(new TrialQuery { SortBy = new(TrialSortKind.Objective), Descending = false }));
        Assert.Equal(["a0", "a1", "a2", "b0", "b1", "c0", "c1", "b2", "a3"], await Ids(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt), Descending = false }));
        Assert.Equal(["c1", "c0", "b1", "b0", "a2", "a1", "a0", "b2", "a3"], await Ids(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt) }));
    }

    [Fact]
    public async Task QueryTrialsAsync_SortByCreatedAt_ComparesInstantsNotOffsets()
    {
        // 06:00+02:00 is 04:00 UTC: earlier than 05:00Z although its text sorts later.
        await Trials.SaveTrialsAsync(
        [
            NewTrial("utc", "e", 0) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 5, 0, 0, TimeSpan.Zero) },
            NewTrial("cest", "e", 1) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 6, 0, 0, TimeSpan.FromHours(2)) },
            NewTrial("est", "e", 2) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 1, 0, 0, TimeSpan.FromHours(-5)) }, // 06:00Z
        ]);

        Assert.Equal(["cest", "utc", "est"], await Ids(new TrialQuery { Descending = false }));
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 4, 0, 0, TimeSpan.Zero), (await Trials.GetTrialAsync("cest"))!.CreatedAt); // the same instant
    }

    [Fact]
    public async Task QueryTrialsAsync_Pages_TotalsAndPagesAcrossMissingValues()
    {
        await SeedAsync();
        var byMetric = new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), PageSize = 4 };

        var pages = new List<TrialQueryResult>();
        for (int p = 0; p < 4; p++) pages.Add(await Trials.QueryTrialsAsync(byMetric with { Page = p }));

        Assert.All(pages, p => Assert.Equal(9, p.Total));
        Assert.Equal([4, 4, 1, 0], pages.Select(p => p.Items.Count));
        Assert.Equal(["b0", "c0", "a1", "c1", "a0", "b1", "b2", "a3", "a2"], pages.SelectMany(p => p.Items).Select(r => r.Trial.Id));
        Assert.Equal(["c1", "a0", "b1"], (await Trials.QueryTrialsAsync(byMetric with { PageSize = 3, Page = 1 })).Items.Select(r => r.Trial.Id));
        Assert.Equal(["b2", "a3", "a2"], (await Trials.QueryTrialsAsync(byMetric with { PageSize = 3, Page = 2 })).Items.Select(r => r.Trial.Id));
        var filtered = await Trials.QueryTrialsAsync(new TrialQuery { Model = "small-cnn", PageSize = 2, Page = 3 });
        Assert.Equal((7, 1, 3, 2), (filtered.Total, filtered.Items.Count, filtered.Page, filtered.PageSize));
        Assert.Equal(TrialQuery.MaxPageSize, (await Trials.QueryTrialsAsync(new TrialQuery { PageSize = 100_000 })).PageSize);
        Assert.Equal(1, (await Trials.QueryTrialsAsync(new TrialQuery { PageSize = 0 })).PageSize);
    }

    [Fact]
    public async Task ExportTrialsAsync_AllMatchesInOrderIgnoringPaging()
    {
        await SeedAsync();

        var rows = await Trials.ExportTrialsAsync(new TrialQuery { Model = "small-cnn", SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), PageSize = 2, Page = 1 }).ToListAsync();

        Assert.Equal(["b0", "a1", "a0", "b1", "b2", "a3", "a2"], rows.Select(r => r.Trial.Id));
        Assert.Equal("Fashion tuning", rows[0].ExperimentName);
        Assert.Empty(await Trials.ExportTrialsAsync(new TrialQuery { Model = "none" }).ToListAsync());
    }

    [Fact]
    public async Task ExportTrialsAsync_MoreTrialsThanAChunk_StreamsEveryOneOnce()
    {
        await Trials.SaveTrialsAsync(Enumerable.Range(0, 1100).Select(i => NewTrial($"t{i:D4}", "e1", i, minutes: i)));

        var ids = new List<string>();
        await foreach (var row in Trials.ExportTrialsAsync(new TrialQuery { Descending = false })) ids.Add(row.Trial.Id);

        Assert.Equal(Enumerable.Range(0, 1100).Select(i => $"t{i:D4}"), ids);
    }

    [Fact]
    public async Task TrialFieldsAsync_MatchingTrials_NamesTheirParametersAndMetricsInOrdinalOrder()
    {
        await SeedAsync();
        await Trials.SaveTrialAsync(NewTrial("z", "e3", 2) with { Parameters = new() { ["Zeta"] = 1 }, FinalMetrics = new() { ["B_metric"] = 1 } });

        var all = await Trials.TrialFieldsAsync(new TrialQuery());
        var e2 = await Trials.TrialFieldsAsync(new TrialQuery { ExperimentIds = ["e2"], PageSize = 1 });
        var none = await Trials.TrialFieldsAsync(new TrialQuery { Model = "none" });

        Assert.Equal(["Zeta", "learning_rate", "optimizer"], all.Parameters);
        Assert.Equal(["B_metric", MetricNames.ValF1Macro, MetricNames.ValLoss], all.Metrics);
        Assert.Equal(["learning_rate", "optimizer"], e2.Parameters); // from every page, not the first
        Assert.Equal([MetricNames.ValF1Macro, MetricNames.ValLoss], e2.Metrics);
        Assert.Empty(none.Parameters);
        Assert.Empty(none.Metrics);
    }

    [Fact]
    public async Task QueryTrialsAsync_OddParameterNames_FilterAndSort()
    {
        await Trials.SaveTrialAsync(NewTrial("t", "e1", 0) with { Parameters = new() { ["head.drop-out"] = 0.2, ["it's"] = "quoted \"value\"", ["a]b"] = 1 } });
        await Trials.SaveTrialAsync(NewTrial("u", "e1", 1) with { Parameters = new() { ["head.drop-out"] = 0.4 } });

        Assert.Equal(["t"], await Ids(new TrialQuery { Parameters = Filters("head.drop-out", ValueFilter.Range(0.1, 0.3)) }));
        Assert.Equal(["t"], await Ids(new TrialQuery { Parameters = Filters("it's", ValueFilter.Exactly("quoted \"value\"")) }));
        Assert.Equal(["t"], await Ids(new TrialQuery { Parameters = Filters("a]b", ValueFilter.Range(1, 1)) }));
        Assert.Equal(["u", "t"], await Ids(new TrialQuery { SortBy = TrialSortField.Parameter("head.drop-out") }));
    }

    /// <summary>
    /// The logic of the scale tests, on 1,000 seeded random trials: filtered, sorted and paged results equal LINQ's over
    /// the same records (nothing is timed; the 100,000-trial timings are in bench/).
    /// </summary>
    [Fact]
    public async Task QueryTrialsAsync_ThousandRandomTrials_MatchLinq()
    {
        const int count = 1000, experiments = 10;
        var random = new Random(12345);
        for (int e = 0; e < experiments; e++)
            await Experiments.SaveExperimentAsync(Experiment($"e{e:D2}", $"sweep {e}", e % 2 == 0 ? "small-cnn" : "resnet18"));
        var all = Enumerable.Range(0, count).Select(i =>
        {
            var state = (i % 10) switch { 0 => TrialState.Running, 1 => TrialState.Failed, _ => TrialState.Completed };
            double f1 = random.NextDouble();
            return new Trial
            {
                Id = $"t{i:D5}",
                ExperimentId = $"e{i % experiments:D2}",
                Number = i / experiments,
                Parameters = new() { ["learning_rate"] = Math.Exp(random.NextDouble() * Math.Log(1e-5)), ["optimizer"] = i % 3 == 0 ? "sgd" : "adam" },
                State = state,
                Epochs = 3,
                Objective = state == TrialState.Completed ? f1 : null,
                FinalMetrics = state == TrialState.Running ? [] : new() { [MetricNames.ValF1Macro] = f1, [MetricNames.ValLoss] = 1 - f1 },
                Tags = i % 50 == 0 ? ["baseline"] : [],
                CreatedAt = Q0.AddSeconds(i),
                FinishedAt = state == TrialState.Running ? null : Q0.AddSeconds(i + 60),
            };
        }).ToList();
        await Trials.SaveTrialsAsync(all);
        static double F1(Trial t) => t.FinalMetrics[MetricNames.ValF1Macro];

        var narrow = await Trials.QueryTrialsAsync(new TrialQuery
        {
            ExperimentIds = ["e07"], States = [TrialState.Completed], SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), PageSize = 20,
        });
        var expectedNarrow = all.Where(t => t.ExperimentId == "e07" && t.State == TrialState.Completed).OrderByDescending(F1).ThenByDescending(t => t.CreatedAt).ToList();
        Assert.Equal(expectedNarrow.Count, narrow.Total);
        Assert.Equal(expectedNarrow.Take(20).Select(t => t.Id), narrow.Items.Select(r => r.Trial.Id));
        Assert.All(narrow.Items, r => Assert.Equal("sweep 7", r.ExperimentName));

        var deep = await Trials.QueryTrialsAsync(new TrialQuery
        {
            Model = "resnet18",
            Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1e-4, 1e-1) },
            Metrics = new Dictionary<string, ValueFilter> { [MetricNames.ValF1Macro] = ValueFilter.Range(0.3, null) },
            SortBy = TrialSortField.Parameter("learning_rate"),
            Descending = false,
            Page = 2,
            PageSize = 25,
        });
        var expectedDeep = all
            .Where(t => int.Parse(t.ExperimentId[1..]) % 2 == 1 && t.Parameters["learning_rate"].AsDouble() is >= 1e-4 and <= 1e-1
                        && t.FinalMetrics.TryGetValue(MetricNames.ValF1Macro, out var f1) && f1 >= 0.3)
            .OrderBy(t => t.Parameters["learning_rate"].AsDouble()).ToList();
        Assert.Equal(expectedDeep.Count, deep.Total);
        Assert.Equal(expectedDeep.Skip(50).Take(25).Select(t => t.Id), deep.Items.Select(r => r.Trial.Id));

        var last = await Trials.QueryTrialsAsync(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = false, Page = 9, PageSize = 100 });
        Assert.Equal(count, last.Total);
        Assert.Equal(all.Where(t => t.State == TrialState.Running).OrderByDescending(t => t.CreatedAt).Select(t => t.Id), last.Items.Select(r => r.Trial.Id));

        Assert.Equal(all.Count(t => t.State == TrialState.Running), (await Trials.QueryTrialsAsync(new TrialQuery { States = [TrialState.Running] })).Total);
        Assert.Equal(all.Count(t => t.ExperimentId is "e01" or "e02"), (await Trials.QueryTrialsAsync(new TrialQuery { ExperimentIds = ["e01", "e02"] })).Total);
        Assert.Equal(all.Count(t => t.Tags.Contains("baseline")), (await Trials.QueryTrialsAsync(new TrialQuery { Tag = "Baseline" })).Total);
        Assert.Equal(all.Count(t => t.Parameters["optimizer"].Text == "sgd"), (await Trials.QueryTrialsAsync(new TrialQuery { Text = "sgd" })).Total);
    }
}
