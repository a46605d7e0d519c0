using Microsoft.AspNetCore.Components;
using Tracker.Abstractions;
using ParameterValue = Tracker.Abstractions.ParameterValue;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// An experiment: its trials with their progress and time left, the objective by trial (live), the best trial, the
/// search's analytics, pause, resume and cancel.
/// </summary>
public partial class ExperimentPage : LiveComponentBase
{
    /// <summary>The experiment id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    [Inject] private TrackerStores Stores { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    private Experiment? experiment;
    private List<Trial> trials = [];
    private List<Experiment> studies = [];
    private string sensitivityParameter = "learning_rate";
    private string sensitivityFactors = "0.1, 1, 10";
    private int sensitivitySeeds = 3;
    private string? sensitivityError;
    private readonly Dictionary<string, IReadOnlyList<double>> epochSeconds = []; // of running trials, for their time left

    /// <summary>The hyperparameters of the best trial that have numeric values (candidates for a sensitivity study).</summary>
    private IEnumerable<string> NumericParameters => Best is null ? [] : Best.ResolvedParameters.Where(p => p.Value.IsNumber).Select(p => p.Key).Order();

    /// <summary>This experiment's sensitivity studies as grouped bars (one series per study).</summary>
    private (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) SensitivityBars { get; set; } = ([], []);

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
    protected override Task OnParametersSetAsync() => LoadAsync();

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) =>
        (e.ExperimentId == Id && e is TrialChanged or ExperimentChanged) || studies.Any(s => s.Id == e.ExperimentId && e is TrialChanged { Trial.IsFinished: true } or ExperimentChanged);

    /// <inheritdoc />
    protected override async Task OnFeedEventAsync(FeedEvent e)
    {
        if (e.ExperimentId != Id)
        {
            await LoadStudiesAsync(); // a study's bars grow as its trials finish
            return;
        }
        switch (e)
        {
            case TrialChanged { Trial: var t }:
                int i = trials.FindIndex(x => x.Id == t.Id);
                if (t.LifecycleStage == LifecycleStage.Deleted)
                {
                    if (i >= 0) trials = [.. trials.Where(x => x.Id != t.Id)];
                }
                else if (i >= 0) trials[i] = t;
                else trials = [.. trials.Append(t).OrderBy(x => x.Number)];
                await LoadEpochSecondsAsync(t);
                break;
            case ExperimentChanged { Experiment: var x }:
                experiment = x;
                break;
        }
    }

    private async Task LoadAsync()
    {
        experiment = await Stores.Experiments.GetExperimentAsync(Id);
        trials = experiment is null ? [] : (await Stores.Trials.ListTrialsAsync(Id)).Where(t => t.LifecycleStage != LifecycleStage.Deleted).ToList();
        epochSeconds.Clear();
        foreach (var t in trials) await LoadEpochSecondsAsync(t);
        await LoadStudiesAsync();
    }

    /// <summary>Keeps the epoch times of running trials (one ranged read per finished epoch), and forgets the others'.</summary>
    private async Task LoadEpochSecondsAsync(Trial trial)
    {
        if (trial.State == TrialState.Running && trial.EpochsDone > 0)
            epochSeconds[trial.Id] = (await ChartReads.SeriesAsync(Stores.Metrics, trial.Id, MetricNames.EpochSeconds)).Select(p => p.Value).ToList();
        else
            epochSeconds.Remove(trial.Id);
    }

    private TimeSpan? Remaining(Trial trial) => TrialProgress.Remaining(trial, epochSeconds.GetValueOrDefault(trial.Id) ?? []);

    private async Task LoadStudiesAsync()
    {
        studies = (await Stores.Experiments.ListExperimentsAsync()).Where(e => e.Spec.Sensitivity?.SourceExperimentId == Id).OrderBy(e => e.CreatedAt).ToList();
        SensitivityBars = studies.Count == 0 ? ([], []) : (await CompareModel.LoadAsync(Stores, [Id])).SensitivityBars();
    }

    private async Task StartSensitivity()
    {
        var factors = new List<double>();
        foreach (var part in sensitivityFactors.Split(',', ';', ' ').Where(p => p.Length > 0))
        {
            if (!double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f))
            {
                sensitivityError = $"'{part}' is not a number.";
                return;
            }
            factors.Add(f);
        }
        var result = await Experiments.StartSensitivityStudyAsync(Id, sensitivityParameter, factors, sensitivitySeeds);
        sensitivityError = result.Succeeded ? null : string.Join(" ", result.Errors.SelectMany(e => e.Value));
        if (result.Succeeded) await LoadStudiesAsync();
    }

    private async Task CancelExperiment() => experiment = await Experiments.CancelAsync(Id) ?? experiment;

    private async Task PauseExperiment() => experiment = await Experiments.PauseAsync(Id) ?? experiment;

    private async Task ResumeExperiment() => experiment = await Experiments.ResumeAsync(Id) ?? experiment;

    internal static string FormatParameters(IReadOnlyDictionary<string, ParameterValue> parameters) =>
        string.Join(", ", parameters.Select(p => $"{p.Key}={Format.Value(p.Value)}"));

    private static string Metric(Trial trial, string key) =>
        Format.Metric(trial.FinalMetrics.TryGetValue(key, out var v) ? v : null);
}
