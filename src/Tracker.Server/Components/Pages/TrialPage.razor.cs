using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;
using Tracker.Server.Security;
using ChartSeries = Tracker.Server.Components.Shared.ChartSeries;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// One trial: live learning curves, parameters, the latest confusion matrix, the prediction gallery with Grad-CAM, and
/// for a logged run the images it uploads. The curves' x axis (step or wall time) and smoothing are kept in the URL
/// (<c>?x=time&amp;smooth=0.6</c>); an editor may change a logged run's tags and correct its params.
/// </summary>
public partial class TrialPage : LiveComponentBase
{
    /// <summary>The trial id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    /// <summary>The curves' x axis from the URL: <c>time</c> for wall time, anything else (or none) for steps.</summary>
    [SupplyParameterFromQuery(Name = "x")] public string? XAxisQuery { get; set; }

    /// <summary>The curves' smoothing weight from the URL (<c>0</c> … <see cref="Smoothing.MaxWeight"/>); none or unreadable is 0.</summary>
    [SupplyParameterFromQuery(Name = "smooth")] public string? SmoothingQuery { get; set; }

    /// <summary>Who is signed in, from the request that opened the page (the circuit keeps it).</summary>
    [CascadingParameter] private Task<AuthenticationState>? Authentication { get; set; }

    [Inject] private TrackerStores Stores { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    [Inject] private PluginCatalog Plugins { get; set; } = default!;

    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Inject] private RunArtifacts Artifacts { get; set; } = default!;

    [Inject] private RunRegistry Registry { get; set; } = default!;

    [Inject] private RunIngest Ingest { get; set; } = default!;

