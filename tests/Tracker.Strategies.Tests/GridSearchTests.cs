using Tracker.Plugins.Grid;

namespace Tracker.Strategies.Tests;

public sealed class GridSearchTests
{
    private static ISearchStrategy Create(SearchSpace space, int seed = 1, int? points = null, bool shuffle = false)
    {
        var options = new Dictionary<string, ParameterValue> { [GridSearchPlugin.Shuffle] = shuffle ? "true" : "false" };
        if (points is { } p) options[GridSearchPlugin.PointsPerDimension] = p;
        return new GridSearchPlugin().Create(new StrategyContext(space, seed, options));
    }

    private static List<IReadOnlyDictionary<string, ParameterValue>> AskAll(ISearchStrategy strategy, SearchSpace space, int maxTrials = 10_000)
    {
        var study = new StudySimulator(strategy, space, maxTrials, epochs: 4).Run(parallelism: 4, maxAsks: 100_000);
        Assert.Empty(study.Violations);
        Assert.True(study.IsFinished);
        return study.Trials.Select(t => t.Parameters).ToList();
    }

    private static string Key(IReadOnlyDictionary<string, ParameterValue> point) =>
        string.Join(";", point.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    private static SearchSpace Small() => new(
    [
        new FloatParameter { Name = "x", Low = 0, High = 1 },
        new IntParameter { Name = "n", Low = 1, High = 3 },
        new ChoiceParameter { Name = "c", Values = ["a", "b"] },
    ]);

    [Fact]
    public void Plugin_Options_DeclarePointsAndShuffleWithDefaults()
    {
        var plugin = new GridSearchPlugin();

        Assert.Equal("grid", plugin.Name);
        Assert.Equal(5, plugin.Options.Single(o => o.Name == "points_per_dimension").Default!.Value.AsInt());
        Assert.Equal("false", plugin.Options.Single(o => o.Name == "shuffle").Default!.Value.AsString());
    }

    [Fact]
    public void Ask_SmallSpace_VisitsExactProductInNestedLoopOrder()
    {
        var space = Small();

        var points = AskAll(Create(space, points: 3), space);

        var expected =
            from x in new[] { 0.0, 0.5, 1.0 }
            from n in new[] { 1.0, 2.0, 3.0 }
            from c in new[] { "a", "b" }
            select $"c={c};n={n};x={x}";
        Assert.Equal(expected, points.Select(Key));
    }

    [Fact]
    public void Ask_GridExhausted_ReturnsDoneWithReason()
    {
        var space = Small();
        var study = new StudySimulator(Create(space, points: 3), space, maxTrials: 100, epochs: 2).Run();

        Assert.Equal(18, study.Trials.Count);
        var done = Assert.IsType<StrategyDecision.Done>(study.Decisions[^1]);
        Assert.Contains("18 grid points", done.Reason);
    }

    [Fact]
    public void Ask_MaxTrialsBelowGridSize_StopsAtMaxTrials()
    {
        var space = Small();
        var study = new StudySimulator(Create(space, points: 3), space, maxTrials: 7, epochs: 2).Run();

        Assert.Equal(7, study.Trials.Count);
        Assert.IsType<StrategyDecision.Done>(study.Decisions[^1]);
        Assert.Empty(study.Violations);
    }

    [Fact]
    public void Ask_EveryTrial_UsesStudyEpochs()
    {
        var space = Small();
        var study = new StudySimulator(Create(space), space, maxTrials: 10, epochs: 13).Run();

        Assert.All(study.Trials, t => Assert.Equal(13, t.Epochs));
        Assert.All(study.Trials, t => Assert.Null(t.ResumedFrom));
    }

    [Fact]
    public void Grid_ConditionalChild_VariesOnlyWhereActive()
    {
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "optimizer", Values = ["sgd", "adam"] },
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new ParameterCondition("optimizer", ["sgd"]) },
        ]);

        var points = AskAll(Create(space, points: 3), space);

        Assert.Equal(["momentum=0;optimizer=sgd", "momentum=0.5;optimizer=sgd", "momentum=1;optimizer=sgd", "optimizer=adam"], points.Select(Key));
    }

    [Fact]
    public void Grid_NestedConditions_NoDuplicatesAndAllInSpace()
    {
        // depth only exists for "cnn"; dropout only for deep cnns; lr everywhere, after the conditional ones.
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "kind", Values = ["cnn", "mlp", "linear"] },
            new IntParameter { Name = "depth", Low = 1, High = 3, Condition = new ParameterCondition("kind", ["cnn", "mlp"]) },
            new FloatParameter { Name = "dropout", Low = 0, High = 0.5, Condition = new ParameterCondition("depth", [3]) },
            new FloatParameter { Name = "lr", Low = 1e-3, High = 1e-1, Log = true },
        ]);

        var grid = new SearchGrid(space, pointsPerDimension: 3);
        var points = grid.Points().ToList();

        // kind=cnn|mlp: depth 1, 2 (x lr 3) + depth 3 (x dropout 3 x lr 3) = 6 + 9 = 15 each; linear: lr 3.
        Assert.Equal(33, grid.Count);
        Assert.Equal(33, points.Count);
        Assert.Equal(33, points.Select(Key).Distinct().Count());
        Assert.All(points, p => Assert.Null(space.Check(p)));
        Assert.Equal(15, points.Count(p => p["kind"] == "cnn"));
        Assert.Equal(9, points.Count(p => p["kind"] == "mlp" && p.ContainsKey("dropout")));
        Assert.Equal(3, points.Count(p => p["kind"] == "linear"));
    }

    [Fact]
    public void ValuesOf_LogFloat_IsGeometricallySpaced()
    {
        var values = SearchGrid.ValuesOf(new FloatParameter { Name = "lr", Low = 1e-4, High = 1, Log = true }, 5);

        Assert.Equal([1e-4, 1e-3, 1e-2, 1e-1, 1], values.Select(v => v.AsDouble()), (a, b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)) || Math.Abs(Math.Log(a / b)) < 1e-12);
        Assert.Equal(1e-4, values[0].AsDouble()); // the bounds exactly
        Assert.Equal(1.0, values[^1].AsDouble());
    }

    [Fact]
    public void ValuesOf_LinearFloat_IsEvenlySpacedWithBounds()
    {
        var values = SearchGrid.ValuesOf(new FloatParameter { Name = "x", Low = -1, High = 1 }, 5);

        Assert.Equal([-1, -0.5, 0, 0.5, 1], values.Select(v => v.AsDouble()));
    }

    [Fact]
    public void ValuesOf_SinglePoint_IsTheMiddle()
    {
        Assert.Equal([0.5], SearchGrid.ValuesOf(new FloatParameter { Name = "x", Low = 0, High = 1 }, 1).Select(v => v.AsDouble()));
        Assert.Equal(0.01, SearchGrid.ValuesOf(new FloatParameter { Name = "lr", Low = 1e-4, High = 1, Log = true }, 1)[0].AsDouble(), 1e-15);
    }

    [Theory]
    [InlineData(1, 3, 1, 5, new[] { 1.0, 2, 3 })]               // fewer values than points: every value
    [InlineData(0, 8, 1, 5, new[] { 0.0, 2, 4, 6, 8 })]          // more: evenly spaced, bounds included
    [InlineData(0, 80, 10, 5, new[] { 0.0, 20, 40, 60, 80 })]    // on the step grid
    [InlineData(8, 64, 8, 5, new[] { 8.0, 24, 40, 48, 64 })]     // 8 values: indices 0, 1.75→2, 3.5→4, 5.25→5, 7
    [InlineData(0, 4, 2, 5, new[] { 0.0, 2, 4 })]
    public void ValuesOf_Int_EveryStepOrEvenlySpaced(int low, int high, int step, int points, double[] expected)
    {
        var values = SearchGrid.ValuesOf(new IntParameter { Name = "n", Low = low, High = high, Step = step }, points);

        Assert.Equal(expected, values.Select(v => v.AsDouble()));
    }

    [Fact]
    public void ValuesOf_LogInt_IsGeometricallySpacedAndDistinct()
    {
        Assert.Equal([1.0, 10, 100, 1000, 10000],
            SearchGrid.ValuesOf(new IntParameter { Name = "n", Low = 1, High = 10_000, Log = true }, 5).Select(v => v.AsDouble()));
        // Rounding collapses 1, 1.4, 2, 2.8, 4, 5.7, 8 … the small end: no duplicates survive.
        var dense = SearchGrid.ValuesOf(new IntParameter { Name = "n", Low = 1, High = 20, Log = true }, 12);
        Assert.Equal(dense.Count, dense.Distinct().Count());
        Assert.Equal(1, dense[0].AsDouble());
        Assert.Equal(20, dense[^1].AsDouble());
    }

    [Fact]
    public void ValuesOf_Choice_AllValuesInOrder()
    {
        Assert.Equal(["x", 2, "z"], SearchGrid.ValuesOf(new ChoiceParameter { Name = "c", Values = ["x", 2, "z"] }, 1));
    }

    [Fact]
    public void Ask_Shuffled_SamePointsInSeededOrder()
    {
        var space = Small();

        var ordered = AskAll(Create(space, points: 3), space).Select(Key).ToList();
        var shuffled = AskAll(Create(space, seed: 5, points: 3, shuffle: true), space).Select(Key).ToList();
        var again = AskAll(Create(space, seed: 5, points: 3, shuffle: true), space).Select(Key).ToList();
        var other = AskAll(Create(space, seed: 6, points: 3, shuffle: true), space).Select(Key).ToList();

        Assert.Equal(ordered.Order(), shuffled.Order());
        Assert.NotEqual(ordered, shuffled);
        Assert.Equal(shuffled, again);
        Assert.NotEqual(shuffled, other);
        Assert.Equal(ordered.Order(), other.Order());
    }

    [Fact]
    public void Ask_Unshuffled_IgnoresSeed()
    {
        var space = Small();

        Assert.Equal(AskAll(Create(space, seed: 1), space).Select(Key), AskAll(Create(space, seed: 2), space).Select(Key));
    }

    [Fact]
    public void Grid_HugeSpace_CountedAndIndexedWithoutListing()
    {
        // 5^12 = 244,140,625 points: counted exactly, and any point can be reached directly.
        var space = new SearchSpace(Enumerable.Range(0, 12).Select(i => (ParameterSpec)new FloatParameter { Name = $"p{i}", Low = 0, High = 1 }).ToList());
        var grid = new SearchGrid(space, 5);

        Assert.Equal(244_140_625L, grid.Count);
        Assert.All(grid[0].Values, v => Assert.Equal(0.0, v.AsDouble()));
        Assert.All(grid[grid.Count - 1].Values, v => Assert.Equal(1.0, v.AsDouble()));
        Assert.Equal(0.25, grid[1]["p11"].AsDouble());
        Assert.Equal(0.25, grid[5L * 5 * 5 * 5 * 5 * 5 * 5 * 5 * 5 * 5 * 5]["p0"].AsDouble());

        var strategy = Create(space, seed: 3, shuffle: true);
        var study = new StudySimulator(strategy, space, maxTrials: 500, epochs: 1).Run(parallelism: 8);
        Assert.Empty(study.Violations);
        Assert.Equal(500, study.Trials.Select(t => Key(t.Parameters)).Distinct().Count());
    }

    [Fact]
    public void Grid_BeyondLongRange_SaturatesAndStillAnswers()
    {
        var space = new SearchSpace(Enumerable.Range(0, 40).Select(i => (ParameterSpec)new ChoiceParameter { Name = $"c{i}", Values = ["a", "b", "c", "d", "e"] }).ToList());

        var grid = new SearchGrid(space, 5);

        Assert.Equal(long.MaxValue, grid.Count);
        Assert.Null(space.Check(grid[123_456_789]));
        var study = new StudySimulator(Create(space, seed: 4, shuffle: true), space, maxTrials: 50, epochs: 1).Run();
        Assert.Empty(study.Violations);
    }

    [Fact]
    public void Grid_EmptySpace_HasOneEmptyPoint()
    {
        var points = AskAll(Create(SearchSpace.Empty), SearchSpace.Empty);

        Assert.Single(points);
        Assert.Empty(points[0]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void SeededPermutation_IsABijection(long count)
    {
        var permutation = new SeededPermutation(count, seed: 9);

        var images = Enumerable.Range(0, (int)count).Select(i => permutation[i]).ToList();

        Assert.Equal(Enumerable.Range(0, (int)count).Select(i => (long)i), images.Order());
    }
}
