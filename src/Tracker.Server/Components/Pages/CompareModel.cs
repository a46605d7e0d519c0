using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// The data behind the compare page, built from the store for a chosen set of experiments: each one's best trial,
/// bars of macro-F1, per-class F1, overlaid learning curves, a parameter diff, and sensitivity figures. Pure logic
/// over the store, separate from the markup.
/// </summary>
public sealed class CompareModel
{
    /// <summary>One compared experiment and its best trial (null while none has completed).</summary>
    public sealed record Entry(Experiment Experiment, Trial? Best, EvaluationReport? Report, string Color)
    {
        /// <summary>A short label: the experiment's name.</summary>
        public string Label => Experiment.Spec.Name;
    }

    /// <summary>The compared experiments, in the order chosen.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>The sensitivity studies among the chosen experiments or started from them.</summary>
    public IReadOnlyList<(Experiment Study, IReadOnlyList<SensitivityPoint> Points, string Metric)> Studies { get; }

    private readonly IReadOnlyList<ChartSeries> learningCurves;

    private CompareModel(IReadOnlyList<Entry> entries, IReadOnlyList<(Experiment, IReadOnlyList<SensitivityPoint>, string)> studies,
        IReadOnlyList<ChartSeries> learningCurves) =>
        (Entries, Studies, this.learningCurves) = (entries, studies, learningCurves);

    /// <summary>Loads the model for <paramref name="experimentIds"/> (unknown ids are skipped).</summary>
    public static async Task<CompareModel> LoadAsync(TrackerStores stores, IReadOnlyList<string> experimentIds, CancellationToken cancellationToken = default)
    {
        var all = await stores.Experiments.ListExperimentsAsync(cancellationToken);
        var chosen = experimentIds.Select(id => all.FirstOrDefault(e => e.Id == id)).OfType<Experiment>().Distinct().ToList();
        var entries = new List<Entry>();
        var curves = new List<ChartSeries>();
        foreach (var e in chosen)
        {
            var bestId = (await stores.Trials.TallyTrialsAsync(e.Id, e.Spec.Objective.Direction, cancellationToken)).BestTrialId;
            var best = bestId is null ? null : await stores.Trials.GetTrialAsync(bestId, cancellationToken);
            var report = best is null ? null
                : await stores.Evaluations.GetLatestReportAsync(best.Id, "test", cancellationToken)
                  ?? await stores.Evaluations.GetLatestReportAsync(best.Id, "validation", cancellationToken);
            var entry = new Entry(e, best, report, ChartPalette.Color(entries.Count));
            entries.Add(entry);
            if (best is not null)
                curves.Add(new ChartSeries(entry.Label, (await ChartReads.SeriesAsync(stores.Metrics, best.Id, MetricNames.ValF1Macro, cancellationToken))
                    .Select(p => ((double)p.Step, p.Value)).ToList(), entry.Color));
        }

        var ids = chosen.Select(e => e.Id).ToHashSet();
        var studies = new List<(Experiment, IReadOnlyList<SensitivityPoint>, string)>();
        foreach (var e in all.Where(e => e.Spec.Sensitivity is { } s && (ids.Contains(e.Id) || ids.Contains(s.SourceExperimentId))).OrderBy(e => e.CreatedAt))
        {
            var trials = await stores.Trials.ListTrialsAsync(e.Id, cancellationToken);
            string metric = trials.Any(t => t.FinalMetrics.ContainsKey("test_f1_macro")) ? "test_f1_macro" : MetricNames.ValF1Macro;
            studies.Add((e, SensitivityStudy.Summarise(e.Spec.Sensitivity!, trials, metric), metric));
        }
        return new CompareModel(entries, studies, curves);
    }

    /// <summary>Best validation and test macro-F1 per experiment.</summary>
    public (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) BestF1Bars() =>
    (
        Entries.Select(e => e.Label).ToList(),
        [
            new BarSeries("validation macro-F1", Entries.Select(e => ExperimentComparison.MetricOf(e.Best, MetricNames.ValF1Macro)).ToList(), null, "#90caf9"),
            new BarSeries("test macro-F1", Entries.Select(e => ExperimentComparison.MetricOf(e.Best, ExperimentComparison.DefaultMetric)).ToList(), null, "#1e88e5"),
        ]
    );

    /// <summary>Per-class F1 of each experiment's best trial, over the union of class names.</summary>
    public (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) PerClassF1Bars()
    {
        var classes = Entries.Where(e => e.Report is not null).SelectMany(e => e.Report!.ClassNames).Distinct().ToList();
        var series = Entries.Where(e => e.Report is not null).Select(e => new BarSeries(e.Label,
            classes.Select(c => e.Report!.ClassNames.ToList().IndexOf(c) is var i and >= 0 ? e.Report.Scores.F1[i] : double.NaN).ToList(), null, e.Color)).ToList();
        return (classes, series);
    }

    /// <summary>Validation macro-F1 per epoch of each best trial.</summary>
    public IReadOnlyList<ChartSeries> LearningCurves() => learningCurves;

    /// <summary>Rows of the parameter diff: the experiments' model, strategy and data set, then their best trials' hyperparameters.</summary>
    public IReadOnlyList<DiffRow> ParameterDiff() =>
    [
        RunComparison.Row("model", Entries.Select(e => e.Experiment.Spec.Model)),
        RunComparison.Row("strategy", Entries.Select(e => e.Experiment.Spec.Strategy)),
        RunComparison.Row("dataset", Entries.Select(e => e.Experiment.Spec.Dataset.Name)),
        .. RunComparison.ParameterRows(Entries.Select(e => e.Best).ToList()),
    ];

    /// <summary>
    /// The reference study's figure: groups are the factors (×0.1, ×1, ×10 ...), one bar series per study (labelled by
    /// model), the mean over seeds with one standard deviation as error bar.
    /// </summary>
    public (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) SensitivityBars()
    {
        var factors = Studies.SelectMany(s => s.Points.Select(p => p.Factor)).Distinct().Order().ToList();
        var series = Studies.Select((s, i) => new BarSeries(
            $"{s.Study.Spec.Model} ({s.Study.Spec.Sensitivity!.Parameter})",
            factors.Select(f => s.Points.FirstOrDefault(p => p.Factor == f) is { Count: > 0 } p ? p.Mean : double.NaN).ToList(),
            factors.Select(f => s.Points.FirstOrDefault(p => p.Factor == f)?.StandardDeviation ?? double.NaN).ToList(),
            ChartPalette.Color(i))).ToList();
        return (factors.Select(f => "×" + f.ToString("G3", CultureInfo.InvariantCulture)).ToList(), series);
    }
}
