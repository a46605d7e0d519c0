using Tracker.Plugins.RandomSearch;
using Tracker.Plugins.Tpe;

namespace Tracker.Strategies.Tests;

public sealed class TpeConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new TpePlugin();

    // Fewer random trials than the default 10, so that most of a 30-trial study is model-based.
    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { ["initial_random"] = 4 };
}

public sealed class TpeUnivariateConformanceTests : StrategyConformanceTests
{
    protected override ISearchStrategyPlugin CreatePlugin() => new TpePlugin();

    protected override IReadOnlyDictionary<string, ParameterValue> Options { get; } =
        new Dictionary<string, ParameterValue> { ["initial_random"] = 4, ["multivariate"] = "false", ["constant_liar"] = "false" };
}

public sealed class TpeTests
{
    private static ISearchStrategy Create(SearchSpace space, int seed, params (string Key, ParameterValue Value)[] options)
    {
        var plugin = new TpePlugin();
        var values = plugin.Options.ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in options) values[k] = v;
        return plugin.Create(new StrategyContext(space, seed, values));
    }

    private static StudySimulator Minimise(ISearchStrategy strategy, SearchSpace space, int trials, Func<IReadOnlyDictionary<string, ParameterValue>, double> f) =>
        new StudySimulator(strategy, space, trials, epochs: 1) { Objective = (p, _) => f(p) }.Run();

    private static TrialRecord Trial(int number, double x, TrialState state = TrialState.Completed, double? value = null,
        IReadOnlyList<IntermediateValue>? intermediate = null) => new()
    {
        Id = $"t{number}", Number = number, Epochs = 4, State = state,
        Parameters = new Dictionary<string, ParameterValue> { ["x"] = x },
        Objective = state == TrialState.Completed ? value ?? x : null,
        Intermediate = intermediate ?? [],
    };

    private static readonly SearchSpace Square = new(
    [
        new FloatParameter { Name = "x", Low = -5, High = 5 },
        new FloatParameter { Name = "y", Low = -5, High = 5 },
    ]);

    private static double Bowl(IReadOnlyDictionary<string, ParameterValue> p) =>
        Math.Pow(p["x"].AsDouble() - 1, 2) + Math.Pow(p["y"].AsDouble() + 2, 2);

    [Fact]
    public void Plugin_Options_DeclareOptunaLikeDefaults()
    {
        var options = new TpePlugin().Options.ToDictionary(o => o.Name, o => o.Default!.Value);

        Assert.Equal("tpe", new TpePlugin().Name);
        Assert.Equal(10, options["initial_random"].AsInt());
        Assert.Equal(0.1, options["gamma"].AsDouble());
        Assert.Equal(24, options["candidates"].AsInt());
        Assert.Equal("true", options["multivariate"].AsString());
        Assert.Equal(1.0, options["prior_weight"].AsDouble());
        Assert.Equal("false", options["consider_endpoints"].AsString());
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public void Run_TwoDimensionalQuadratic_BeatsRandomByMedianOverTenSeeds(string multivariate)
    {
        var tpe = new List<double>();
        var random = new List<double>();
        for (int seed = 0; seed < 10; seed++)
        {
            tpe.Add(Minimise(Create(Square, seed, ("multivariate", multivariate)), Square, 40, Bowl).Trials.Min(t => t.Objective!.Value));
            var baseline = new RandomSearchPlugin().Create(new StrategyContext(Square, seed, new Dictionary<string, ParameterValue>()));
            random.Add(Minimise(baseline, Square, 40, Bowl).Trials.Min(t => t.Objective!.Value));
        }

        double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        Assert.True(Median(tpe) < 0.5 * Median(random), $"TPE median {Median(tpe)}, random median {Median(random)}");
    }

    [Fact]
    public void Ask_InitialTrials_AreTheRandomStrategysDraws()
    {
        var space = ConformanceSpaces.Mixed();
        var random = new RandomSearchPlugin().Create(new StrategyContext(space, 8, new Dictionary<string, ParameterValue>()));

        var tpe = new StudySimulator(Create(space, 8), space, 10).Run();
        var reference = new StudySimulator(random, space, 10).Run();

        Assert.Equal(reference.Trials.Select(StudySimulator.Describe), tpe.Trials.Select(StudySimulator.Describe));
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public void Ask_CategoricalAndConditionalSpace_ValidPointsAndLearnsBestCategory(string multivariate)
    {
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "kind", Values = ["a", "b", "c", "d"] },
            new FloatParameter { Name = "x", Low = 0, High = 1 },
            new IntParameter { Name = "depth", Low = 1, High = 8, Condition = new ParameterCondition("kind", ["b", "c"]) },
            new FloatParameter { Name = "lr", Low = 1e-4, High = 1, Log = true, Condition = new ParameterCondition("depth", [2, 3, 4]) },
        ]);
        static double F(IReadOnlyDictionary<string, ParameterValue> p) =>
            (p["kind"] == "c" ? 0 : 1) + Math.Pow(p["x"].AsDouble() - 0.4, 2) + (p.TryGetValue("depth", out var d) ? Math.Abs(d.AsDouble() - 3) / 10 : 0);

        var study = Minimise(Create(space, 2, ("multivariate", multivariate)), space, 60, F);

        Assert.Empty(study.Violations);
        Assert.All(study.Trials, t => Assert.Null(space.Check(t.Parameters)));
        Assert.Contains(study.Trials, t => t.Parameters.ContainsKey("lr"));
        Assert.True(study.Trials.Skip(40).Count(t => t.Parameters["kind"] == "c") >= 12, "the best category should dominate the last trials");
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public void Ask_SameSeedAndHistory_SameSuggestionFromFreshInstance(string multivariate)
    {
        var space = ConformanceSpaces.Mixed();
        var study = new StudySimulator(Create(space, 12, ("multivariate", multivariate)), space, 20).Run();
        var view = study.View() with { MaxTrials = 30 };

        var first = Assert.IsType<StrategyDecision.Next>(Create(space, 12, ("multivariate", multivariate)).Ask(view));
        var second = Assert.IsType<StrategyDecision.Next>(Create(space, 12, ("multivariate", multivariate)).Ask(view));

        Assert.Equal(first.Request.Parameters, second.Request.Parameters);
    }

    [Fact]
    public void Split_GammaOfFinishedTrials_PrunedAfterCompletedRunningAmongBad()
    {
        var space = new SearchSpace([new FloatParameter { Name = "x", Low = 0, High = 100 }]);
        var trials = Enumerable.Range(0, 28).Select(i => Trial(i, 50 - i)).ToList();
        // Pruned at step 3 with a better last value than any completed trial: still ranked after them.
        trials.Add(Trial(28, 99, TrialState.Pruned, intermediate: [new IntermediateValue(3, -100)]));
        trials.Add(Trial(29, 98, TrialState.Running));
        trials.Add(Trial(30, 97, TrialState.Failed));
        var view = new StudyView { Space = space, Trials = trials, Direction = ObjectiveDirection.Minimize, MaxTrials = 100, Epochs = 4 };
        var strategy = new TpeStrategy(1, new TpeOptions());

        var (good, bad) = strategy.Split(view);

        // n = 29 finished (28 completed + 1 pruned): ceil(0.1 · 29) = 3 good, the smallest objectives, oldest first.
        Assert.Equal([25.0, 24, 23], good.Select(p => p["x"].AsDouble()));
        Assert.Equal(25 + 1 + 1, bad.Count); // the other completed, the pruned and the running one; not the failed
        Assert.Contains(bad, p => p["x"] == 98);
        Assert.DoesNotContain(bad, p => p["x"] == 97);
        Assert.DoesNotContain(new TpeStrategy(1, new TpeOptions { ConstantLiar = false }).Split(view).Bad, p => p["x"] == 98);
    }

    [Fact]
    public void Split_Maximize_KeepsLargestObjectives()
    {
        var space = new SearchSpace([new FloatParameter { Name = "x", Low = 0, High = 100 }]);
        var trials = Enumerable.Range(0, 10).Select(i => Trial(i, i)).ToList();
        var view = new StudyView { Space = space, Trials = trials, Direction = ObjectiveDirection.Maximize, MaxTrials = 100, Epochs = 4 };

        var (good, _) = new TpeStrategy(1, new TpeOptions()).Split(view);

        Assert.Equal([9.0], good.Select(p => p["x"].AsDouble()));
    }

    [Fact]
    public void Weights_MoreThan25Observations_RampOldestLikeOptuna()
    {
        Assert.Equal(Enumerable.Repeat(1.0, 24), ParzenEstimator.Weights(24));
        var weights = ParzenEstimator.Weights(30);

        // numpy.linspace(1/30, 1, 5) then 25 ones.
        Assert.Equal([1 / 30.0, 0.275, 0.51666666666666672, 0.75833333333333341, 1], weights.Take(5), (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.All(weights.Skip(5), w => Assert.Equal(1.0, w));
    }

    [Fact]
    public void ParameterKernels_NormalisedFloatKernels_IntegrateToOneOverTheRange()
    {
        var p = new FloatParameter { Name = "x", Low = 0, High = 1 };
        var kernels = new ParameterKernels(p, [0.02, 0.15, 0.5, 0.97], new ParzenSettings(1.0, false, WidthFree: false));

        for (int k = 0; k < kernels.Count; k++)
        {
            const int n = 20_000;
            double integral = Enumerable.Range(0, n).Sum(i => Math.Exp(kernels.LogPdf(k, (i + 0.5) / n))) / n;
            Assert.Equal(1, integral, 1e-4);
        }
    }

    [Fact]
    public void ParameterKernels_IntegerCells_MassesSumToOne()
    {
        var p = new IntParameter { Name = "n", Low = 2, High = 40, Log = true };
        var kernels = new ParameterKernels(p, [p.ToUnit(3), p.ToUnit(17)], new ParzenSettings(1.0, false, WidthFree: false));

        for (int k = 0; k < kernels.Count; k++)
            Assert.Equal(1, Enumerable.Range(2, 39).Sum(v => Math.Exp(kernels.LogPdf(k, p.ToUnit(v)))), 1e-9);
    }

    [Fact]
    public void ParameterKernels_Choice_ObservedValueGetsOnePlusPriorShare()
    {
        var p = new ChoiceParameter { Name = "c", Values = ["a", "b", "c"] };
        var kernels = new ParameterKernels(p, [1, 1, 2], new ParzenSettings(1.0, false, WidthFree: false));

        // Optuna's rule: each observation's row is prior_weight/(n+1) everywhere plus 1 on its value, normalised.
        double other = 0.25 / 1.75, observed = 1.25 / 1.75;
        Assert.Equal(Math.Log(other), kernels.LogPdf(0, 0), 1e-12);
        Assert.Equal(Math.Log(observed), kernels.LogPdf(0, 1), 1e-12);
        Assert.Equal(Math.Log(1 / 3.0), kernels.LogPdf(kernels.Prior, 2), 1e-12);
    }

    [Fact]
    public void ParameterKernels_Samples_StayInRangeAndFollowTheKernel()
    {
        var p = new FloatParameter { Name = "x", Low = 0, High = 1 };
        var kernels = new ParameterKernels(p, [0.05, 0.9], new ParzenSettings(1.0, false, WidthFree: false));
        var random = new Random(3);

        var samples = Enumerable.Range(0, 5000).Select(_ => kernels.Sample(0, random)).ToList();

        Assert.All(samples, s => Assert.InRange(s, 0, 1));
        const int n = 20_000;
        double mean = Enumerable.Range(0, n).Sum(i => (i + 0.5) / n * Math.Exp(kernels.LogPdf(0, (i + 0.5) / n))) / n;
        Assert.Equal(mean, samples.Average(), 0.02);
    }

    [Fact]
    public void ParzenEstimator_ConditionalChild_UsesOnlyTrialsWhereActive()
    {
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "opt", Values = ["sgd", "adam"] },
            new FloatParameter { Name = "momentum", Low = 0, High = 1, Condition = new ParameterCondition("opt", ["sgd"]) },
        ]);
        IReadOnlyDictionary<string, ParameterValue>[] trials =
        [
            new Dictionary<string, ParameterValue> { ["opt"] = "sgd", ["momentum"] = 0.9 },
            new Dictionary<string, ParameterValue> { ["opt"] = "adam" },
            new Dictionary<string, ParameterValue> { ["opt"] = "sgd", ["momentum"] = 0.92 },
        ];
        var estimator = new ParzenEstimator(space.Parameters, trials, new ParzenSettings(1.0, false, WidthFree: false));
        var random = new Random(5);

        var samples = Enumerable.Range(0, 400).Select(_ => estimator.Sample(random, new Dictionary<string, ParameterValue>()).Values).ToList();

        Assert.All(samples, s => Assert.Null(space.Check(s)));
        // Two of the three trials chose sgd, so sgd is drawn more often than adam, and its momentum leans high: the
        // adam trial's component draws momentum from the prior, the sgd trials' from their kernels near 0.9.
        var momentum = samples.Where(s => s.ContainsKey("momentum")).Select(s => s["momentum"].AsDouble()).ToList();
        Assert.InRange(momentum.Count, 201, 320);
        Assert.True(momentum.Order().ElementAt(momentum.Count / 2) > 0.6);
    }
}
