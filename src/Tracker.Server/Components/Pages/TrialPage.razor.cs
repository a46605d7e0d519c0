using Microsoft.AspNetCore.Components;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>One trial: live learning curves, parameters and the latest confusion matrix.</summary>
public partial class TrialPage : LiveComponentBase
{
    /// <summary>The trial id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    [Inject] private IRunStore Store { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    [Inject] private DatasetCatalog Datasets { get; set; } = default!;

    private Trial? trial;
    private readonly Dictionary<string, List<(double X, double Y)>> series = [];
    private (int Step, int[][] Matrix)? confusion;
    private IReadOnlyList<string> classNames = [];

    private IReadOnlyList<ChartSeries> LossSeries =>
    [
        new("train_loss", Points(MetricNames.TrainLoss), "#e53935"),
        new("val_loss", Points(MetricNames.ValLoss), "#1e88e5"),
    ];

    private IReadOnlyList<ChartSeries> ScoreSeries =>
    [
        new("val_accuracy", Points(MetricNames.ValAccuracy), "#8e24aa"),
        new("val_f1_macro", Points(MetricNames.ValF1Macro), "#43a047"),
    ];

    /// <inheritdoc />
    protected override void OnParametersSet()
    {
        trial = Store.GetTrial(Id);
        series.Clear();
        foreach (var p in Store.GetMetrics(Id)) Points(p.Key).Add((p.Step, p.Value));
        confusion = Store.GetLatestConfusionMatrix(Id);
        classNames = ClassNamesOf(trial);
    }

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e switch
    {
        MetricsRecorded m => m.TrialId == Id,
        TrialChanged t => t.Trial.Id == Id,
        _ => false,
    };

    /// <inheritdoc />
    protected override void OnFeedEvent(FeedEvent e)
    {
        switch (e)
        {
            case MetricsRecorded m:
                foreach (var (key, value) in m.Values) Points(key).Add((m.Step, value));
                confusion = Store.GetLatestConfusionMatrix(Id);
                break;
            case TrialChanged t:
                trial = t.Trial;
                break;
        }
    }

    private List<(double X, double Y)> Points(string key) =>
        series.TryGetValue(key, out var list) ? list : series[key] = [];

    private string ClassName(int index) => index < classNames.Count ? classNames[index] : index.ToString();

    private IReadOnlyList<string> ClassNamesOf(Trial? t)
    {
        if (t is null || Store.GetExperiment(t.ExperimentId) is not { } experiment) return [];
        try
        {
            // Cached by the catalog, so this is cheap once the trial has trained.
            return Datasets.Load(experiment.Spec.Dataset.Name, experiment.Spec.Dataset.Options, experiment.Spec.Seed).ClassNames;
        }
        catch
        {
            return [];
        }
    }
}
