using Tracker.Plugins.Pruners;
using static Tracker.Strategies.Tests.Histories;

namespace Tracker.Strategies.Tests;

public sealed class MedianPrunerConformanceTests : PrunerConformanceTests
{
    protected override IPrunerPlugin CreatePlugin() => new MedianPrunerPlugin();
}

public sealed class AshaPrunerConformanceTests : PrunerConformanceTests
{
    protected override IPrunerPlugin CreatePlugin() => new AshaPrunerPlugin();
}

public sealed class MedianPrunerTests
{
    private const ObjectiveDirection Min = ObjectiveDirection.Minimize;
    private const ObjectiveDirection Max = ObjectiveDirection.Maximize;

    private static IPruner Create(int warmupSteps = 1, int minTrials = 5) =>
        new MedianPrunerPlugin().Create(new PrunerContext(1, new Dictionary<string, ParameterValue>
        {
            [MedianPrunerPlugin.WarmupSteps] = warmupSteps,
            [MedianPrunerPlugin.MinTrials] = minTrials,
        }));

    /// <summary>Five completed trials whose step-2 values are 0.1 … 0.5 (median 0.3) and step-1 values 1.1 … 1.5.</summary>
    private static TrialRecord[] Five(ObjectiveDirection direction)
    {
        double sign = direction == Min ? 1 : -1;
        return Enumerable.Range(0, 5).Select(i => Trial(i, TrialState.Completed, sign * (1.1 + i / 10.0), sign * (0.1 + i / 10.0), sign * (0.05 + i / 10.0))).ToArray();
    }

    [Theory]
    [InlineData(0.35, PruneDecision.Prune)]
    [InlineData(0.25, PruneDecision.Continue)]
    [InlineData(0.3, PruneDecision.Continue)] // equal to the median is not worse
    public void OnReport_Minimize_PrunesWorseThanMedian(double value, PruneDecision expected)
    {
        Assert.Equal(expected, Judge(Create(), Min, Five(Min), Trial(9, TrialState.Running, 2.0, value)));
    }

    [Theory]
    [InlineData(-0.35, PruneDecision.Prune)]
    [InlineData(-0.25, PruneDecision.Continue)]
    public void OnReport_Maximize_PrunesWorseThanMedian(double value, PruneDecision expected)
    {
        // Values are negated: the median is −0.3 and larger is better.
        Assert.Equal(expected, Judge(Create(), Max, Five(Max), Trial(9, TrialState.Running, -2.0, value)));
    }

    [Fact]
    public void OnReport_BestSoFarBeatsMedian_Continues()
    {
        // Step 2's own value (0.9) is bad, but the best so far (0.2 at step 1) is better than the median 0.3.
        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, Five(Min), Trial(9, TrialState.Running, 0.2, 0.9)));
    }

    [Fact]
    public void OnReport_WithinWarmup_Continues()
    {
        Assert.Equal(PruneDecision.Continue, Judge(Create(warmupSteps: 1), Min, Five(Min), Trial(9, TrialState.Running, 99.0)));
        Assert.Equal(PruneDecision.Continue, Judge(Create(warmupSteps: 2), Min, Five(Min), Trial(9, TrialState.Running, 99.0, 99.0)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(warmupSteps: 0), Min, Five(Min), Trial(9, TrialState.Running, 99.0)));
    }

    [Fact]
    public void OnReport_FewerCompletedThanMinTrials_Continues()
    {
        var four = Five(Min).Take(4).ToArray();

        Assert.Equal(PruneDecision.Continue, Judge(Create(minTrials: 5), Min, four, Trial(9, TrialState.Running, 9.0, 9.0)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(minTrials: 4), Min, four, Trial(9, TrialState.Running, 9.0, 9.0)));
    }

    [Fact]
    public void OnReport_OnlyCompletedTrialsFormTheMedian()
    {
        // Pruned, running and failed trials with excellent values neither count towards min_trials nor move the median.
        TrialRecord[] others =
        [
            .. Five(Min),
            Trial(5, TrialState.Pruned, -5, -5), Trial(6, TrialState.Running, -5, -5), Trial(7, TrialState.Failed, -5, -5),
            Trial(8, TrialState.Interrupted, -5, -5),
        ];

        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, others, Trial(9, TrialState.Running, 2.0, 0.25)));
        Assert.Equal(PruneDecision.Continue, Judge(Create(minTrials: 6), Min, others, Trial(9, TrialState.Running, 2.0, 9.0)));
    }

    [Fact]
    public void OnReport_StepNoCompletedTrialReached_Continues()
    {
        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, Five(Min), Trial(9, TrialState.Running, 9, 9, 9, 9)));
    }

    [Fact]
    public void OnReport_EvenCount_UsesMeanOfMiddleValues()
    {
        // Step-2 values 0.1, 0.2, 0.3, 0.4, 0.5, 0.6: median 0.35.
        var six = Enumerable.Range(0, 6).Select(i => Trial(i, TrialState.Completed, 1, 0.1 + i / 10.0)).ToArray();

        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, six, Trial(9, TrialState.Running, 2.0, 0.34)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(), Min, six, Trial(9, TrialState.Running, 2.0, 0.36)));
    }

    [Fact]
    public void OnReport_NonFiniteValue_Prunes()
    {
        Assert.Equal(PruneDecision.Prune, Judge(Create(), Min, Five(Min), Trial(9, TrialState.Running, 0.1, double.NaN)));
    }

    [Fact]
    public void Median_OddAndEven()
    {
        Assert.Equal(2, MedianPruner.Median([3, 1, 2]));
        Assert.Equal(2.5, MedianPruner.Median([4, 1, 3, 2]));
    }
}

