using Microsoft.AspNetCore.Components;
using MudBlazor;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;
using ChartSeries = Tracker.Server.Components.Shared.ChartSeries;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// One trial: live learning curves, parameters, the latest confusion matrix, the prediction gallery with Grad-CAM, and
/// for a logged run the images it uploads.
/// </summary>
public partial class TrialPage : LiveComponentBase
{
    /// <summary>The trial id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    [Inject] private TrackerStores Stores { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    [Inject] private PluginCatalog Plugins { get; set; } = default!;

    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Inject] private RunArtifacts Artifacts { get; set; } = default!;

    private Trial? trial;
    private readonly Dictionary<string, List<(double X, double Y)>> series = [];
    private EvaluationReport? report;
    private PredictionSet? predictions;
    private int galleryClass = -1;
    private int? galleryPredicted;
    private bool misclassifiedOnly;
    private IReadOnlyList<ArtifactView> images = [];
    private IReadOnlyList<ArtifactView> files = [];

    /// <summary>A run a script logged (native or MLflow API), not a trial the server trained.</summary>
    private bool IsLogged => trial?.Logged is not null;

    /// <summary>The run's name where it has one, else its number; a built-in trial's number.</summary>
    private string Heading => trial is null ? "" : !IsLogged ? $"Trial #{trial.Number}"
        : RunRegistry.RunNameOf(trial) is { Length: > 0 } name ? name : $"Run {trial.Number}";

    /// <summary>The run's tags, less the system tags MLflow clients set (<c>mlflow.*</c>: the name is the heading).</summary>
    private IReadOnlyList<KeyValuePair<string, string>> VisibleRunTags => trial is null ? [] :
        trial.RunTags.Where(t => !t.Key.StartsWith("mlflow.", StringComparison.Ordinal)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();

    /// <summary>The steps a logged run's series cover, e.g. <c>steps 0–199</c>.</summary>
    /// <remarks>Each series is kept in step order (as read, and as the feed inserts), so its ends are its first and last points.</remarks>
    private string StepsText
    {
        get
        {
            var filled = series.Values.Where(points => points.Count > 0).ToList();
            if (filled.Count == 0) return "no metrics yet";
            double first = filled.Min(points => points[0].X), last = filled.Max(points => points[^1].X);
            return first == last ? $"step {Format.Number(first)}" : $"steps {Format.Number(first)}–{Format.Number(last)}";
        }
    }

    private IReadOnlyList<string> ClassNames => report?.ClassNames ?? predictions?.ClassNames ?? [];

    /// <summary>The sampled predictions that pass the gallery's filters (a confusion-matrix cell, a class, mistakes).</summary>
    private IEnumerable<Prediction> GalleryItems => predictions is null ? [] :
        predictions.SampleIndices.Select(i => predictions.Items[i])
            .Where(p => galleryClass < 0 || p.TrueLabel == galleryClass)
            .Where(p => galleryPredicted is null || p.PredictedLabel == galleryPredicted)
            .Where(p => !misclassifiedOnly || p.TrueLabel != p.PredictedLabel);

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

    /// <summary>The gallery's filters in words, e.g. <c>true class cat, predicted dog, misclassified only</c>.</summary>
    private string GalleryFilterText => string.Join(", ", new[]
    {
        galleryClass >= 0 ? $"true class {ClassName(galleryClass)}" : null,
        galleryPredicted is { } p ? $"predicted {ClassName(p)}" : null,
        misclassifiedOnly ? "misclassified only" : null,
    }.Where(part => part is not null));

    /// <summary>The one series of a logged run's panel for <paramref name="key"/>.</summary>
    private IReadOnlyList<ChartSeries> PanelSeries(string key) => [new(key, series[key], ChartPalette.Color(0))];

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        trial = await Stores.Trials.GetTrialAsync(Id);
        series.Clear();
        foreach (var p in await ChartReads.AllSeriesAsync(Stores.Metrics, Id)) Points(p.Key).Add((p.Step, p.Value));
        await LoadEvaluationAsync();
        await LoadImagesAsync();
    }

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e switch
    {
        MetricsRecorded m => m.TrialId == Id,
        TrialChanged t => t.Trial.Id == Id,
        ImagesLogged i => i.TrialId == Id,
        _ => false,
    };

    /// <inheritdoc />
    protected override async Task OnFeedEventAsync(FeedEvent e)
    {
        switch (e)
        {
            case MetricsRecorded m:
                // A step written while the page loaded arrives after the load that read it: its point replaces, never
                // doubles, the one read.
                foreach (var (key, value) in m.Values)
                {
                    var points = Points(key);
                    points.RemoveAll(p => p.X == m.Step);
                    int at = points.FindIndex(p => p.X > m.Step);
                    points.Insert(at < 0 ? points.Count : at, (m.Step, value));
                }
                report = await Stores.Evaluations.GetLatestReportAsync(Id, "validation");
                break;
            case TrialChanged t:
                trial = t.Trial;
                if (trial.IsFinished) await LoadEvaluationAsync();
                break;
            case ImagesLogged:
                await LoadImagesAsync();
                break;
        }
    }

    private List<(double X, double Y)> Points(string key) =>
        series.TryGetValue(key, out var list) ? list : series[key] = [];

    private string ClassName(int index) => index < ClassNames.Count ? ClassNames[index] : index.ToString();

    /// <summary>The final report (test split) once there is one, else the latest validation report.</summary>
    private async Task LoadEvaluationAsync()
    {
        predictions = await Stores.Evaluations.GetPredictionsAsync(Id);
        report = (predictions is null ? null : await Stores.Evaluations.GetLatestReportAsync(Id, predictions.Split))
            ?? await Stores.Evaluations.GetLatestReportAsync(Id, "validation");
    }

    /// <summary>A logged run's artifacts, by path (a replaced file keeps its place): images shown, other files listed.</summary>
    private async Task LoadImagesAsync()
    {
        var listed = trial?.Logged is null ? null : (await Artifacts.ListAsync(Id)).Value;
        images = listed?.Where(a => a.IsImage).ToList() ?? [];
        files = listed?.Where(a => !a.IsImage).ToList() ?? [];
    }

    /// <summary>Clicking a gallery image opens it with its labels and its Grad-CAM overlay.</summary>
    private async Task OpenGradCam(Prediction item)
    {
        var parameters = new DialogParameters<GradCamDialog>
        {
            { d => d.TrialId, Id },
            { d => d.Item, item },
            { d => d.ClassNames, ClassNames },
            { d => d.Problem, (await GradCam.AvailabilityAsync(Stores, Plugins, Id))?.Problem },
        };
        await Dialogs.ShowAsync<GradCamDialog>("Grad-CAM", parameters, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
    }

    private Task OpenGradCamOnEnter(Microsoft.AspNetCore.Components.Web.KeyboardEventArgs e, Prediction item) =>
        e.Key is "Enter" or " " ? OpenGradCam(item) : Task.CompletedTask;

    /// <summary>Clicking a confusion-matrix cell shows the sampled images of that cell.</summary>
    private void ShowCell(int truth, int predicted)
    {
        if (predictions is null) return;
        galleryClass = truth;
        galleryPredicted = predicted;
        misclassifiedOnly = false;
    }
}
