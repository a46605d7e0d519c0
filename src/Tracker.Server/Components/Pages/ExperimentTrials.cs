using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// All of an experiment's trials as the experiment page's charts, analytics and brackets read them: each reduced to
/// the fields those use (number, state, budget, parameters, objective, the trial it continued), streamed from the
/// store in chunks, so a page on 5,000 trials holds a few MB and no trial's metrics, notes or logged fields. Epoch
/// values are kept for every unfinished trial and for at most <see cref="EpochTrials"/> finished ones (the best and
/// the last), which the objective chart shows.
/// </summary>
public sealed class ExperimentTrials
{
    /// <summary>How many finished trials keep their epoch values: half the best, half the last by number.</summary>
    public const int EpochTrials = 100;

    /// <summary>The most points one series of the objective chart carries.</summary>
    public const int MaxChartPoints = ChartReads.MaxChartPoints;

    private readonly ObjectiveDirection direction;
    private readonly List<Trial> items = [];
    private int kept; // finished trials that keep their epoch values, as of the last trim and the adds since

    /// <summary>An empty list for trials of an experiment with <paramref name="direction"/>.</summary>
    public ExperimentTrials(ObjectiveDirection direction) => this.direction = direction;

    /// <summary>The trials (deleted runs left out), reduced, in number order.</summary>
    public IReadOnlyList<Trial> Items => items;

    /// <summary>Reads every active trial of <paramref name="experimentId"/> in number order, reducing each as it comes.</summary>
    public static async Task<ExperimentTrials> LoadAsync(ITrialStore store, string experimentId, ObjectiveDirection direction,
        CancellationToken cancellationToken = default)
    {
        var result = new ExperimentTrials(direction);
        var query = new TrialQuery
        {
            ExperimentIds = [experimentId],
            SortBy = new TrialSortField(TrialSortKind.Number),
            Descending = false,
            Lifecycles = [LifecycleStage.Active],
        };
        await foreach (var row in store.ExportTrialsAsync(query, cancellationToken))
        {
            var reduced = Reduce(row.Trial);
            result.items.Add(reduced);
            if (reduced.IsFinished && reduced.Intermediate.Count > 0 && ++result.kept > EpochTrials + EpochTrials / 2) result.Trim();
        }
        result.Trim();
        return result;
    }

    /// <summary>
    /// Takes in a changed trial (as the feed reports it): replaces it, adds it in number order, or drops it when
    /// deleted. Returns whether the set of trials changed (one added or removed) rather than one of them.
    /// </summary>
    public bool Apply(Trial trial)
    {
        int i = items.FindLastIndex(t => t.Id == trial.Id);
        if (trial.LifecycleStage == LifecycleStage.Deleted)
        {
            if (i < 0) return false;
            items.RemoveAt(i);
            return true;
        }
        var reduced = Reduce(trial);
        if (i >= 0) items[i] = reduced;
        else items.Insert(items.FindLastIndex(t => t.Number <= trial.Number) + 1, reduced);
        if (reduced.IsFinished && reduced.Intermediate.Count > 0 && ++kept > EpochTrials + EpochTrials / 2) Trim();
        return i < 0;
    }

    /// <summary>The best completed trial (as <see cref="TrialTally.Best"/> picks it), reduced; or <c>null</c>.</summary>
    public Trial? Best => TrialTally.Best(items, direction);

