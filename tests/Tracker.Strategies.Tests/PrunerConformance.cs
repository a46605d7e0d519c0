namespace Tracker.Strategies.Tests;

/// <summary>Builds trial histories for pruner tests.</summary>
public static class Histories
{
    /// <summary>A trial with one value per step from 1, in the given state.</summary>
    public static TrialRecord Trial(int number, TrialState state, params double[] values) => new()
    {
        Id = $"t{number}",
        Number = number,
        Parameters = new Dictionary<string, ParameterValue>(),
        State = state,
        Epochs = Math.Max(1, values.Length),
        Intermediate = values.Select((v, i) => new IntermediateValue(i + 1, v)).ToList(),
        Objective = state is TrialState.Completed or TrialState.Pruned && values.Length > 0 ? values[^1] : null,
    };

    /// <summary>A study of these trials.</summary>
    public static StudyView Study(ObjectiveDirection direction, params TrialRecord[] trials) => new()
    {
        Space = SearchSpace.Empty,
        Trials = trials,
        Direction = direction,
        MaxTrials = 1000,
        Epochs = 30,
    };

    /// <summary>Asks <paramref name="pruner"/> about the last value of <paramref name="trial"/>, which is added to the study as running.</summary>
    public static PruneDecision Judge(IPruner pruner, ObjectiveDirection direction, IEnumerable<TrialRecord> others, TrialRecord trial) =>
        pruner.OnReport(Study(direction, [.. others, trial]), trial, trial.Intermediate[^1]);
}

/// <summary>
/// The contract every <see cref="IPrunerPlugin"/> must keep. A pruner's test class inherits this and overrides
/// <see cref="CreatePlugin"/> (and <see cref="Options"/>).
/// </summary>
public abstract class PrunerConformanceTests
{
    /// <summary>Creates the plugin under test.</summary>
    protected abstract IPrunerPlugin CreatePlugin();

    /// <summary>Options on top of the declared defaults. Defaults to none.</summary>
    protected virtual IReadOnlyDictionary<string, ParameterValue> Options { get; } = new Dictionary<string, ParameterValue>();

    /// <summary>Creates a pruner as the coordinator does: declared defaults, overridden by <see cref="Options"/>.</summary>
    protected IPruner CreatePruner(int seed = 1)
    {
        var plugin = CreatePlugin();
        var options = plugin.Options.Where(o => o.Default is not null).ToDictionary(o => o.Name, o => o.Default!.Value);
        foreach (var (k, v) in Options) options[k] = v;
        return plugin.Create(new PrunerContext(seed, options));
    }

    /// <summary>20 completed trials of 12 steps with seeded noisy learning curves, and a few unfinished ones.</summary>
    protected static List<TrialRecord> History(ObjectiveDirection direction, int seed = 3)
    {
        var random = new Random(seed);
        double sign = direction == ObjectiveDirection.Minimize ? 1 : -1;
        var trials = Enumerable.Range(0, 20).Select(n =>
        {
            double level = random.NextDouble();
            return Histories.Trial(n, TrialState.Completed, Enumerable.Range(1, 12).Select(e => sign * (level + 1.0 / e + 0.05 * random.NextDouble())).ToArray());
        }).ToList();
        trials.Add(Histories.Trial(20, TrialState.Failed));
        trials.Add(Histories.Trial(21, TrialState.Running, sign * 0.5, sign * 0.4));
        trials.Add(Histories.Trial(22, TrialState.Interrupted, sign * 0.9));
        trials.Add(Histories.Trial(23, TrialState.Pruned, sign * 2, sign * 2, sign * 2));
        return trials;
    }

    private static TrialRecord Curve(int number, ObjectiveDirection direction, double level, int steps) =>
        Histories.Trial(number, TrialState.Running, Enumerable.Range(1, steps)
            .Select(e => (direction == ObjectiveDirection.Minimize ? 1 : -1) * (level + 1.0 / e)).ToArray());

    [Fact]
    public void Plugin_Metadata_NamedDescribedWithValidDefaultedOptions()
    {
        var plugin = CreatePlugin();

        Assert.Matches("^[a-z][a-z0-9-]*$", plugin.Name);
        Assert.False(string.IsNullOrWhiteSpace(plugin.Description));
        Assert.Empty(new SearchSpace(plugin.Options).Validate());
        Assert.All(plugin.Options, o => Assert.True(o.Default is { } d && o.Check(d) is null, $"option {o.Name} needs a valid default."));
    }

    [Theory]
    [InlineData(ObjectiveDirection.Minimize)]
    [InlineData(ObjectiveDirection.Maximize)]
    public void OnReport_FirstTrial_NeverPruned(ObjectiveDirection direction)
    {
        var pruner = CreatePruner();

        for (int steps = 1; steps <= 30; steps++)
            Assert.Equal(PruneDecision.Continue, Histories.Judge(pruner, direction, [], Curve(0, direction, 5, steps)));
    }

    [Theory]
    [InlineData(ObjectiveDirection.Minimize)]
    [InlineData(ObjectiveDirection.Maximize)]
    public void OnReport_BestTrial_NeverPruned(ObjectiveDirection direction)
    {
        var pruner = CreatePruner();
        var history = History(direction);

        for (int steps = 1; steps <= 12; steps++)
            Assert.Equal(PruneDecision.Continue, Histories.Judge(pruner, direction, history, Curve(99, direction, -1, steps)));
    }

    [Theory]
    [InlineData(ObjectiveDirection.Minimize)]
    [InlineData(ObjectiveDirection.Maximize)]
    public void OnReport_WorstTrial_PrunedWithinItsFirstEpochs(ObjectiveDirection direction)
    {
        var pruner = CreatePruner();
        var history = History(direction);

        var verdicts = Enumerable.Range(1, 9).Select(steps => Histories.Judge(pruner, direction, history, Curve(99, direction, 10, steps)));

        Assert.Contains(PruneDecision.Prune, verdicts);
    }

    [Fact]
    public void OnReport_SameHistory_FreshInstanceGivesSameVerdicts()
    {
        var history = History(ObjectiveDirection.Minimize);
        var first = CreatePruner();
        var trials = Enumerable.Range(0, 12).Select(i => Curve(99, ObjectiveDirection.Minimize, i / 10.0, 1 + i % 12)).ToList();

        var verdicts = trials.Select(t => Histories.Judge(first, ObjectiveDirection.Minimize, history, t)).ToList();
        var again = trials.Select(t => Histories.Judge(first, ObjectiveDirection.Minimize, history, t)).ToList();
        var fresh = trials.Select(t => Histories.Judge(CreatePruner(), ObjectiveDirection.Minimize, history, t)).ToList();

        Assert.Equal(verdicts, again);
        Assert.Equal(verdicts, fresh);
    }

    [Fact]
    public void OnReport_TrialsWithoutValues_NoException()
    {
        var pruner = CreatePruner();
        TrialRecord[] others = [Histories.Trial(0, TrialState.Failed), Histories.Trial(1, TrialState.Running), Histories.Trial(2, TrialState.Completed), Histories.Trial(3, TrialState.Interrupted)];

        var verdict = Histories.Judge(pruner, ObjectiveDirection.Minimize, others, Curve(9, ObjectiveDirection.Minimize, 1, 3));

        Assert.True(Enum.IsDefined(verdict));
    }
}
