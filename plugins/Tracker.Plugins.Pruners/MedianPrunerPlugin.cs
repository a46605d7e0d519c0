using Tracker.Abstractions;

namespace Tracker.Plugins.Pruners;

/// <summary>
/// The median stopping rule (Golovin et al., Google Vizier, 2017), as Optuna's <c>MedianPruner</c>: at step t a trial
/// is pruned when its best value so far is worse than the median of the values that the other completed trials
/// reported at step t. Options: <c>warmup_steps</c> (default 1: never prune at steps t ≤ warmup_steps) and
/// <c>min_trials</c> (default 5: prune only once this many other trials have completed).
/// </summary>
/// <remarks>
/// As in Optuna, only <see cref="TrialState.Completed"/> trials form the median (pruned trials would drag it towards
/// the bad end), only their value at exactly step t counts, and no pruning happens at a step none of them reached.
/// A non-finite reported value is pruned. Stateless: decides from <see cref="StudyView.Trials"/> alone.
/// </remarks>
public sealed class MedianPrunerPlugin : IPrunerPlugin
{
    /// <summary>The option: steps t ≤ warmup_steps are never pruned. Defaults to 1.</summary>
    public const string WarmupSteps = "warmup_steps";

    /// <summary>The option: the number of completed trials needed before anything is pruned. Defaults to 5.</summary>
    public const string MinTrials = "min_trials";

    /// <inheritdoc />
    public string Name => "median";

    /// <inheritdoc />
    public string Description =>
        "Median stopping rule (as Optuna's MedianPruner): stops a trial whose best value so far is worse than the median " +
        "of the completed trials' values at the same epoch, after warmup_steps epochs and min_trials completed trials.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = WarmupSteps, Low = 0, High = 10_000, Default = 1,
            Description = "Never prune at or before this step (epoch).",
        },
        new IntParameter
        {
            Name = MinTrials, Low = 0, High = 10_000, Default = 5,
            Description = "Completed trials needed before anything is pruned.",
        },
    ];

    /// <inheritdoc />
    public IPruner Create(PrunerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new MedianPruner(
            PrunerSupport.Int(context.Options, WarmupSteps, 1, min: 0),
            PrunerSupport.Int(context.Options, MinTrials, 5, min: 0));
    }
}

/// <summary>The median stopping rule; see <see cref="MedianPrunerPlugin"/>.</summary>
/// <param name="warmupSteps">Steps t ≤ this are never pruned.</param>
/// <param name="minTrials">Completed trials needed before pruning.</param>
public sealed class MedianPruner(int warmupSteps, int minTrials) : IPruner
{
    /// <inheritdoc />
    public PruneDecision OnReport(StudyView study, TrialRecord trial, IntermediateValue value)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(trial);
        if (value.Step <= warmupSteps) return PruneDecision.Continue;
        if (!double.IsFinite(value.Value)) return PruneDecision.Prune;

        var completed = study.Trials.Where(t => t.State == TrialState.Completed && t.Id != trial.Id).ToList();
        if (completed.Count < minTrials) return PruneDecision.Continue;
        var atStep = completed.Select(t => PrunerSupport.ValueAt(t, value.Step)).OfType<double>().ToList();
        if (atStep.Count == 0) return PruneDecision.Continue;

        double median = Median(atStep);
        bool minimize = study.Direction == ObjectiveDirection.Minimize;
        double best = trial.Intermediate.Where(v => v.Step <= value.Step && double.IsFinite(v.Value)).Select(v => v.Value)
            .Append(value.Value)
            .Aggregate((a, b) => minimize ? Math.Min(a, b) : Math.Max(a, b));
        bool worse = minimize ? best > median : best < median;
        return worse ? PruneDecision.Prune : PruneDecision.Continue;
    }

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("the median of no values is undefined.", nameof(values));
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
