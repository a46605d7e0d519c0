using Microsoft.AspNetCore.Components;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;
using ChartSeries = Tracker.Server.Components.Shared.ChartSeries;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// Any metric the experiment's runs have logged, one line per run against the step: a picker of the keys, and at most
/// <see cref="OverlayRuns.MaxRuns"/> runs (<see cref="OverlayRuns"/>), each read thinned by the store. It follows the
/// runs live: a logged point marks its run's line stale, and stale lines are read again at most once per
/// <see cref="ReloadInterval"/>, however fast the points come.
/// </summary>
public partial class MetricOverlay : LiveComponentBase
{
    /// <summary>The most points of one run's line: the runs share what one chart carries (<see cref="ChartReads.MaxChartPoints"/>).</summary>
    public const int MaxPointsPerRun = ChartReads.MaxChartPoints / 4;

    /// <summary>The shortest time between two reads of the lines that new points made stale.</summary>
    public static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(1);

    // A line of up to this many points marks each one: a short series would otherwise be a barely visible stub.
    private const int MarkedPoints = 30;

    /// <summary>The experiment whose runs are drawn. Required.</summary>
    [Parameter, EditorRequired] public Experiment Experiment { get; set; } = default!;

    /// <summary>The experiment's runs, in number order (reduced ones do: see <see cref="ExperimentTrials"/>). Defaults to none.</summary>
    [Parameter] public IReadOnlyList<Trial> Trials { get; set; } = [];

    /// <summary>
    /// Whether runs beyond <see cref="OverlayRuns.MaxRuns"/> are chosen partly by their objective; else the latest
    /// only, as for a sensitivity study, whose runs are replicas that no seed should win. Defaults to true.
    /// </summary>
    [Parameter] public bool RankByObjective { get; set; } = true;

    /// <summary>The metric asked for (the page's URL); <c>null</c> or empty for the default (<see cref="DefaultMetric"/>). Defaults to <c>null</c>.</summary>
    [Parameter] public string? Metric { get; set; }

    /// <summary>Told the metric the user picks, so that the page can keep it in its URL. Defaults to none.</summary>
    [Parameter] public EventCallback<string> MetricChanged { get; set; }

    [Inject] private TrackerStores Stores { get; set; } = default!;

    private string? experimentId; // whose keys were read
    private List<string> keys = []; // ordinal order
    private string? requested; // the Metric parameter as last seen: a new value is a new choice, the same one is not
    private string? picked; // by the user or the URL; while null, the default
    private OverlayRuns runs = OverlayRuns.None;
    private string seriesKey = ""; // the metric whose lines are read
    private readonly Dictionary<string, IReadOnlyList<(double X, double Y)>> series = new(StringComparer.Ordinal); // by run id
    private readonly HashSet<string> stale = new(StringComparer.Ordinal); // shown runs that logged seriesKey since their read
    private IReadOnlyList<ChartSeries> chart = [];
    private bool changed = true; // whether a render would show anything new
    private bool reloadPending;
    private DateTimeOffset lastReload = DateTimeOffset.MinValue;
    private readonly CancellationTokenSource disposal = new();

    /// <summary>The metric shown first: the objective where the runs log it (or nothing is logged yet), else the first key.</summary>
    public static string DefaultMetric(IReadOnlyList<string> keys, string objective) =>
        keys.Count == 0 || keys.Contains(objective) ? objective : keys[0];

    private string Chosen => picked ?? DefaultMetric(keys, Experiment.Spec.Objective.Metric);

    /// <summary>The picker's keys: the logged ones, and the chosen one where no run has logged it (a shared link, say).</summary>
    private IEnumerable<string> Keys => keys.Contains(Chosen) ? keys : keys.Prepend(Chosen);

    private string Unit => Experiment.Spec.Execution == TrialExecution.Logged ? "run" : "trial";

    /// <inheritdoc />
    protected override async Task OnParametersSetAsync()
    {
        if (Experiment.Id != experimentId)
        {
            experimentId = Experiment.Id;
            (requested, picked) = (null, null);
            var fields = await Stores.Trials.TrialFieldsAsync(new TrialQuery { ExperimentIds = [Experiment.Id], Lifecycles = [LifecycleStage.Active] });
            keys = fields.Metrics.Distinct().Order(StringComparer.Ordinal).ToList();
            changed = true;
        }
        if (Metric != requested)
        {
            requested = Metric;
            picked = string.IsNullOrEmpty(Metric) ? null : Metric;
            changed = true;
        }
        await ShowAsync();
    }

