using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// Where experiments live. Concurrency: each call is atomic on its own; a save replaces the whole record, so two
/// writers of one experiment must not interleave read-change-save (experiments are changed by one coordinator, or
/// through <see cref="UpdateExperimentAsync"/>). Names of logged experiments (<see cref="TrialExecution.Logged"/>) are
/// unique among logged experiments, deleted ones included: a save or update that would break that throws
/// <see cref="ExperimentNameTakenException"/> and writes nothing, whichever process the other experiment came from.
/// </summary>
public interface IExperimentStore
{
    /// <summary>Inserts or replaces an experiment; durable when the task completes.</summary>
    Task SaveExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads an experiment, applies <paramref name="change"/> and writes the result as one atomic step: no other writer,
    /// in this process or another, changes the experiment in between. A backend may hold the record or read again and
    /// retry on a conflict, so <paramref name="change"/> may run more than once and must have no side effects. A <c>null</c> from <paramref name="change"/> writes nothing. Returns what was
    /// written (or the unchanged experiment when nothing was), or <c>null</c> when there is no such experiment.
    /// </summary>
    Task<Experiment?> UpdateExperimentAsync(string id, Func<Experiment, Experiment?> change, CancellationToken cancellationToken = default);

    /// <summary>Finds an experiment, or <c>null</c>.</summary>
    Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>All experiments, newest first.</summary>
    Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes an experiment for good, with everything of its trials: the trials, their metric series, classification
    /// reports, predictions and sample images, the records of their files and the files themselves (their folders
    /// under the store's artifact folder), and the experiment's trial counter. The records go in one atomic step, which
    /// readers see whole or not at all; the files follow. Files elsewhere (an experiment's own artifact location) are
    /// its logging client's and are left alone. Returns what was deleted, or <c>null</c> when there is no such
    /// experiment. The caller makes sure that nothing writes to the experiment any more (see
    /// <c>ExperimentService.DeleteAsync</c>): a trial written after the deletion would be stored on its own.
    /// </summary>
    Task<DeletedExperiment?> DeleteExperimentAsync(string id, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="IExperimentStore.DeleteExperimentAsync"/> deleted.</summary>
/// <param name="Experiment">The experiment as it was stored.</param>
/// <param name="TrialIds">Its trials.</param>
/// <param name="FoldersLeft">
/// Trials' file folders that could not be removed (e.g. a file held open elsewhere); their records are gone all the same.
/// </param>
public sealed record DeletedExperiment(Experiment Experiment, IReadOnlyList<string> TrialIds, IReadOnlyList<string> FoldersLeft);
