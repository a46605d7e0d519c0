using Microsoft.AspNetCore.Components;
using Tracker.Abstractions;
using ParameterValue = Tracker.Abstractions.ParameterValue;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>An experiment: its trials, the objective by trial (live), the best trial, cancel.</summary>
public partial class ExperimentPage : LiveComponentBase
{
    /// <summary>The experiment id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    [Inject] private IRunStore Store { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    private Experiment? experiment;
    private List<Trial> trials = [];

    private Trial? Best => experiment is null ? null : ExperimentSummary.Best(experiment.Spec.Objective.Direction, trials);

    /// <summary>
    /// The objective against the trial number, as in the table: each trial's result, its earlier epochs as faint points
    /// leading up to it from the left (so the chart grows with every epoch), and the best-so-far line.
    /// </summary>
    private IReadOnlyList<ChartSeries> ObjectiveSeries => experiment is null ? [] : BuildObjectiveSeries(experiment.Spec.Objective.Direction, trials);

    internal static IReadOnlyList<ChartSeries> BuildObjectiveSeries(ObjectiveDirection direction, IReadOnlyList<Trial> trials)
    {
        const double lead = 0.6; // how far left of its trial the first epoch sits
        var epochs = trials.SelectMany(t => t.Intermediate.Where(v => v.Step < t.Epochs || t.Objective is null)
            .Select(v => (X: t.Number - lead * (1 - (double)v.Step / Math.Max(1, t.Epochs)), Y: v.Value))).ToList();
        var finals = trials.Where(t => t.Objective is not null).Select(t => (X: (double)t.Number, Y: t.Objective!.Value)).ToList();
        var bestSoFar = new List<(double X, double Y)>();
        double? best = null;
        foreach (var (x, y) in finals.OrderBy(p => p.X))
        {
            if (!double.IsFinite(y)) continue;
            best = best is null ? y : direction == ObjectiveDirection.Maximize ? Math.Max(best.Value, y) : Math.Min(best.Value, y);
            bestSoFar.Add((x, best.Value));
        }
        return
        [
            new ChartSeries("best so far", bestSoFar, "#43a047", Markers: false),
            new ChartSeries("epochs", epochs, "#90a4ae", Line: false),
            new ChartSeries("trial result", finals, "#1e88e5", Line: false),
        ];
    }

    /// <inheritdoc />
    protected override void OnParametersSet() => Load();

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e.ExperimentId == Id && e is TrialChanged or ExperimentChanged;

    /// <inheritdoc />
    protected override void OnFeedEvent(FeedEvent e)
    {
        switch (e)
        {
            case TrialChanged { Trial: var t }:
                int i = trials.FindIndex(x => x.Id == t.Id);
                if (i >= 0) trials[i] = t;
                else trials = [.. trials.Append(t).OrderBy(x => x.Number)];
                break;
            case ExperimentChanged { Experiment: var x }:
                experiment = x;
                break;
        }
    }

    private void Load()
    {
        experiment = Store.GetExperiment(Id);
        trials = experiment is null ? [] : Store.ListTrials(Id).ToList();
    }

    private void CancelExperiment() => experiment = Experiments.Cancel(Id) ?? experiment;

    internal static string FormatParameters(IReadOnlyDictionary<string, ParameterValue> parameters) =>
        string.Join(", ", parameters.Select(p => $"{p.Key}={Format.Value(p.Value)}"));

    private static string Metric(Trial trial, string key) =>
        Format.Metric(trial.FinalMetrics.TryGetValue(key, out var v) ? v : null);
}
