namespace Tracker.Strategies.Tests;

/// <summary>Search spaces the conformance suites use.</summary>
public static class ConformanceSpaces
{
    /// <summary>
    /// A float on a log scale, an integer on a step grid, a numeric and a string choice, and a float that exists only
    /// while <c>optimizer</c> is <c>sgd</c>.
    /// </summary>
    public static SearchSpace Mixed() => new(
    [
        new FloatParameter { Name = "lr", Low = 1e-5, High = 1e-1, Log = true },
        new IntParameter { Name = "width", Low = 8, High = 64, Step = 8 },
        new ChoiceParameter { Name = "batch", Values = [32, 64, 128] },
        new ChoiceParameter { Name = "optimizer", Values = ["sgd", "adam"] },
        new FloatParameter { Name = "momentum", Low = 0.5, High = 0.99, Condition = new ParameterCondition("optimizer", ["sgd"]) },
    ]);
}

/// <summary>
/// The contract every <see cref="ISearchStrategyPlugin"/> must keep. A strategy's test class inherits this and
/// overrides <see cref="CreatePlugin"/> (and <see cref="Options"/> where the defaults are not what to test):
/// <code>
/// public sealed class MyStrategyConformanceTests : StrategyConformanceTests
/// {
///     protected override ISearchStrategyPlugin CreatePlugin() => new MyStrategyPlugin();
/// }
/// </code>
/// Each test plays whole studies with <see cref="StudySimulator"/> on <see cref="ConformanceSpaces.Mixed"/>.
/// </summary>
public abstract class StrategyConformanceTests
{
    /// <summary>Creates the plugin under test.</summary>
    protected abstract ISearchStrategyPlugin CreatePlugin();

    /// <summary>Options given on top of the plugin's declared defaults. Defaults to none.</summary>
    protected virtual IReadOnlyDictionary<string, ParameterValue> Options { get; } = new Dictionary<string, ParameterValue>();

    /// <summary>The space studied. Defaults to <see cref="ConformanceSpaces.Mixed"/>.</summary>
    protected virtual SearchSpace Space { get; } = ConformanceSpaces.Mixed();

    /// <summary>The trial budget of a study. Defaults to 30.</summary>
    protected virtual int MaxTrials => 30;

    /// <summary>The epochs of a study. Defaults to 9.</summary>
    protected virtual int Epochs => 9;

    /// <summary>Whether the seed changes the suggestions (false for a strategy that is deterministic by design). Defaults to true.</summary>
    protected virtual bool SeedMatters => true;

