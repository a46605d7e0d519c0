namespace Tracker.Abstractions;

/// <summary>Whether the objective metric is to be maximised or minimised.</summary>
public enum ObjectiveDirection
{
    /// <summary>Larger is better (e.g. F1).</summary>
    Maximize,

    /// <summary>Smaller is better (e.g. loss).</summary>
    Minimize,
}

/// <summary>The life-cycle state of a trial.</summary>
public enum TrialState
{
    /// <summary>Asked for, not started.</summary>
    Queued,

    /// <summary>Training now.</summary>
    Running,

    /// <summary>Finished all its epochs; has final metrics.</summary>
    Completed,

    /// <summary>Stopped early by a pruner.</summary>
    Pruned,

    /// <summary>Threw, or produced a non-finite loss; <see cref="TrialRecord.Error"/> says why.</summary>
    Failed,

    /// <summary>Cancelled by a user, or cut off by a server shutdown.</summary>
    Interrupted,
}

/// <summary>One value of the objective reported during a trial (after an epoch).</summary>
/// <param name="Step">The step, counted from 1 (an epoch number for built-in trials).</param>
/// <param name="Value">The objective's value at that step.</param>
public readonly record struct IntermediateValue(int Step, double Value);

/// <summary>An immutable snapshot of one trial, as strategies see it.</summary>
public sealed record TrialRecord
{
    /// <summary>The trial's unique id.</summary>
    public required string Id { get; init; }

    /// <summary>The trial's number within its experiment, counted from 0 in the order trials were asked for.</summary>
    public required int Number { get; init; }

    /// <summary>The parameters it was given (only active ones).</summary>
    public required IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; }

    /// <summary>Its state.</summary>
    public required TrialState State { get; init; }

    /// <summary>The epoch budget it was given.</summary>
    public required int Epochs { get; init; }

    /// <summary>The objective after each finished step, in order; empty before the first.</summary>
    public IReadOnlyList<IntermediateValue> Intermediate { get; init; } = [];

    /// <summary>The final objective value; <c>null</c> unless <see cref="State"/> is Completed (or Pruned with a last value).</summary>
    public double? Objective { get; init; }

    /// <summary>The id of the trial whose checkpoint this one continued from, or <c>null</c>.</summary>
    public string? ResumedFrom { get; init; }

    /// <summary>Why it failed, or <c>null</c>.</summary>
    public string? Error { get; init; }
}

/// <summary>The read-only view of an experiment that a strategy decides from.</summary>
public sealed record StudyView
{
    /// <summary>The space to search.</summary>
    public required SearchSpace Space { get; init; }

    /// <summary>Every trial asked for so far, in number order. Guarantee: only ever grows between calls.</summary>
    public required IReadOnlyList<TrialRecord> Trials { get; init; }

    /// <summary>The direction of the objective.</summary>
    public required ObjectiveDirection Direction { get; init; }

    /// <summary>The most trials the experiment may run in total.</summary>
    public required int MaxTrials { get; init; }

    /// <summary>The epoch budget of a full trial.</summary>
    public required int Epochs { get; init; }
}

/// <summary>What the coordinator should run next.</summary>
/// <param name="Parameters">A point of the search space (the coordinator rejects points outside it).</param>
/// <param name="Epochs">The epoch budget; positive.</param>
/// <param name="ResumeFrom">The id of a finished trial whose checkpoint to continue from, or <c>null</c> to start fresh.</param>
public sealed record TrialRequest(IReadOnlyDictionary<string, ParameterValue> Parameters, int Epochs, string? ResumeFrom = null);

/// <summary>A strategy's answer to <see cref="ISearchStrategy.Ask"/>: run this, wait, or done.</summary>
public abstract record StrategyDecision
{
    private StrategyDecision() { }

    /// <summary>Run a trial with these parameters.</summary>
    /// <param name="Request">The trial to run.</param>
    public sealed record Next(TrialRequest Request) : StrategyDecision;

    /// <summary>Nothing to suggest until a running trial finishes (e.g. a rung is incomplete).</summary>
    public sealed record Wait : StrategyDecision;

    /// <summary>The search is over.</summary>
    /// <param name="Reason">Why, for the log and dashboard.</param>
    public sealed record Done(string Reason) : StrategyDecision;
}

/// <summary>Everything a strategy plugin needs to create a strategy for one experiment.</summary>
/// <param name="Space">The search space.</param>
/// <param name="Seed">The experiment's seed; the same seed and history must give the same suggestions.</param>
/// <param name="Options">The strategy's options from the spec, validated against <see cref="ISearchStrategyPlugin.Options"/> and defaulted.</param>
public sealed record StrategyContext(SearchSpace Space, int Seed, IReadOnlyDictionary<string, ParameterValue> Options);

/// <summary>
/// An ask/tell search strategy for one experiment. Restart-safe: it must be able to rebuild all its state from
/// <see cref="StudyView.Trials"/>, so a new instance given the same history answers the same. Called from one
/// thread at a time.
/// </summary>
public interface ISearchStrategy
{
    /// <summary>Decides the next trial. Expected outcomes (wait, done) are values, never exceptions.</summary>
    StrategyDecision Ask(StudyView study);

    /// <summary>Informs the strategy that <paramref name="trial"/> reached a final state.</summary>
    void Tell(StudyView study, TrialRecord trial);
}

/// <summary>
/// A search-strategy plugin: a factory of <see cref="ISearchStrategy"/> per experiment. Needs a public parameterless
/// constructor; must be stateless.
/// </summary>
public interface ISearchStrategyPlugin
{
    /// <summary>A unique, stable id used in experiment specs, e.g. <c>random</c>.</summary>
    string Name { get; }

    /// <summary>A one-paragraph description for the dashboard.</summary>
    string Description { get; }

    /// <summary>The strategy's options, each with a default (e.g. Hyperband's η).</summary>
    IReadOnlyList<ParameterSpec> Options { get; }

    /// <summary>Creates the strategy for one experiment.</summary>
    ISearchStrategy Create(StrategyContext context);
}