    [Inject] private IAuthorizationService Authorization { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private Trial? trial;
    private string? loadedId;
    private readonly Dictionary<string, List<CurvePoint>> series = [];
    private DateTimeOffset? firstPointAt;
    private bool byTime;
    private double smoothing;
    private string? editError;
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
        trial.RunTags.Where(t => !IsSystemTag(t.Key)).OrderBy(t => t.Key, StringComparer.Ordinal).ToList();

    /// <summary>The steps a logged run's series cover, e.g. <c>steps 0–199</c>.</summary>
    /// <remarks>Each series is kept in step order (as read, and as the feed inserts), so its ends are its first and last points.</remarks>
    private string StepsText
    {
        get
        {
            var filled = series.Values.Where(points => points.Count > 0).ToList();
            if (filled.Count == 0) return "no metrics yet";
            double first = filled.Min(points => points[0].Step), last = filled.Max(points => points[^1].Step);
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

    private IReadOnlyList<ChartSeries> LossSeries => [.. Curves(MetricNames.TrainLoss, "#e53935"), .. Curves(MetricNames.ValLoss, "#1e88e5")];

    private IReadOnlyList<ChartSeries> ScoreSeries => [.. Curves(MetricNames.ValAccuracy, "#8e24aa"), .. Curves(MetricNames.ValF1Macro, "#43a047")];

    /// <summary>The x axis's label: the run's own unit (<paramref name="unit"/>) or wall time.</summary>
    private string XLabel(string unit) => byTime ? "wall time (minutes)" : unit;

    /// <summary>The tag keys MLflow clients set (<c>mlflow.*</c>): shown as the run's name or not at all, never edited here.</summary>
    private static bool IsSystemTag(string key) => key.StartsWith("mlflow.", StringComparison.Ordinal);

    /// <summary>The gallery's filters in words, e.g. <c>true class cat, predicted dog, misclassified only</c>.</summary>
    private string GalleryFilterText => string.Join(", ", new[]
    {
        galleryClass >= 0 ? $"true class {ClassName(galleryClass)}" : null,
        galleryPredicted is { } p ? $"predicted {ClassName(p)}" : null,
        misclassifiedOnly ? "misclassified only" : null,
    }.Where(part => part is not null));

    /// <summary>The series of a logged run's panel for <paramref name="key"/>.</summary>
    private IReadOnlyList<ChartSeries> PanelSeries(string key) => Curves(key, ChartPalette.Color(0));

    /// <summary>
    /// The curve of <paramref name="key"/> against the chosen x: as logged, or smoothed with the logged points kept
    /// faint behind it, so that smoothing never hides a spike. A long series is smoothed as read, thinned to
    /// <see cref="ChartReads.MaxChartPoints"/> points, as TensorBoard smooths the points it samples.
    /// </summary>
    private IReadOnlyList<ChartSeries> Curves(string key, string color)
    {
        var points = Points(key);
        var raw = points.Select(p => (X: X(p), Y: p.Value)).ToList();
        if (smoothing == 0) return [new(key, raw, color)];
        var smoothed = Smoothing.Ema(points.Select(p => p.Value).ToList(), smoothing);
        return
        [
            new($"{key} (raw)", raw, Faint(color), Markers: false),
            new(key, raw.Select((p, i) => (p.X, smoothed[i])).ToList(), color),
        ];
    }

    /// <summary>A point's x: its step, or the minutes since the run's first point.</summary>
    private double X(CurvePoint point) => byTime ? (point.At - (firstPointAt ?? point.At)).TotalMinutes : point.Step;

    /// <summary><paramref name="color"/> (<c>#rrggbb</c>) at a quarter of its strength, for the raw curve behind a smoothed one.</summary>
    private static string Faint(string color) =>
        FormattableString.Invariant($"rgba({Convert.ToInt32(color[1..3], 16)},{Convert.ToInt32(color[3..5], 16)},{Convert.ToInt32(color[5..7], 16)},0.25)");

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        byTime = XAxisQuery == "time";
        smoothing = double.TryParse(SmoothingQuery, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) && double.IsFinite(weight)
            ? Math.Clamp(weight, 0, Smoothing.MaxWeight) : 0;
        // A change of the chart controls comes back here with the same id (they keep the URL): it needs no new read.
        if (loadedId == Id) return;
        loadedId = Id;
        editError = null;
        trial = await Stores.Trials.GetTrialAsync(Id);
        series.Clear();
        firstPointAt = null;
        foreach (var p in await ChartReads.AllSeriesAsync(Stores.Metrics, Id)) Add(p.Key, new CurvePoint(p.Step, p.Value, p.Timestamp));
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
                // doubles, the one read. Its time is the logged one; an event that carries none is stamped on arrival.
                var arrived = m.LoggedAt ?? DateTimeOffset.UtcNow;
                foreach (var (key, value) in m.Values)
                {
                    var points = Points(key);
                    points.RemoveAll(p => p.Step == m.Step);
                    int at = points.FindIndex(p => p.Step > m.Step);
                    points.Insert(at < 0 ? points.Count : at, new CurvePoint(m.Step, value, arrived));
                    if (firstPointAt is null || arrived < firstPointAt) firstPointAt = arrived;
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

    private List<CurvePoint> Points(string key) =>
        series.TryGetValue(key, out var list) ? list : series[key] = [];

    private void Add(string key, CurvePoint point)
    {
        Points(key).Add(point);
        if (firstPointAt is null || point.At < firstPointAt) firstPointAt = point.At;
    }

    /// <summary>Shows the curves against steps or wall time, and keeps the choice in the URL.</summary>
    private void ShowByTime(bool time)
    {
        byTime = time;
        KeepChartChoiceInUrl();
    }

    /// <summary>Smooths the curves by <paramref name="weight"/>, and keeps it in the URL.</summary>
    private void SmoothBy(double weight)
    {
        smoothing = Math.Clamp(weight, 0, Smoothing.MaxWeight);
        KeepChartChoiceInUrl();
    }

    // The defaults (steps, no smoothing) leave the URL bare.
    private void KeepChartChoiceInUrl() => Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
    {
        ["x"] = byTime ? "time" : null,
        ["smooth"] = smoothing == 0 ? null : smoothing.ToString("0.##", CultureInfo.InvariantCulture),
    }), replace: true);

    /// <summary>
    /// The signed-in user when their role may edit (<see cref="TrackerPolicies.Edit"/>), else <c>null</c>. The page
    /// shows viewers no edit controls; every edit asks again, so that one reaching the server anyway is refused.
    /// </summary>
    private async Task<ClaimsPrincipal?> EditorAsync()
    {
        var user = Authentication is null ? null : (await Authentication).User;
        if (user is not null && (await Authorization.AuthorizeAsync(user, TrackerPolicies.Edit)).Succeeded) return user;
        editError = "Your role may not edit runs: editing needs the editor role.";
        return null;
    }

    /// <summary>Adds a tag (no <paramref name="key"/>) or changes the value of the tag <paramref name="key"/>.</summary>
    private async Task EditTagAsync(string? key)
    {
        if (trial is null || await EditorAsync() is null) return;
        var field = await AskFieldAsync(key is null ? "Add a tag" : $"Change the tag '{key}'", key, key is null ? "" : trial.RunTags.GetValueOrDefault(key, ""),
            LoggingRules.MaxTagValueLength, null);
        if (field is null) return;
        if (IsSystemTag(field.Key))
        {
            editError = $"'{field.Key}' is one of the tags MLflow clients set (mlflow.*); the dashboard leaves those to them.";
            return;
        }
        // The role is asked again: the dialog may have stayed open while the user's role changed.
        if (await EditorAsync() is null) return;
        Show(await Ingest.SetTagsAsync(Id, new Dictionary<string, string>(StringComparer.Ordinal) { [field.Key] = field.Value }));
    }

    private async Task RemoveTagAsync(string key)
    {
        if (await EditorAsync() is null) return;
        Show(await Registry.DeleteTagAsync(Id, key));
    }

    /// <summary>Adds a label (a user's word for the trial, as the runs grid gives it) to a trial Tracker ran.</summary>
    private async Task AddLabelAsync()
    {
        if (await EditorAsync() is null) return;
        var field = await AskFieldAsync("Add a tag", null, "", valueMaxLength: null, null, keyLabel: "Tag");
        if (field is null || await EditorAsync() is null) return;
        await ChangeLabelsAsync(labels => [.. labels, field.Key]);
    }

    private async Task RemoveLabelAsync(string label)
    {
        if (await EditorAsync() is null) return;
        await ChangeLabelsAsync(labels => labels.Where(l => l != label).ToList());
    }

    /// <summary>Writes the trial's labels as <paramref name="change"/> makes them from the stored ones, as the runs grid does.</summary>
    private async Task ChangeLabelsAsync(Func<IReadOnlyList<string>, IReadOnlyList<string>> change)
    {
        // From the stored labels, not the page's: another user's edit since the page loaded is kept.
        if (await Stores.Trials.GetTrialAsync(Id) is not { } stored) return;
        if (await Stores.Trials.UpdateTrialAnnotationsAsync(Id, change(stored.Tags), null) is not { } updated) return;
        editError = null;
        trial = updated;
        Feed.Publish(new TrialChanged(updated));
    }

    /// <summary>
    /// Corrects the param <paramref name="key"/> of a logged run, or adds one (no key). Logging never changes a param
    /// (MLflow's rule); this is a user's explicit correction, recorded with the run.
    /// </summary>
    private async Task EditParamAsync(string? key)
    {
        if (trial?.Logged is not { } logged || await EditorAsync() is null) return;
        var field = await AskFieldAsync(key is null ? "Add a param" : $"Correct the param '{key}'", key, key is null ? "" : logged.Params.GetValueOrDefault(key, ""),
            LoggingRules.MaxParamValueLength, "Logged params never change by logging; this correction is kept in the run's record with your name.");
        if (field is null || await EditorAsync() is not { } editor) return;
        Show(await Ingest.EditParamsAsync(Id, new Dictionary<string, string>(StringComparer.Ordinal) { [field.Key] = field.Value }, editor.Identity?.Name ?? ""));
    }

    /// <summary>
    /// The key and value the user saves in <see cref="RunFieldDialog"/>, or <c>null</c> when they cancel; with no
    /// <paramref name="valueMaxLength"/> the field is a key alone (a label).
    /// </summary>
    private async Task<RunFieldDialog.Result?> AskFieldAsync(string title, string? key, string value, int? valueMaxLength, string? explanation,
        string keyLabel = "Key")
    {
        var parameters = new DialogParameters<RunFieldDialog>
        {
            { d => d.Key, key ?? "" },
            { d => d.KeyLabel, keyLabel },
            { d => d.AsksValue, valueMaxLength is not null },
            { d => d.KeyFixed, key is not null },
            { d => d.Value, value },
            { d => d.Explanation, explanation },
        };
        if (valueMaxLength is { } longest) parameters.Add(d => d.ValueMaxLength, longest);
        var dialog = await Dialogs.ShowAsync<RunFieldDialog>(title, parameters, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
        return await dialog.Result is { Canceled: false, Data: RunFieldDialog.Result field } ? field : null;
    }

    private static string EditedAt(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    // The run as the edit left it, or why the edit was refused.
    private void Show(TrackingResult<Trial> result)
    {
        editError = result.Error?.Message;
        if (result.Value is { } updated) trial = updated;
    }

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

/// <summary>One point of a curve: its step, its value and when it was logged.</summary>
internal readonly record struct CurvePoint(int Step, double Value, DateTimeOffset At);