    /// <summary>Creates a strategy as the coordinator does: declared defaults, overridden by <see cref="Options"/>.</summary>
    protected ISearchStrategy CreateStrategy(int seed, SearchSpace? space = null)
    {
        var plugin = CreatePlugin();
        var options = plugin.Options.Where(o => o.Default is not null).ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in Options) options[k] = v;
        return plugin.Create(new StrategyContext(space ?? Space, seed, options));
    }

    /// <summary>A study of <see cref="Space"/> with a fresh strategy.</summary>
    protected StudySimulator Simulate(int seed, int? maxTrials = null, int? completionSeed = null,
        ObjectiveDirection direction = ObjectiveDirection.Minimize, Func<int, TrialState>? outcome = null) =>
        new(CreateStrategy(seed), Space, maxTrials ?? MaxTrials, Epochs, direction, completionSeed)
        {
            Outcome = outcome ?? (_ => TrialState.Completed),
        };

    private static void AssertClean(StudySimulator study)
    {
        Assert.Empty(study.Violations);
        Assert.True(study.IsFinished, $"the study did not finish: last decision {study.Decisions.LastOrDefault()}, {study.Running.Count()} running.");
        Assert.All(study.Trials.Skip(study.HistoryCount), t => Assert.Contains(t.Id, study.Told));
    }

    [Fact]
    public void Plugin_Metadata_NamedDescribedWithValidDefaultedOptions()
    {
        var plugin = CreatePlugin();

        Assert.Matches("^[a-z][a-z0-9-]*$", plugin.Name);
        Assert.False(string.IsNullOrWhiteSpace(plugin.Description));
        Assert.Equal(plugin.Options.Count, plugin.Options.Select(o => o.Name).Distinct().Count());
        Assert.Empty(new SearchSpace(plugin.Options).Validate());
        Assert.All(plugin.Options, o => Assert.True(o.Default is { } d && o.Check(d) is null, $"option {o.Name} needs a valid default."));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_MixedSpace_EverySuggestionInSpace(int parallelism)
    {
        var study = Simulate(seed: 7, completionSeed: 1).Run(parallelism);

        AssertClean(study);
        Assert.NotEmpty(study.Trials);
        Assert.All(study.Trials, t => Assert.Null(Space.Check(t.Parameters)));
    }

    [Fact]
    public void Run_ConditionalParameter_PresentExactlyWhenActive()
    {
        var study = Simulate(seed: 11).Run();

        AssertClean(study);
        Assert.All(study.Trials, t => Assert.Equal(t.Parameters["optimizer"] == "sgd", t.Parameters.ContainsKey("momentum")));
        Assert.Contains(study.Trials, t => t.Parameters.ContainsKey("momentum"));
        Assert.Contains(study.Trials, t => !t.Parameters.ContainsKey("momentum"));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 1)]
    [InlineData(5, 3)]
    [InlineData(12, 4)]
    public void Run_MaxTrials_NeverExceededAndEndsWithDone(int maxTrials, int parallelism)
    {
        var study = Simulate(seed: 3, maxTrials: maxTrials, completionSeed: 2).Run(parallelism);

        AssertClean(study);
        Assert.InRange(study.NextCount, 1, maxTrials);
        Assert.InRange(study.Trials.Count, 1, maxTrials);
        Assert.IsType<StrategyDecision.Done>(study.Decisions[^1]);
    }

    [Fact]
    public void Ask_AfterDone_StaysDone()
    {
        var study = Simulate(seed: 5, maxTrials: 6).Run();

        Assert.IsType<StrategyDecision.Done>(study.Ask());
        Assert.IsType<StrategyDecision.Done>(CreateStrategy(5).Ask(study.View()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_SameSeed_SameSequence(int parallelism)
    {
        var first = Simulate(seed: 42, completionSeed: 9).Run(parallelism);
        var second = Simulate(seed: 42, completionSeed: 9).Run(parallelism);

        Assert.Equal(first.Trials.Select(StudySimulator.Describe), second.Trials.Select(StudySimulator.Describe));
    }

    [Fact]
    public void Run_DifferentSeed_DifferentSequence()
    {
        var first = Simulate(seed: 42).Run().Trials.Select(StudySimulator.Describe).ToList();
        var second = Simulate(seed: 43).Run().Trials.Select(StudySimulator.Describe).ToList();

        if (SeedMatters) Assert.NotEqual(first, second);
        else Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(17)]
    public void Restart_FreshInstanceGivenFirstTrials_ContinuesAsOriginal(int k)
    {
        var original = Simulate(seed: 21).Run();
        Assert.True(original.Trials.Count > k, $"the study ran only {original.Trials.Count} trials.");

        var restarted = new StudySimulator(CreateStrategy(21), Space, MaxTrials, Epochs, history: original.Trials.Take(k)).Run();

        AssertClean(restarted);
        Assert.Equal(original.Trials.Select(StudySimulator.Describe), restarted.Trials.Select(StudySimulator.Describe));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(13)]
    public void Restart_WithRunningTrialsInterrupted_FreshInstanceMatchesOriginal(int k)
    {
        // A restart while trials run: they become Interrupted, and a new instance sees only the history. It must
        // carry on exactly as the instance that saw everything (and was told of the interruptions) would.
        var before = Simulate(seed: 33, completionSeed: 4).Run(parallelism: 3, stopWhen: s => s.Trials.Count >= k);
        var kept = before.Fork(before.Strategy, completionSeed: 8);
        kept.InterruptRunning(tell: true);
        var fresh = before.Fork(CreateStrategy(33), completionSeed: 8);
        fresh.InterruptRunning(tell: false);

        kept.Run(parallelism: 3);
        fresh.Run(parallelism: 3);

        Assert.Empty(kept.Violations);
        Assert.Empty(fresh.Violations);
        Assert.True(fresh.IsFinished);
        Assert.Equal(kept.Trials.Select(StudySimulator.Describe), fresh.Trials.Select(StudySimulator.Describe));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Run_FailedPrunedAndInterruptedTrials_StaysInSpaceAndTerminates(int parallelism)
    {
        static TrialState Outcome(int n) => (n % 5) switch
        {
            1 => TrialState.Failed,
            2 => TrialState.Pruned,
            3 => TrialState.Interrupted,
            _ => TrialState.Completed,
        };

        var study = Simulate(seed: 13, completionSeed: 6, outcome: Outcome).Run(parallelism);

        AssertClean(study);
        Assert.All(study.Trials, t => Assert.Null(Space.Check(t.Parameters)));
        Assert.Contains(study.Trials, t => t.State == TrialState.Failed);
    }

    [Fact]
    public void Run_EveryTrialFails_StillTerminates()
    {
        var study = Simulate(seed: 17, outcome: _ => TrialState.Failed).Run(parallelism: 2);

        AssertClean(study);
        Assert.All(study.Trials, t => Assert.Null(Space.Check(t.Parameters)));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void Run_Parallel_WaitsOnlyWhileTrialsRun(int parallelism)
    {
        var study = Simulate(seed: 19, completionSeed: 3).Run(parallelism);

        // Violations include any Wait answered while nothing ran.
        AssertClean(study);
    }

    [Fact]
    public void Run_Maximize_InSpaceAndTerminates()
    {
        var study = Simulate(seed: 23, direction: ObjectiveDirection.Maximize, completionSeed: 5).Run(parallelism: 2);

        AssertClean(study);
        Assert.All(study.Trials, t => Assert.Null(Space.Check(t.Parameters)));
    }
}
