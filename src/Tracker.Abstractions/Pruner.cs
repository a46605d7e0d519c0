namespace Tracker.Abstractions;

/// <summary>A pruner's verdict on a running trial.</summary>
public enum PruneDecision
{
    /// <summary>Let the trial go on.</summary>
    Continue,

    /// <summary>Stop the trial now; it ends <see cref="TrialState.Pruned"/> with its last value as objective.</summary>
    Prune,
}

/// <summary>Everything a pruner plugin needs to create a pruner for one experiment.</summary>
/// <param name="Seed">The experiment's seed.</param>
/// <param name="Options">The pruner's options from the spec, validated and defaulted.</param>
public sealed record PrunerContext(int Seed, IReadOnlyDictionary<string, ParameterValue> Options);

/// <summary>
/// Early stopping, combinable with any search strategy: after each reported step of a running trial, decides whether
/// to stop it. Restart-safe like strategies: it decides from <see cref="StudyView.Trials"/> (whose intermediate values
/// include every finished step of every trial), so it keeps no state of its own. Called from one thread at a time.
/// </summary>
public interface IPruner
{
    /// <summary>
    /// Judges <paramref name="trial"/> after it reported <paramref name="value"/>. The trial as given already contains
    /// that value as the last of its <see cref="TrialRecord.Intermediate"/> values.
    /// </summary>
    PruneDecision OnReport(StudyView study, TrialRecord trial, IntermediateValue value);
}

/// <summary>A pruner plugin: a factory of <see cref="IPruner"/> per experiment. Public parameterless constructor; stateless.</summary>
public interface IPrunerPlugin
{
    /// <summary>A unique, stable id used in experiment specs, e.g. <c>asha</c>.</summary>
    string Name { get; }

    /// <summary>A one-paragraph description for the dashboard.</summary>
    string Description { get; }

    /// <summary>The pruner's options, each with a default.</summary>
    IReadOnlyList<ParameterSpec> Options { get; }

    /// <summary>Creates the pruner for one experiment.</summary>
    IPruner Create(PrunerContext context);
}
