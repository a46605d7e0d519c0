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

    /// <summary>
    /// An experiment's trial counts by state and its best completed trial, computed in the store so that lists of
    /// experiments never load their trials. Deleted runs (a logging client's) do not count. The best trial is the
    /// completed one with the highest (<see cref="ObjectiveDirection.Maximize"/>) or lowest finite objective; among equals,
    /// the one with the lowest number, then the lowest id (ordinal).
    /// </summary>
    Task<TrialTally> TallyTrialsAsync(string experimentId, ObjectiveDirection direction, CancellationToken cancellationToken = default);

    /// <summary>The parameter and final-metric names that the trials matching <paramref name="query"/> have, on all its pages.</summary>
    Task<TrialFieldNames> TrialFieldsAsync(TrialQuery query, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ITrialStore.UpdateTrialAsync"/> writes: the new trial and metric points to append with it.</summary>
/// <param name="Trial">The trial to store.</param>
/// <param name="Points">Points appended in the same transaction. Defaults to none.</param>
public sealed record TrialWrite(Trial Trial, IReadOnlyCollection<MetricPoint>? Points = null);

/// <summary>What <see cref="ITrialStore.TallyTrialsAsync"/> returns: counts by state and the best completed trial.</summary>
/// <param name="ByState">How many trials are in each state that has any; deleted runs excluded.</param>
/// <param name="BestTrialId">The best completed trial, or <c>null</c> when none has a finite objective.</param>
/// <param name="BestObjective">Its objective, or <c>null</c>.</param>
public sealed record TrialTally(IReadOnlyDictionary<TrialState, int> ByState, string? BestTrialId, double? BestObjective)
{
    /// <summary>All trials counted.</summary>
    public int Total => ByState.Values.Sum();

    /// <summary>Tallies trials already in memory, by the rules of <see cref="ITrialStore.TallyTrialsAsync"/>.</summary>
    public static TrialTally Of(IEnumerable<Trial> trials, ObjectiveDirection direction)
    {
        var counted = trials.Where(t => t.LifecycleStage != Tracking.LifecycleStage.Deleted).ToList();
        var best = Best(counted, direction);
        return new TrialTally(counted.GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Count()), best?.Id, best?.Objective);
    }

    /// <summary>The best completed trial by the rules of <see cref="ITrialStore.TallyTrialsAsync"/>, or <c>null</c>.</summary>
    public static Trial? Best(IEnumerable<Trial> trials, ObjectiveDirection direction)
    {
        Trial? best = null;
        foreach (var t in trials)
        {
            if (t.State != TrialState.Completed || t.Objective is not { } v || !double.IsFinite(v)) continue;
            if (best is null) { best = t; continue; }
            var order = v.CompareTo(best.Objective!.Value) * (direction == ObjectiveDirection.Maximize ? -1 : 1);
            if (order == 0) order = t.Number != best.Number ? t.Number.CompareTo(best.Number) : string.CompareOrdinal(t.Id, best.Id);
            if (order < 0) best = t;
        }
        return best;
    }
}