    /// <summary>Drops the epoch values of finished trials that are neither among the best nor among the last.</summary>
    private void Trim()
    {
        var finished = items.Where(t => t.IsFinished && t.Intermediate.Count > 0).ToList();
        kept = finished.Count;
        if (finished.Count <= EpochTrials) return;
        kept = EpochTrials;
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in finished.Where(t => t.Objective is { } v && double.IsFinite(v))
                     .OrderBy(t => direction == ObjectiveDirection.Maximize ? -t.Objective!.Value : t.Objective!.Value).ThenBy(t => t.Number)
                     .Take(EpochTrials / 2))
            keep.Add(t.Id);
        foreach (var t in finished.OrderByDescending(t => t.Number).Where(t => !keep.Contains(t.Id)).Take(EpochTrials - keep.Count))
            keep.Add(t.Id);
        for (int i = 0; i < items.Count; i++)
            if (items[i].IsFinished && items[i].Intermediate.Count > 0 && !keep.Contains(items[i].Id))
                items[i] = items[i] with { Intermediate = [] };
    }

    /// <summary>The fields the page's charts, analytics, brackets and overlay read (<see cref="Trim"/> drops most finished trials' epochs).</summary>
    private static Trial Reduce(Trial t) => new()
    {
        Id = t.Id,
        ExperimentId = t.ExperimentId,
        Number = t.Number,
        Parameters = t.Parameters,
        State = t.State,
        Epochs = t.Epochs,
        EpochsDone = t.EpochsDone,
        Intermediate = t.Intermediate,
        Objective = t.Objective,
        ResumedFrom = t.ResumedFrom,
        LifecycleStage = t.LifecycleStage,
        CreatedAt = t.CreatedAt,
        // The name alone of a logged run's tags: its line in the metric overlay is labelled by it.
        RunTags = RunRegistry.RunNameOf(t) is { Length: > 0 } name ? new() { [RunRegistry.RunNameTag] = name } : [],
    };

    /// <summary>
    /// The objective against the trial number, as in the table: each trial's result, the epochs of the trials that
    /// keep them as faint points leading up to their trial from the left (so the chart grows with every epoch), and the
    /// best-so-far line. Each series carries at most <see cref="MaxChartPoints"/> points: beyond that the results keep
    /// the best and the last trials and an even sample of the rest, the best-so-far line keeps the trials where the best
    /// changed, and the epochs are taken from the best and the last trials first.
    /// </summary>
    public static IReadOnlyList<ChartSeries> ObjectiveSeries(ObjectiveDirection direction, IReadOnlyList<Trial> trials, int maxPoints = MaxChartPoints)
    {
        const double lead = 0.4; // how far left of its trial the first epoch sits: inside the trial's own half-unit
        var finished = trials.Where(t => t.Objective is not null).ToList();

        var finals = Sample(finished, direction, maxPoints).Select(t => (X: (double)t.Number, Y: t.Objective!.Value)).ToList();

        var bestSoFar = new List<(double X, double Y)>();
        var changes = new List<int>(); // indices into bestSoFar where the best changed
        double? best = null;
        foreach (var t in finished.OrderBy(t => t.Number))
        {
            double y = t.Objective!.Value;
            if (!double.IsFinite(y)) continue;
            double next = best is null ? y : direction == ObjectiveDirection.Maximize ? Math.Max(best.Value, y) : Math.Min(best.Value, y);
            if (best is null || next != best.Value) changes.Add(bestSoFar.Count);
            best = next;
            bestSoFar.Add((t.Number, next));
        }
        if (bestSoFar.Count > maxPoints)
        {
            // A step line: its vertices where it changes (and the last) draw it exactly; evenly thinned if even those are too many.
            var keep = changes.Append(bestSoFar.Count - 1).Distinct().ToList();
            if (keep.Count > maxPoints)
                keep = Enumerable.Range(0, maxPoints).Select(k => keep[(int)Math.Round(k * (keep.Count - 1.0) / (maxPoints - 1))]).Distinct().ToList();
            bestSoFar = keep.Select(i => bestSoFar[i]).ToList();
        }

        var epochs = new List<(double X, double Y)>();
        foreach (var t in EpochOrder(trials, direction))
        {
            var values = t.Intermediate.Where(v => v.Step < t.Epochs || t.Objective is null).ToList();
            if (epochs.Count + values.Count > maxPoints) values = values.Take(Math.Max(0, maxPoints - epochs.Count)).ToList();
            epochs.AddRange(values.Select(v => (X: t.Number - lead * (1 - (double)v.Step / Math.Max(1, t.Epochs)), Y: v.Value)));
            if (epochs.Count >= maxPoints) break;
        }
        epochs.Sort((a, b) => a.X.CompareTo(b.X));

        return
        [
            new ChartSeries("best so far", bestSoFar, "#43a047", Markers: false, Step: true),
            new ChartSeries("epochs", epochs, "#90a4ae", Line: false),
            new ChartSeries("trial result", finals, "#1e88e5", Line: false),
        ];
    }

    /// <summary>
    /// At most <paramref name="max"/> of <paramref name="trials"/> (number order in, number order out): all when they
    /// fit, else the best tenth, the last two fifths and an even sample of the others.
    /// </summary>
    public static IReadOnlyList<Trial> Sample(IReadOnlyList<Trial> trials, ObjectiveDirection direction, int max)
    {
        if (trials.Count <= max) return trials;
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in trials.Where(t => t.Objective is { } v && double.IsFinite(v))
                     .OrderBy(t => direction == ObjectiveDirection.Maximize ? -t.Objective!.Value : t.Objective!.Value).ThenBy(t => t.Number)
                     .Take(max / 10))
            keep.Add(t.Id);
        foreach (var t in trials.OrderByDescending(t => t.Number).Take(2 * max / 5)) keep.Add(t.Id);
        var rest = trials.Where(t => !keep.Contains(t.Id)).ToList();
        int room = max - keep.Count;
        if (room > 0 && rest.Count > 0)
            foreach (int k in Enumerable.Range(0, room))
                keep.Add(rest[(int)((long)k * rest.Count / room)].Id);
        return trials.Where(t => keep.Contains(t.Id)).ToList();
    }

    /// <summary>The trials whose epochs the chart shows, in priority order: the unfinished, then the best, then the last.</summary>
    private static IEnumerable<Trial> EpochOrder(IReadOnlyList<Trial> trials, ObjectiveDirection direction)
    {
        var withEpochs = trials.Where(t => t.Intermediate.Count > 0).ToList();
        return withEpochs.Where(t => !t.IsFinished).OrderByDescending(t => t.Number)
            .Concat(withEpochs.Where(t => t.IsFinished && t.Objective is { } v && double.IsFinite(v))
                .OrderBy(t => direction == ObjectiveDirection.Maximize ? -t.Objective!.Value : t.Objective!.Value).ThenBy(t => t.Number))
            .Concat(withEpochs.Where(t => t.IsFinished).OrderByDescending(t => t.Number))
            .DistinctBy(t => t.Id);
    }
}