public sealed class AshaPrunerTests
{
    private const ObjectiveDirection Min = ObjectiveDirection.Minimize;
    private const ObjectiveDirection Max = ObjectiveDirection.Maximize;

    private static IPruner Create(int minEpochs = 1, int eta = 3, int rate = 0) =>
        new AshaPrunerPlugin().Create(new PrunerContext(1, new Dictionary<string, ParameterValue>
        {
            [AshaPrunerPlugin.MinEpochs] = minEpochs,
            [AshaPrunerPlugin.ReductionFactor] = eta,
            [AshaPrunerPlugin.MinEarlyStoppingRate] = rate,
        }));

    /// <summary>Trials whose value at every step is the given level (minimise: lower is better).</summary>
    private static TrialRecord[] Levels(int steps, params double[] levels) =>
        levels.Select((l, i) => Trial(i, TrialState.Completed, Enumerable.Repeat(l, steps).ToArray())).ToArray();

    [Theory]
    [InlineData(1, 3, 0, new[] { 1, 3, 9, 27, 81 })]
    [InlineData(2, 3, 0, new[] { 2, 6, 18, 54 })]
    [InlineData(1, 3, 1, new[] { 3, 9, 27, 81 })]
    [InlineData(1, 2, 2, new[] { 4, 8, 16, 32, 64 })]
    public void IsRung_StepsAtMinEpochsTimesEtaPowers(int minEpochs, int eta, int rate, int[] expected)
    {
        var pruner = new AshaPruner(minEpochs, eta, rate);

        Assert.Equal(expected, Enumerable.Range(1, 100).Where(pruner.IsRung));
    }

