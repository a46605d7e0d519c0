using LiteDB;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

/// <summary>The runs browser's query: every filter, sort and page is answered by the store.</summary>
public sealed class TrialQueryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 4, 5, 0, 0, TimeSpan.Zero);
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-query-").FullName;
    private readonly LiteDbRunStore store;
    private bool closed;

    public TrialQueryTests() => store = new LiteDbRunStore(DatabasePath);

    private string DatabasePath => Path.Combine(folder, "tracker.db");

    public void Dispose()
    {
        if (!closed) store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private static string Json(Trial trial) => System.Text.Json.JsonSerializer.Serialize(trial, TrackerJson.Options);

    private static Experiment NewExperiment(string id, string name, string model, string strategy) => new()
    {
        Id = id,
        CreatedAt = T0,
        Spec = new ExperimentSpec { Name = name, Model = model, Strategy = strategy },
    };

    private static Trial NewTrial(string id, string experimentId, int number, TrialState state = TrialState.Completed,
        double? f1 = null, double? lr = null, string? optimizer = null, int minutes = 0) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        Parameters = new Dictionary<string, ParameterValue>()
            .With("learning_rate", lr is { } l ? ParameterValue.Of(l) : (ParameterValue?)null)
            .With("optimizer", optimizer is { } o ? ParameterValue.Of(o) : (ParameterValue?)null),
        State = state,
        Epochs = 2,
        Objective = state == TrialState.Completed ? f1 : null,
        FinalMetrics = f1 is { } f ? new() { [MetricNames.ValF1Macro] = f, [MetricNames.ValLoss] = 1 - f } : [],
        CreatedAt = T0.AddMinutes(minutes),
        FinishedAt = state is TrialState.Queued or TrialState.Running ? null : T0.AddMinutes(minutes + 5),
    };

    /// <summary>Two CNN experiments (random, tpe) and a ResNet one; nine trials with gaps in every field.</summary>
    private void Seed()
    {
        store.SaveExperiment(NewExperiment("e1", "Shapes sweep", "small-cnn", "random"));
        store.SaveExperiment(NewExperiment("e2", "Fashion tuning", "small-cnn", "tpe"));
        store.SaveExperiment(NewExperiment("e3", "ResNet baseline", "resnet18", "random"));
        store.SaveTrials(
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

    private string[] Ids(TrialQuery query) => store.QueryTrials(query with { PageSize = TrialQuery.MaxPageSize }).Items.Select(r => r.Trial.Id).ToArray();

    private string[] SortedIds(TrialQuery query) => Ids(query).Order().ToArray();

    private static Dictionary<string, ValueFilter> Filters(string name, ValueFilter filter) => new() { [name] = filter };

    [Fact]
    public void QueryTrials_NoFilter_AllNewestFirstWithTheirExperiment()
    {
        Seed();

        var page = store.QueryTrials(new TrialQuery());

        Assert.Equal(9, page.Total);
        Assert.Equal(["c1", "c0", "b2", "b1", "b0", "a3", "a2", "a1", "a0"], page.Items.Select(r => r.Trial.Id));
        var row = page.Items[1];
        Assert.Equal(("ResNet baseline", "resnet18", "random"), (row.ExperimentName, row.Model, row.Strategy));
        Assert.Equal(0.8, row.Trial.FinalMetrics[MetricNames.ValF1Macro]);
    }

    [Fact]
    public void QueryTrials_ByExperimentModelOrStrategy_ResolvesToExperiments()
    {
        Seed();

        Assert.Equal(["a0", "a1", "a2", "a3"], SortedIds(new TrialQuery { ExperimentIds = ["e1"] }));
        Assert.Equal(["a0", "a1", "a2", "a3", "c0", "c1"], SortedIds(new TrialQuery { ExperimentIds = ["e1", "e3"] }));
        Assert.Equal(["a0", "a1", "a2", "a3", "b0", "b1", "b2"], SortedIds(new TrialQuery { Model = "small-cnn" }));
        Assert.Equal(["b0", "b1", "b2"], SortedIds(new TrialQuery { Strategy = "TPE" }));
        Assert.Equal(["a0", "a1", "a2", "a3"], SortedIds(new TrialQuery { Model = "small-cnn", Strategy = "random" }));
        Assert.Empty(Ids(new TrialQuery { ExperimentIds = ["e3"], Model = "small-cnn" }));
        Assert.Equal(0, store.QueryTrials(new TrialQuery { Model = "no-such-model" }).Total);
    }

    [Fact]
    public void QueryTrials_ByState_AnyOfTheStates()
    {
        Seed();

        Assert.Equal(["a3"], Ids(new TrialQuery { States = [TrialState.Running] }));
        Assert.Equal(["a2", "a3", "b2"], SortedIds(new TrialQuery { States = [TrialState.Running, TrialState.Queued, TrialState.Failed] }));
        Assert.Empty(Ids(new TrialQuery { States = [TrialState.Interrupted] }));
    }

    [Fact]
    public void QueryTrials_ByParameter_NumericRangeOpenEndsAndExactText()
    {
        Seed();

        Assert.Equal(["a1", "a3", "b0", "b1"], SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(0.005, 0.05)) }));
        Assert.Equal(["a2", "c0"], SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(0.1, null)) }));
        Assert.Equal(["a0"], SortedIds(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(null, 0.001)) }));
        Assert.Equal(["a1", "b0", "c1"], SortedIds(new TrialQuery { Parameters = Filters("optimizer", ValueFilter.Exactly("sgd")) }));
        // A range never matches a text value, nor a trial without the parameter.
        Assert.Empty(Ids(new TrialQuery { Parameters = Filters("optimizer", ValueFilter.Range(null, null)) }));
        Assert.Equal(7, Ids(new TrialQuery { Parameters = Filters("learning_rate", ValueFilter.Range(null, null)) }).Length);
    }

    [Fact]
    public void QueryTrials_ByMetric_RangeOnFinalMetricsSkipsNaNAndMissing()
    {
        Seed();

        Assert.Equal(["a1", "b0", "c0"], SortedIds(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(0.7, null)) }));
        Assert.Equal(["a0", "a1", "b1", "c1"], SortedIds(new TrialQuery { Metrics = Filters(MetricNames.ValLoss, ValueFilter.Range(0.3, 0.7)) }));
        Assert.Equal(6, Ids(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(null, null)) }).Length); // not a2 (NaN), a3, b2
        Assert.Throws<ArgumentException>(() => store.QueryTrials(new TrialQuery { Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Exactly("high")) }));
    }

    [Fact]
    public void QueryTrials_SeveralFilters_AllMustHold()
    {
        Seed();

        var query = new TrialQuery
        {
            Model = "small-cnn",
            States = [TrialState.Completed, TrialState.Pruned],
            Parameters = Filters("learning_rate", ValueFilter.Range(0.004, null)),
            Metrics = Filters(MetricNames.ValF1Macro, ValueFilter.Range(0.5, null)),
        };

        Assert.Equal(["a1", "b0"], SortedIds(query));
    }

    [Fact]
    public void QueryTrials_FreeText_FindsNameIdNotesTagsAndTextParameters()
    {
        Seed();
        store.UpdateTrialAnnotations("b1", ["Promising"], "Loss plateaued after epoch 3");

        Assert.Equal(["c0", "c1"], SortedIds(new TrialQuery { Text = "resnet" }));            // experiment name
        Assert.Equal(["a2"], SortedIds(new TrialQuery { Text = "A2" }));                      // trial id
        Assert.Equal(["b1"], SortedIds(new TrialQuery { Text = "plateaued" }));               // notes
        Assert.Equal(["b1"], SortedIds(new TrialQuery { Text = "promis" }));                  // tags
        Assert.Equal(["c0"], SortedIds(new TrialQuery { Text = "adamw" }));                   // string parameter value
        Assert.Equal(["a0", "a2", "c0"], SortedIds(new TrialQuery { Text = "adam" }));
        Assert.Empty(Ids(new TrialQuery { Text = "0.005" }));                                 // numbers are for ranges
        Assert.Equal(["b0", "b1", "b2"], SortedIds(new TrialQuery { Text = "FASHION" }));
        Assert.Equal(["c1"], SortedIds(new TrialQuery { Text = "sgd", ExperimentIds = ["e3"] }));
    }

    [Fact]
    public void QueryTrials_ByTag_CaseInsensitiveExactTag()
    {
        Seed();
        store.UpdateTrialAnnotations("a1", ["baseline", "keep"], null);
        store.UpdateTrialAnnotations("c0", ["Baseline"], null);
        store.UpdateTrialAnnotations("b0", ["baselines"], null);

        Assert.Equal(["a1", "c0"], SortedIds(new TrialQuery { Tag = "baseline" }));
        Assert.Equal(["a1"], SortedIds(new TrialQuery { Tag = "KEEP" }));
        Assert.Empty(Ids(new TrialQuery { Tag = "base" }));
    }

    [Theory]
    [InlineData(false, new[] { "b1", "a0", "c1", "a1", "c0", "b0", "b2", "a3", "a2" })]
    [InlineData(true, new[] { "b0", "c0", "a1", "c1", "a0", "b1", "b2", "a3", "a2" })]
    public void QueryTrials_SortByMetric_MissingAndNaNLastEitherWay(bool descending, string[] expected)
    {
        Seed();

        // Without a value: b2 and a3 (newest first), then a2 whose value is NaN.
        Assert.Equal(expected, Ids(new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), Descending = descending }));
    }

    [Theory]
    [InlineData(false, new[] { "a0", "b0", "a1", "a3", "b1", "c0", "a2", "c1", "b2" })]
    [InlineData(true, new[] { "a2", "c0", "b1", "a3", "a1", "b0", "a0", "c1", "b2" })]
    public void QueryTrials_SortByParameter_MissingLastEitherWay(bool descending, string[] expected)
    {
        Seed();

        Assert.Equal(expected, Ids(new TrialQuery { SortBy = TrialSortField.Parameter("learning_rate"), Descending = descending }));
    }

    [Fact]
    public void QueryTrials_SortByOtherKeys_UsesThem()
    {
        Seed();

        int[] Numbers(bool descending) => Ids(new TrialQuery { SortBy = new(TrialSortKind.Number), Descending = descending }).Select(id => store.GetTrial(id)!.Number).ToArray();
        TrialState[] States(bool descending) => Ids(new TrialQuery { SortBy = new(TrialSortKind.State), Descending = descending }).Select(id => store.GetTrial(id)!.State).ToArray();

        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 3], Numbers(descending: false));
        Assert.Equal([3, 2, 2, 1, 1, 1, 0, 0, 0], Numbers(descending: true));
        // By the state's name, as stored.
        Assert.Equal([TrialState.Completed, TrialState.Completed, TrialState.Completed, TrialState.Completed, TrialState.Completed,
            TrialState.Failed, TrialState.Pruned, TrialState.Queued, TrialState.Running], States(descending: false));
        Assert.Equal(TrialState.Running, States(descending: true)[0]);
        // Trials without an objective (not completed) or not finished come last, newest first.
        Assert.Equal(["b0", "c0", "a1", "c1", "a0", "b2", "b1", "a3", "a2"], Ids(new TrialQuery { SortBy = new(TrialSortKind.Objective) }));
        Assert.Equal(["a0", "c1", "a1", "c0", "b0", "b2", "b1", "a3", "a2"], Ids(new TrialQuery { SortBy = new(TrialSortKind.Objective), Descending = false }));
        Assert.Equal(["a0", "a1", "a2", "b0", "b1", "c0", "c1", "b2", "a3"], Ids(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt), Descending = false }));
        Assert.Equal(["c1", "c0", "b1", "b0", "a2", "a1", "a0", "b2", "a3"], Ids(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt) }));
    }

    [Fact]
    public void QueryTrials_SortByCreatedAt_ComparesInstantsNotOffsets()
    {
        // 06:00+02:00 is 04:00 UTC: earlier than 05:00Z although its text sorts later.
        store.SaveTrials(
        [
            NewTrial("utc", "e", 0) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 5, 0, 0, TimeSpan.Zero) },
            NewTrial("cest", "e", 1) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 6, 0, 0, TimeSpan.FromHours(2)) },
            NewTrial("est", "e", 2) with { CreatedAt = new DateTimeOffset(2025, 1, 1, 1, 0, 0, TimeSpan.FromHours(-5)) }, // 06:00Z
        ]);

        Assert.Equal(["cest", "utc", "est"], Ids(new TrialQuery { Descending = false }));
        Assert.Equal(TimeSpan.FromHours(2), store.GetTrial("cest")!.CreatedAt.Offset); // the record keeps its offset
    }

    [Fact]
    public void QueryTrials_Pages_TotalsAndPagesAcrossMissingValues()
    {
        Seed();
        var byMetric = new TrialQuery { SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), PageSize = 4 };

        var pages = Enumerable.Range(0, 4).Select(p => store.QueryTrials(byMetric with { Page = p })).ToList();

        Assert.All(pages, p => Assert.Equal(9, p.Total));
        Assert.Equal([4, 4, 1, 0], pages.Select(p => p.Items.Count));
        Assert.Equal(["b0", "c0", "a1", "c1", "a0", "b1", "b2", "a3", "a2"], pages.SelectMany(p => p.Items).Select(r => r.Trial.Id));
        Assert.Equal(["c1", "a0", "b1"], store.QueryTrials(byMetric with { PageSize = 3, Page = 1 }).Items.Select(r => r.Trial.Id));
        Assert.Equal(["b2", "a3", "a2"], store.QueryTrials(byMetric with { PageSize = 3, Page = 2 }).Items.Select(r => r.Trial.Id));
        var filtered = store.QueryTrials(new TrialQuery { Model = "small-cnn", PageSize = 2, Page = 3 });
        Assert.Equal((7, 1, 3, 2), (filtered.Total, filtered.Items.Count, filtered.Page, filtered.PageSize));
        Assert.Equal(TrialQuery.MaxPageSize, store.QueryTrials(new TrialQuery { PageSize = 100_000 }).PageSize);
        Assert.Equal(1, store.QueryTrials(new TrialQuery { PageSize = 0 }).PageSize);
    }

    [Fact]
    public void ExportTrials_AllMatchesInOrderIgnoringPaging()
    {
        Seed();

        var rows = store.ExportTrials(new TrialQuery { Model = "small-cnn", SortBy = TrialSortField.Metric(MetricNames.ValF1Macro), PageSize = 2, Page = 1 }).ToList();

        Assert.Equal(["b0", "a1", "a0", "b1", "b2", "a3", "a2"], rows.Select(r => r.Trial.Id));
        Assert.Equal("Fashion tuning", rows[0].ExperimentName);
        Assert.Empty(store.ExportTrials(new TrialQuery { Model = "none" }));
    }

    [Fact]
    public void UpdateTrialAnnotations_NormalisesAndChangesNothingElse()
    {
        Seed();
        var before = store.GetTrial("a1")!;

        var updated = store.UpdateTrialAnnotations("a1", [" keep ", "", "Keep", "lr-sweep"], "  looks good ");
        var read = store.GetTrial("a1")!;

        Assert.Equal(["keep", "lr-sweep"], updated!.Tags);
        Assert.Equal(["keep", "lr-sweep"], read.Tags);
        Assert.Equal("  looks good ", read.Notes);
        Assert.Equal(Json(before), Json(read with { Tags = [], Notes = null }));

        store.UpdateTrialAnnotations("a1", null, "");
        Assert.Equal(["keep", "lr-sweep"], store.GetTrial("a1")!.Tags); // null tags: unchanged
        Assert.Null(store.GetTrial("a1")!.Notes);                        // empty notes: cleared
        store.UpdateTrialAnnotations("a1", null, "again");
        Assert.Equal("again", store.GetTrial("a1")!.Notes);
        store.UpdateTrialAnnotations("a1", [], null);
        Assert.Empty(store.GetTrial("a1")!.Tags);
        Assert.Null(store.UpdateTrialAnnotations("missing", ["x"], null));
    }

    [Fact]
    public void SaveTrial_RunningTrialAfterAnnotation_KeepsTagsAndNotes()
    {
        store.SaveExperiment(NewExperiment("e1", "sweep", "small-cnn", "random"));
        // The runner holds this record for the whole trial and saves it after every epoch.
        var running = NewTrial("t", "e1", 0, TrialState.Running, lr: 0.01);
        store.SaveTrial(running);
        var stale = store.GetTrial("t")!;

        store.UpdateTrialAnnotations("t", ["watch"], "diverging?");
        store.SaveTrial(running with { EpochsDone = 1, FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.4 } });
        store.SaveTrial(stale with { EpochsDone = 2, Tags = ["from", "a", "stale", "read"], Notes = "stale" });
        store.SaveTrials([running with { State = TrialState.Completed, EpochsDone = 2, Objective = 0.6, FinishedAt = T0.AddMinutes(9) }]);

        var read = store.GetTrial("t")!;
        Assert.Equal((TrialState.Completed, 2, 0.6), (read.State, read.EpochsDone, read.Objective));
        Assert.Equal(["watch"], read.Tags);
        Assert.Equal("diverging?", read.Notes);
        Assert.Equal(["t"], Ids(new TrialQuery { Tag = "watch" }));
        Assert.Equal(["t"], Ids(new TrialQuery { Text = "diverging" }));

        // Clearing them is the user's to do, and a later runner save does not bring them back.
        store.UpdateTrialAnnotations("t", [], "");
        store.SaveTrial(stale);
        Assert.Empty(store.GetTrial("t")!.Tags);
        Assert.Null(store.GetTrial("t")!.Notes);
        Assert.Empty(Ids(new TrialQuery { Tag = "watch" }));
    }

    [Fact]
    public void SaveTrial_NewTrialWithAnnotations_StoresThem()
    {
        store.SaveTrial(NewTrial("t", "e1", 0) with { Tags = ["imported"], Notes = "from the old tracker" });

        Assert.Equal(["imported"], store.GetTrial("t")!.Tags);
        Assert.Equal("from the old tracker", store.GetTrial("t")!.Notes);
    }

    [Fact]
    public void SaveTrials_SameIdTwiceInOneCall_LastRecordWins()
    {
        store.SaveTrials([NewTrial("t", "e1", 0, TrialState.Running), NewTrial("t", "e1", 0, TrialState.Completed, f1: 0.9)]);

        Assert.Equal(TrialState.Completed, store.GetTrial("t")!.State);
        Assert.Equal(1, store.QueryTrials(new TrialQuery()).Total);
    }

    [Fact]
    public void Open_TrialsWrittenBeforeQueryFields_AreBackfilled()
    {
        store.Dispose();
        closed = true;
        using (var raw = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct }))
        {
            // A trial as an older store wrote it: the record's fields only.
            var doc = BsonJson.ToDocument(NewTrial("old", "e1", 0, f1: 0.5, optimizer: "rmsprop"));
            doc["_id"] = "old";
            doc.Remove("tags");
            doc.Remove("notes");
            raw.GetCollection("trials").Insert(doc);
        }

        using var reopened = new LiteDbRunStore(DatabasePath);

        Assert.Equal(["old"], reopened.QueryTrials(new TrialQuery { Text = "rmsprop" }).Items.Select(r => r.Trial.Id));
        Assert.Equal(["old"], reopened.QueryTrials(new TrialQuery { SortBy = new(TrialSortKind.FinishedAt) }).Items.Select(r => r.Trial.Id));
        Assert.Empty(reopened.GetTrial("old")!.Tags);
        reopened.UpdateTrialAnnotations("old", ["legacy"], null);
        Assert.Equal(["legacy"], reopened.GetTrial("old")!.Tags);
    }

    [Fact]
    public void QueryTrials_OddParameterNames_AreQuotedInPaths()
    {
        var trial = NewTrial("t", "e1", 0) with { Parameters = new() { ["head.drop-out"] = 0.2, ["it's"] = "quoted \"value\"" } };
        store.SaveTrial(trial);
        store.SaveTrial(NewTrial("u", "e1", 1) with { Parameters = new() { ["head.drop-out"] = 0.4 } });

        Assert.Equal(["t"], Ids(new TrialQuery { Parameters = Filters("head.drop-out", ValueFilter.Range(0.1, 0.3)) }));
        Assert.Equal(["t"], Ids(new TrialQuery { Parameters = Filters("it's", ValueFilter.Exactly("quoted \"value\"")) }));
        Assert.Equal(["u", "t"], Ids(new TrialQuery { SortBy = TrialSortField.Parameter("head.drop-out") }));
    }
}

internal static class TestDictionaryExtensions
{
    public static Dictionary<string, ParameterValue> With(this Dictionary<string, ParameterValue> parameters, string name, ParameterValue? value)
    {
        if (value is { } v) parameters[name] = v;
        return parameters;
    }
}
