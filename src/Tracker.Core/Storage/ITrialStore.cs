using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// Where trials live, and the runs browser's queries over them (filtered, sorted and paged in the store).
/// Concurrency: trial numbers come from an atomic counter in the store; <see cref="UpdateTrialAsync"/> is an
/// atomic read-change-write of the stored record, so concurrent writers, in one process or several, never lose an update.
/// </summary>
public interface ITrialStore
{
    /// <summary>
    /// The next free trial number of an experiment, from 0: every call returns a different number, across processes.
    /// Numbers that a store held before the counter existed are never handed out again.
    /// </summary>
    Task<int> NextTrialNumberAsync(string experimentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts or replaces a trial, with <paramref name="points"/> (may be empty) appended in the same transaction,
    /// so a reader sees the points and the trial's latest values together. The tags and notes of a trial already
    /// stored are kept: only <see cref="UpdateTrialAnnotationsAsync"/> changes them.
    /// </summary>
    Task SaveTrialAsync(Trial trial, IReadOnlyCollection<MetricPoint>? points = null, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces many trials in batches, with the same rule for tags and notes as <see cref="SaveTrialAsync"/>.</summary>
    Task SaveTrialsAsync(IEnumerable<Trial> trials, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a trial, applies <paramref name="change"/> and writes the trial it returns together with its points, as one
    /// atomic step: no other writer, in this process or another, changes the trial in between. A backend may hold the
    /// record or read again and retry on a conflict, so <paramref name="change"/> may run more than once and must have no
    /// side effects beyond its own result. A <c>null</c> from <paramref name="change"/> writes nothing. Stored tags and notes are kept, as by <see cref="SaveTrialAsync"/>.
    /// Returns the trial as written (or as read, when nothing was written), or <c>null</c> when there is no such trial.
    /// </summary>
    Task<Trial?> UpdateTrialAsync(string id, Func<Trial, TrialWrite?> change, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a trial's tags and/or notes (a <c>null</c> argument leaves that field as it is) without touching anything
    /// else; returns the updated trial, or <c>null</c> when there is none. Tags are trimmed, empty ones dropped and
    /// duplicates (ignoring case) removed; empty notes become <c>null</c>.
    /// </summary>
    Task<Trial?> UpdateTrialAnnotationsAsync(string trialId, IReadOnlyList<string>? tags, string? notes, CancellationToken cancellationToken = default);

    /// <summary>Finds a trial, or <c>null</c>.</summary>
    Task<Trial?> GetTrialAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The trials of an experiment in number order.</summary>
    Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default);

    /// <summary>All trials in the given states (e.g. to find those a crash left running).</summary>
    Task<IReadOnlyList<Trial>> ListTrialsInStateAsync(IReadOnlyCollection<TrialState> states, CancellationToken cancellationToken = default);

    /// <summary>One page of the trials of all experiments, filtered, sorted and paged by the store.</summary>
    Task<TrialQueryResult> QueryTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every trial that <paramref name="query"/> matches, in its order, ignoring its paging; read lazily in chunks, so
    /// the caller can stream them out without holding the whole result.
    /// </summary>
    IAsyncEnumerable<TrialRow> ExportTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default);

    /// <summary>The parameter and final-metric names that the trials matching <paramref name="query"/> have, on all its pages.</summary>
    Task<TrialFieldNames> TrialFieldsAsync(TrialQuery query, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ITrialStore.UpdateTrialAsync"/> writes: the new trial and metric points to append with it.</summary>
/// <param name="Trial">The trial to store.</param>
/// <param name="Points">Points appended in the same transaction. Defaults to none.</param>
public sealed record TrialWrite(Trial Trial, IReadOnlyCollection<MetricPoint>? Points = null);
