using Tracker.Plugins.Bayesian;
using Tracker.Plugins.RandomSearch;

namespace Tracker.Strategies.Tests;

public sealed class BayesianConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new BayesianPlugin();

    // Fewer screened candidates than the default 2000 keep the suite fast; the contract does not depend on them.
    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { ["candidates"] = 300, ["initial_random"] = 5 };
}

public sealed class BayesianTests
{
    private static ISearchStrategy Create(SearchSpace space, int seed, params (string Key, ParameterValue Value)[] options)
    {
        var plugin = new BayesianPlugin();
        var values = plugin.Options.ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in options) values[k] = v;
        return plugin.Create(new StrategyContext(space, seed, values));
    }

    private static StudySimulator Minimise(ISearchStrategy strategy, SearchSpace space, int trials,
        Func<IReadOnlyDictionary<string, ParameterValue>, double> f, ObjectiveDirection direction = ObjectiveDirection.Minimize) =>
        new StudySimulator(strategy, space, trials, epochs: 1, direction) { Objective = (p, _) => f(p) }.Run();

    private static readonly SearchSpace Line = new([new FloatParameter { Name = "x", Low = -2, High = 3 }]);

    [Fact]
    public void Plugin_Options_DeclareDocumentedDefaults()
    {
        var options = new BayesianPlugin().Options.ToDictionary(o => o.Name, o => o.Default!.Value);

        Assert.Equal("bayesian", new BayesianPlugin().Name);
        Assert.Equal(10, options["initial_random"].AsInt());
        Assert.Equal("ei", options["acquisition"].AsString());
        Assert.Equal(2.0, options["ucb_beta"].AsDouble());
        Assert.Equal(0.001, options["xi"].AsDouble());
        Assert.Equal("constant_liar", options["parallel_strategy"].AsString());
        Assert.Equal(2000, options["candidates"].AsInt());
        Assert.Equal("map", options["fit"].AsString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Ask_OneDimensionalQuadratic_FindsMinimumWithin1em2In20Trials(int seed)
    {
        var study = Minimise(Create(Line, seed), Line, 20, p => Math.Pow(p["x"].AsDouble() - 0.7, 2));

        Assert.Empty(study.Violations);
        var best = study.Trials.MinBy(t => t.Objective)!;
        Assert.InRange(best.Parameters["x"].AsDouble(), 0.69, 0.71);
    }

    [Fact]
    public void Ask_UcbAcquisition_FindsMinimumWithin1em2In20Trials()
    {
        var study = Minimise(Create(Line, 1, ("acquisition", "ucb")), Line, 20, p => Math.Pow(p["x"].AsDouble() - 0.7, 2));

        Assert.InRange(study.Trials.MinBy(t => t.Objective)!.Parameters["x"].AsDouble(), 0.69, 0.71);
    }

    [Fact]
    public void Ask_Maximize_FindsMaximum()
    {
        var study = Minimise(Create(Line, 4), Line, 20, p => -Math.Pow(p["x"].AsDouble() - 0.7, 2), ObjectiveDirection.Maximize);

        Assert.InRange(study.Trials.MaxBy(t => t.Objective)!.Parameters["x"].AsDouble(), 0.69, 0.71);
    }

    [Fact]
    public void Ask_InitialTrials_AreTheRandomStrategysDraws()
    {
        var space = ConformanceSpaces.Mixed();
        var random = new RandomSearchPlugin().Create(new StrategyContext(space, 8, new Dictionary<string, ParameterValue>()));

        var bayesian = new StudySimulator(Create(space, 8), space, 10).Run();
        var reference = new StudySimulator(random, space, 10).Run();

        Assert.Equal(reference.Trials.Select(StudySimulator.Describe), bayesian.Trials.Select(StudySimulator.Describe));
    }

    [Fact]
    public void Ask_CategoricalAndConditionalSpace_ValidPointsAndLearnsBestCategory()
    {
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "kind", Values = ["a", "b", "c", "d"] },
            new FloatParameter { Name = "x", Low = 0, High = 1 },
            new IntParameter { Name = "depth", Low = 1, High = 8, Condition = new ParameterCondition("kind", ["b", "c"]) },
            new FloatParameter { Name = "lr", Low = 1e-4, High = 1, Log = true, Condition = new ParameterCondition("kind", ["c"]) },
        ]);
        static double F(IReadOnlyDictionary<string, ParameterValue> p) =>
            (p["kind"] == "c" ? 0 : 1) + Math.Pow(p["x"].AsDouble() - 0.4, 2) + (p.TryGetValue("depth", out var d) ? Math.Abs(d.AsDouble() - 3) / 10 : 0);

        var study = Minimise(Create(space, 5, ("candidates", 500), ("initial_random", 6)), space, 24, F);

        Assert.Empty(study.Violations);
        Assert.All(study.Trials, t => Assert.Null(space.Check(t.Parameters)));
        Assert.True(study.Trials.Skip(12).Count(t => t.Parameters["kind"] == "c") >= 9, "the best category should dominate the last trials");
    }

    [Fact]
    public void Ask_SameSeedAndHistory_SameSuggestionFromFreshInstance()
    {
        var space = ConformanceSpaces.Mixed();
        var study = new StudySimulator(Create(space, 12, ("candidates", 300)), space, 14).Run();

        var first = Create(space, 12, ("candidates", 300)).Ask(study.View() with { MaxTrials = 20 });
        var second = Create(space, 12, ("candidates", 300)).Ask(study.View() with { MaxTrials = 20 });

        Assert.Equal(StudySimulator.Describe(Record(first)), StudySimulator.Describe(Record(second)));
    }

    private static TrialRecord Record(StrategyDecision decision) => new()
    {
        Id = "x", Number = 0, State = TrialState.Queued, Epochs = 1,
        Parameters = Assert.IsType<StrategyDecision.Next>(decision).Request.Parameters,
    };

    [Fact]
    public void Ask_SmallDiscreteSpace_NeverRepeatsAnEvaluatedPoint()
    {
        var space = new SearchSpace([new IntParameter { Name = "n", Low = 1, High = 8 }, new ChoiceParameter { Name = "c", Values = ["u", "v"] }]);

        var study = Minimise(Create(space, 3, ("initial_random", 2)), space, 16, p => Math.Abs(p["n"].AsDouble() - 5) + (p["c"] == "u" ? 0 : 0.5));

        Assert.Equal(16, study.Trials.Select(t => $"{t.Parameters["n"]}{t.Parameters["c"]}").Distinct().Count());
    }

    [Theory]
    [InlineData("constant_liar", TrialState.Running)]
    [InlineData("constant_liar_mean", TrialState.Running)]
    [InlineData("constant_liar_worst", TrialState.Queued)]
    [InlineData("kriging_believer", TrialState.Running)]
    [InlineData("constant_liar", TrialState.Interrupted)]
    public void Ask_PendingOrInterruptedTrialAtTheFavourite_SuggestsElsewhere(string parallel, TrialState state)
    {
        // Ten random trials of a function with several basins: the GP is still uncertain, so a liar should move it.
        var history = Minimise(Create(Line, 9), Line, 10, p => Math.Sin(3 * p["x"].AsDouble()) + 0.1 * p["x"].AsDouble()).Trials.ToList();
        var strategy = Create(Line, 9, ("parallel_strategy", parallel));
        var view = new StudyView { Space = Line, Trials = history, Direction = ObjectiveDirection.Minimize, MaxTrials = 20, Epochs = 1 };
        var favourite = Assert.IsType<StrategyDecision.Next>(strategy.Ask(view)).Request.Parameters;
        var pending = new TrialRecord { Id = "p", Number = history.Count, Parameters = favourite, State = state, Epochs = 1 };

        var next = Assert.IsType<StrategyDecision.Next>(strategy.Ask(view with { Trials = [.. history, pending] })).Request.Parameters;

        // Not merely a different point (any repeat is refused outright): the GP no longer expects improvement right there.
        double distance = Math.Abs(favourite["x"].AsDouble() - next["x"].AsDouble());
        Assert.True(distance > 1e-2, $"suggested {next["x"]} next to the pending {favourite["x"]}");
    }

    [Fact]
    public void Ask_FailedAndPrunedTrials_UsedAsDocumented()
    {
        // Two failures at the left end and a pruned trial with only an intermediate value: the suggestion stays valid
        // and avoids the failed points.
        var trials = new List<TrialRecord>();
        double[] xs = [-2, -1.5, 0, 1, 2, 2.5, 3, -0.5, 0.5, 1.5, -1.9];
        for (int i = 0; i < xs.Length; i++)
        {
            var state = i is 0 or 10 ? TrialState.Failed : i == 3 ? TrialState.Pruned : TrialState.Completed;
            double value = Math.Pow(xs[i] - 0.7, 2);
            trials.Add(new TrialRecord
            {
                Id = $"t{i}", Number = i, Epochs = 1, State = state,
                Parameters = new Dictionary<string, ParameterValue> { ["x"] = xs[i] },
                Intermediate = state == TrialState.Failed ? [] : [new IntermediateValue(1, value)],
                Objective = state == TrialState.Completed ? value : null,
            });
        }
        var view = new StudyView { Space = Line, Trials = trials, Direction = ObjectiveDirection.Minimize, MaxTrials = 20, Epochs = 1 };

        var next = Assert.IsType<StrategyDecision.Next>(Create(Line, 1).Ask(view)).Request.Parameters;

        Assert.Null(Line.Check(next));
        Assert.InRange(next["x"].AsDouble(), -1, 3);
    }

    [Fact]
    public void Ask_MaximumLikelihoodFit_FindsMinimumWithin1em2In20Trials()
    {
        var study = Minimise(Create(Line, 2, ("fit", "mle")), Line, 20, p => Math.Pow(p["x"].AsDouble() - 0.7, 2));

        Assert.InRange(study.Trials.MinBy(t => t.Objective)!.Parameters["x"].AsDouble(), 0.69, 0.71);
    }

    [Theory]
    [InlineData("acquisition", "pi")]
    [InlineData("parallel_strategy", "none")]
    [InlineData("fit", "bayes")]
    public void Create_UnknownChoice_Throws(string option, string value)
    {
        Assert.Throws<ArgumentException>(() => Create(Line, 1, (option, value)));
    }
}
