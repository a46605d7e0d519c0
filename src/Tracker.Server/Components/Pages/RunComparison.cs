using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>One row of a side-by-side table: a name, one value per compared column, and whether the values differ.</summary>
public sealed record DiffRow(string Name, IReadOnlyList<string> Values, bool Differs);

/// <summary>
/// The data behind the run comparison page: chosen trials of any experiments side by side, their hyperparameters and
/// final metrics as rows (differences marked), and any metric's curves overlaid. Pure logic over the store.
/// </summary>
public sealed class RunComparison
{
    /// <summary>The most runs one comparison shows; more would make neither the table nor the chart readable.</summary>
    public const int MaxRuns = 20;

    /// <summary>A compared run, with its experiment's name and its colour in the chart.</summary>
    public sealed record Run(Trial Trial, string ExperimentName, string Color)
    {
        /// <summary>How the run is named in the chart's legend and the table's header.</summary>
        public string Label => $"{ExperimentName} #{Trial.Number}";
    }

    private readonly IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> metrics; // by trial id

    private RunComparison(IReadOnlyList<Run> runs, IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> metrics) =>
        (Runs, this.metrics, MetricKeys) = (runs, metrics, metrics.Values.SelectMany(points => points.Select(p => p.Key)).Distinct().Order(StringComparer.Ordinal).ToList());

    /// <summary>The compared runs, in the order chosen.</summary>
    public IReadOnlyList<Run> Runs { get; }

    /// <summary>Every metric that one of the runs has a series of, in name order.</summary>
    public IReadOnlyList<string> MetricKeys { get; }

    /// <summary>The metric whose curves the page shows first: validation macro-F1 where the runs have it.</summary>
    public string DefaultMetric => MetricKeys.Contains(MetricNames.ValF1Macro) ? MetricNames.ValF1Macro : MetricKeys.FirstOrDefault() ?? MetricNames.ValF1Macro;

    /// <summary>Loads the runs <paramref name="trialIds"/> (unknown and repeated ids skipped, at most <see cref="MaxRuns"/>) and their series.</summary>
    public static async Task<RunComparison> LoadAsync(TrackerStores stores, IReadOnlyList<string> trialIds, CancellationToken cancellationToken = default)
    {
        var trials = new List<Trial>();
        foreach (var id in trialIds.Distinct())
        {
            if (trials.Count == MaxRuns) break;
            if (await stores.Trials.GetTrialAsync(id, cancellationToken) is { } trial) trials.Add(trial);
        }
        var names = new Dictionary<string, string>();
        foreach (var experimentId in trials.Select(t => t.ExperimentId).Distinct())
            names[experimentId] = (await stores.Experiments.GetExperimentAsync(experimentId, cancellationToken))?.Spec.Name ?? experimentId;
        var runs = trials.Select((t, i) => new Run(t, names[t.ExperimentId], ChartPalette.Color(i))).ToList();
        var series = new Dictionary<string, IReadOnlyList<MetricPoint>>();
        foreach (var trial in trials) series[trial.Id] = await ChartReads.AllSeriesAsync(stores.Metrics, trial.Id, cancellationToken);
        return new RunComparison(runs, series);
    }

    /// <summary>Each run's series of <paramref name="key"/> against the step, one line per run in its colour.</summary>
    public IReadOnlyList<ChartSeries> Curves(string key) =>
        Runs.Select(r => new ChartSeries(r.Label, metrics[r.Trial.Id].Where(p => p.Key == key).Select(p => ((double)p.Step, p.Value)).ToList(), r.Color))
            .ToList();

    /// <summary>The hyperparameters, searched and fixed, of every run.</summary>
    public IReadOnlyList<DiffRow> Parameters() => ParameterRows(Runs.Select(r => (Trial?)r.Trial).ToList());

    /// <summary>The final value of every metric, and the objective and state.</summary>
    public IReadOnlyList<DiffRow> Results()
    {
        var rows = new List<DiffRow> { Row("state", Runs.Select(r => r.Trial.State.ToString())), Row("objective", Runs.Select(r => Format.Metric(r.Trial.Objective))) };
        var keys = Runs.SelectMany(r => r.Trial.FinalMetrics.Keys).Distinct().Order(StringComparer.Ordinal);
        rows.AddRange(keys.Select(k => Row(k, Runs.Select(r => Format.Metric(r.Trial.FinalMetrics.TryGetValue(k, out var v) ? v : null)))));
        return rows;
    }

    /// <summary>
    /// The hyperparameter rows of a side-by-side table of <paramref name="trials"/> (a missing trial shows dashes):
    /// the union of their resolved and searched parameters, in name order.
    /// </summary>
    public static IReadOnlyList<DiffRow> ParameterRows(IReadOnlyList<Trial?> trials)
    {
        var names = trials.OfType<Trial>().SelectMany(t => t.ResolvedParameters.Keys.Concat(t.Parameters.Keys)).Distinct().Order(StringComparer.Ordinal);
        return names.Select(n => Row(n, trials.Select(t => t is null ? "–"
            : t.ResolvedParameters.TryGetValue(n, out var v) || t.Parameters.TryGetValue(n, out v) ? Format.Value(v) : "–"))).ToList();
    }

    /// <summary>A row whose values differ when they are not all the same.</summary>
    public static DiffRow Row(string name, IEnumerable<string> values)
    {
        var list = values.ToList();
        return new DiffRow(name, list, list.Distinct().Count() > 1);
    }
}