    /// <inheritdoc />
    protected override bool ShouldRender()
    {
        // The page re-renders on every change of a trial, and the feed brings points of lines not drawn or not due
        // yet: neither need the chart drawn again.
        if (!changed) return false;
        changed = false;
        return true;
    }

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e is MetricsRecorded m && m.ExperimentId == Experiment.Id;

    /// <inheritdoc />
    protected override async Task OnFeedEventAsync(FeedEvent e)
    {
        if (e is not MetricsRecorded m) return;
        foreach (var key in m.Values.Keys)
        {
            int at = keys.BinarySearch(key, StringComparer.Ordinal);
            if (at >= 0) continue;
            keys.Insert(~at, key);
            changed = true;
        }
        if (Chosen != seriesKey) await ShowAsync(); // the default changed with the first key
        else if (m.Values.ContainsKey(seriesKey) && series.ContainsKey(m.TrialId))
        {
            stale.Add(m.TrialId);
            ScheduleReload();
        }
    }

    private async Task ChooseAsync(string key)
    {
        picked = key;
        changed = true;
        await ShowAsync();
        await MetricChanged.InvokeAsync(key);
    }

    /// <summary>Chooses the runs and reads the lines the chart lacks: all of them when the metric changed, else those of newly shown runs.</summary>
    private async Task ShowAsync()
    {
        var before = runs;
        runs = OverlayRuns.Choose(Trials, Experiment.Spec.Objective.Direction, RankByObjective);
        string key = Chosen;
        bool sameRuns = runs.Total == before.Total && runs.Shown.Select(Legend).SequenceEqual(before.Shown.Select(Legend));
        if (key == seriesKey && sameRuns) return;
        if (key != seriesKey)
        {
            (seriesKey, changed) = (key, true);
            series.Clear();
            stale.Clear();
        }
        foreach (var id in series.Keys.Except(runs.Shown.Select(t => t.Id)).ToList()) series.Remove(id);
        await ReadAsync(runs.Shown.Where(t => !series.ContainsKey(t.Id)).Select(t => t.Id).ToList());
        Draw();
    }

    private (string Id, string Name) Legend(Trial run) => (run.Id, OverlayRuns.NameOf(run, Unit));

    /// <summary>Reads the lines of <paramref name="runIds"/>, each thinned by the store; stops when another metric was chosen meanwhile.</summary>
    private async Task ReadAsync(IReadOnlyList<string> runIds)
    {
        string key = seriesKey;
        foreach (var id in runIds)
        {
            stale.Remove(id); // a point logged during the read marks it again
            var points = await ChartReads.SeriesAsync(Stores.Metrics, id, key, MaxPointsPerRun, disposal.Token);
            if (key != seriesKey) return; // the read of the new metric fills the chart
            series[id] = points.Select(p => ((double)p.Step, p.Value)).ToList();
        }
    }

    /// <summary>One line per shown run that has points, coloured by its place among the shown runs.</summary>
    private void Draw()
    {
        chart = runs.Shown
            .Select((run, i) => series.TryGetValue(run.Id, out var points) && points.Count > 0
                ? new ChartSeries(OverlayRuns.NameOf(run, Unit), points, ChartPalette.Color(i), Markers: points.Count <= MarkedPoints)
                : null)
            .OfType<ChartSeries>().ToList();
        changed = true;
    }

    private void ScheduleReload()
    {
        if (reloadPending) return;
        reloadPending = true;
        var wait = lastReload + ReloadInterval - DateTimeOffset.UtcNow;
        _ = ReloadStaleAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    private async Task ReloadStaleAsync(TimeSpan wait)
    {
        try
        {
            await Task.Delay(wait, disposal.Token);
            await InvokeAsync(async () =>
            {
                (reloadPending, lastReload) = (false, DateTimeOffset.UtcNow);
                await ReadAsync(stale.Where(series.ContainsKey).ToList());
                Draw();
                StateHasChanged();
            });
        }
        catch (OperationCanceledException) when (disposal.IsCancellationRequested)
        {
            // The page went away while the reload waited or read.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away: nothing is left to draw.
        }
        catch (Exception ex)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        disposal.Cancel();
        disposal.Dispose();
        base.Dispose();
    }
}