    [Fact]
    public void OnReport_BetweenRungs_Continues()
    {
        var others = Levels(9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);

        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.0, 5.0)));
        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.0, 0.0, 0.0, 5.0)));
    }

    [Theory]
    [InlineData(0.25, PruneDecision.Continue)] // 3rd best of 9: top ⌊9/3⌋ = 3
    [InlineData(0.3, PruneDecision.Continue)]  // ties the 3rd best
    [InlineData(0.35, PruneDecision.Prune)]    // 4th
    public void OnReport_AtRung_KeepsTopThird(double value, PruneDecision expected)
    {
        var others = Levels(3, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);

        Assert.Equal(expected, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.0, 0.0, value)));
    }

    [Theory]
    [InlineData(-0.25, PruneDecision.Continue)]
    [InlineData(-0.35, PruneDecision.Prune)]
    public void OnReport_Maximize_KeepsTopThird(double value, PruneDecision expected)
    {
        var others = Levels(3, -0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8);

        Assert.Equal(expected, Judge(Create(), Max, others, Trial(9, TrialState.Running, 0.0, 0.0, value)));
    }

    [Fact]
    public void OnReport_FewerThanEtaAtRung_OnlyTheBestContinues()
    {
        // Two values at step 1 (⌊2/3⌋ = 0): as in Optuna, only the best so far goes on.
        var one = Levels(1, 0.5);

        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, one, Trial(9, TrialState.Running, 0.4)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(), Min, one, Trial(9, TrialState.Running, 0.6)));
    }

    [Fact]
    public void OnReport_CountsTrialsOfEveryStateThatReachedTheRung()
    {
        // Pruned and running trials recorded values at step 1 too: they compete (ASHA's rung records are permanent).
        TrialRecord[] others =
        [
            Trial(0, TrialState.Pruned, 0.1), Trial(1, TrialState.Running, 0.2), Trial(2, TrialState.Completed, 0.3),
            Trial(3, TrialState.Failed, 0.4), Trial(4, TrialState.Interrupted, 0.5), Trial(5, TrialState.Failed),
        ];

        // 6 values with its own: keep ⌊6/3⌋ = 2.
        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.15)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.25)));
    }

    [Fact]
    public void OnReport_OnlyValuesAtExactlyTheRungStepCompete()
    {
        // Trials resumed past step 3 (their first step is 4) do not compete at rung 3.
        TrialRecord Resumed(int n, double v) => Trial(n, TrialState.Completed) with { Intermediate = [new(4, v), new(5, v)] };
        TrialRecord[] others = [Resumed(0, 0.0), Resumed(1, 0.0), Resumed(2, 0.0), Resumed(3, 0.0), .. Levels(3, 0.9).Select(t => t with { Id = "x", Number = 4 })];

        Assert.Equal(PruneDecision.Continue, Judge(Create(), Min, others, Trial(9, TrialState.Running, 0.5, 0.5, 0.5)));
    }

    [Fact]
    public void OnReport_TrialAlreadyInStudy_CountedOnce()
    {
        // 4 others and itself: keep ⌊5/3⌋ = 1, so 0.15 is pruned (counting itself twice would keep 2 and let it on).
        var self = Trial(9, TrialState.Running, 0.15);
        var study = Study(Min, [.. Levels(1, 0.1, 0.2, 0.3, 0.4), self]);

        Assert.Equal(PruneDecision.Prune, Create().OnReport(study, self, self.Intermediate[0]));
    }

    [Fact]
    public void OnReport_MinEarlyStoppingRate_SkipsEarlyRungs()
    {
        var others = Levels(9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);
        var bad = Trial(9, TrialState.Running, 5, 5, 5);

        Assert.Equal(PruneDecision.Prune, Judge(Create(rate: 0), Min, others, bad with { Intermediate = bad.Intermediate.Take(1).ToList() }));
        Assert.Equal(PruneDecision.Continue, Judge(Create(rate: 1), Min, others, bad with { Intermediate = bad.Intermediate.Take(1).ToList() }));
        Assert.Equal(PruneDecision.Prune, Judge(Create(rate: 1), Min, others, bad));
    }

    [Fact]
    public void OnReport_MinEpochs_MovesRungs()
    {
        var others = Levels(9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);

        Assert.Equal(PruneDecision.Continue, Judge(Create(minEpochs: 2), Min, others, Trial(9, TrialState.Running, 5)));
        Assert.Equal(PruneDecision.Prune, Judge(Create(minEpochs: 2), Min, others, Trial(9, TrialState.Running, 5, 5)));
    }

    [Fact]
    public void OnReport_NonFiniteAtRung_Prunes()
    {
        Assert.Equal(PruneDecision.Prune, Judge(Create(), Min, [], Trial(9, TrialState.Running, double.NaN)));
    }

    [Fact]
    public void Create_InvalidOptions_Throw()
    {
        Assert.ThrowsAny<ArgumentException>(() => new AshaPrunerPlugin().Create(new PrunerContext(1, new Dictionary<string, ParameterValue> { [AshaPrunerPlugin.ReductionFactor] = 1 })));
        Assert.ThrowsAny<ArgumentException>(() => new AshaPrunerPlugin().Create(new PrunerContext(1, new Dictionary<string, ParameterValue> { [AshaPrunerPlugin.MinEpochs] = 0 })));
    }
}
