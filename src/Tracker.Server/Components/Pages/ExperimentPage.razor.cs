using Microsoft.AspNetCore.Components;
using MudBlazor;
using Tracker.Abstractions;
using ParameterValue = Tracker.Abstractions.ParameterValue;
using ChartSeries = Tracker.Server.Components.Shared.ChartSeries;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// An experiment: its trials with their progress and time left (a table paged by the store), the objective by trial
/// (live), the best trial, the search's analytics, any metric of its runs overlaid, pause, resume and cancel. A
/// sensitivity study shows its figure and its trials' seeds instead of a search's best trial and analytics. However
/// many trials it has, the page reads one page of them in full and the others reduced to what its charts need, and
/// draws bounded charts.
/// </summary>
public partial class ExperimentPage : LiveComponentBase
{
    /// <summary>The experiment id from the route.</summary>
    [Parameter] public string Id { get; set; } = "";

    /// <summary>The metric the overlay shows, from the URL (<c>?metric=val_loss</c>), so that a view can be shared.</summary>
    [SupplyParameterFromQuery(Name = "metric")] public string? OverlayMetric { get; set; }

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private TrackerStores Stores { get; set; } = default!;

    [Inject] private ExperimentService Experiments { get; set; } = default!;

    private Experiment? experiment;
    private string? loadedId; // the experiment read; a new query string alone (the overlay's metric) reads nothing again
    private Experiment? source; // a sensitivity study's source experiment
    private ExperimentTrials all = new(ObjectiveDirection.Maximize); // every trial, reduced: charts, analytics, brackets
    private int trialCount;
    private Trial? best; // in full: its resolved parameters offer the sensitivity study's choices
    private MudTable<Trial>? table;
    private List<Trial> rows = []; // the table's page, in full
    private int rowsTotal; // the trials on all of the table's pages, as its last read counted them
    private readonly Dictionary<string, Trial> sources = []; // the trials the page's rows continue, by id
    private List<Experiment> studies = [];
    private string sensitivityParameter = "learning_rate";
    private string sensitivityFactors = "0.1, 1, 10";
    private int sensitivitySeeds = 3;
    private string? sensitivityError;
    private readonly Dictionary<string, IReadOnlyList<double>> epochSeconds = []; // of the page's running trials, for their time left

    /// <summary>The table's page size.</summary>
    public const int PageSize = 50;

    /// <summary>The page sizes the table's pager offers.</summary>
    private static readonly int[] PageSizes = [25, PageSize, 100, 250];

    private bool rowsLoading = true; // until the table's first page is read (never while prerendering)

    /// <summary>The hyperparameters of the best trial that have numeric values (candidates for a sensitivity study).</summary>
    private IEnumerable<string> NumericParameters => Best is null ? [] : Best.ResolvedParameters.Where(p => p.Value.IsNumber).Select(p => p.Key).Order();

    /// <summary>This experiment's sensitivity studies (or, on a study's page, the study) as grouped bars (one series per study).</summary>
    private (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) SensitivityBars { get; set; } = ([], []);

    /// <summary>On a study's page, its bars as numbers, and the metric they score.</summary>
    private (IReadOnlyList<SensitivityPoint> Points, string Metric) StudyPoints { get; set; } = ([], MetricNames.ValF1Macro);

    private Trial? Best => best;

    /// <summary>Whether a client logs this experiment's runs (the words are then about runs, not the server's trials).</summary>
    private bool IsLogged => experiment?.Spec.Execution == TrialExecution.Logged;

    /// <summary>The experiment's state; a logged experiment's follows its runs (<see cref="ExperimentSummary.StateOfRuns"/>).</summary>
    private string StateText => !IsLogged ? experiment?.State.ToString() ?? "" : runsState;

    // A logged experiment's state from its runs, counted when they change rather than on every render.
    private string runsState = "";

    private void CountRuns()
    {
        if (IsLogged) runsState = ExperimentSummary.StateOfRuns(all.Items.GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Count()));
    }

    /// <summary>What the page calls one of the experiment's trials.</summary>
    private string Unit => IsLogged ? "run" : "trial";

    private IReadOnlyList<Trial> Trials => all.Items;

    /// <summary>
    /// The objective against the trial number, as in the table: each trial's result, its earlier epochs as faint points
    /// leading up to it from the left (so the chart grows with every epoch), and the best-so-far line; bounded (see
    /// <see cref="ExperimentTrials.ObjectiveSeries"/>).
    /// </summary>
    private IReadOnlyList<ChartSeries> ObjectiveSeries => experiment is null ? [] : ExperimentTrials.ObjectiveSeries(experiment.Spec.Objective.Direction, all.Items);

    /// <inheritdoc />
    protected override Task OnParametersSetAsync() => Id == loadedId ? Task.CompletedTask : LoadAsync();

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
                if (experiment?.Spec.Sensitivity is not null && t.IsFinished) await LoadStudiesAsync(); // the study's own bars grow too
                bool setChanged = all.Apply(t); // a trial added or deleted
                trialCount = all.Items.Count;
                CountRuns();
                await UpdateBestAsync(t);
                int i = rows.FindIndex(x => x.Id == t.Id);
                if (setChanged)
                {
                    if (table is not null) await table.ReloadServerData(); // the pages shift
                }
                else if (i >= 0)
                {
                    rows[i] = t;
                    await LoadEpochSecondsAsync(t);
                }
                break;
            case ExperimentChanged { Experiment: var x }:
                experiment = x;
                break;
        }
    }

    /// <summary>Keeps the best trial as the store's tally would pick it, from the reduced trials; reads it in full when another one becomes the best.</summary>
    private async Task UpdateBestAsync(Trial changed)
    {
        var now = all.Best;
        if (now is null) best = null;
        else if (now.Id == changed.Id) best = changed;
        else if (now.Id != best?.Id) best = await Stores.Trials.GetTrialAsync(now.Id);
    }

    private async Task LoadAsync()
    {
        loadedId = Id;
        experiment = await Stores.Experiments.GetExperimentAsync(Id);
        source = experiment?.Spec.Sensitivity is { } study ? await Stores.Experiments.GetExperimentAsync(study.SourceExperimentId) : null;
        epochSeconds.Clear();
        if (experiment is null)
        {
            all = new(ObjectiveDirection.Maximize);
            (trialCount, best) = (0, null);
        }
        else
        {
            // The reduced trials give the count and pick the best (by the tally's rules); only the best is read in full.
            all = await ExperimentTrials.LoadAsync(Stores.Trials, Id, experiment.Spec.Objective.Direction);
            trialCount = all.Items.Count;
            CountRuns();
            best = all.Best is { } top ? await Stores.Trials.GetTrialAsync(top.Id) : null;
        }
        if (table is not null) await table.ReloadServerData();
        await LoadStudiesAsync();
    }

    /// <summary>One page of the table, read by the store in number order, with the trials its rows continue and its running trials' epoch times.</summary>
    private async Task<TableData<Trial>> LoadPageAsync(TableState state, CancellationToken cancel)
    {
        try
        {
            return await ReadPageAsync(state, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The table asked again (a reload as trials change) before this read ended, and dropped it; a store that
            // honours the token (PostgreSQL) ends it with this exception, which must not reach the circuit and end it.
            return new TableData<Trial> { Items = rows, TotalItems = rowsTotal };
        }
    }

    private async Task<TableData<Trial>> ReadPageAsync(TableState state, CancellationToken cancel)
    {
        var page = await Stores.Trials.QueryTrialsAsync(new TrialQuery
        {
            ExperimentIds = [Id],
            SortBy = new TrialSortField(TrialSortKind.Number),
            Descending = false,
            Lifecycles = [LifecycleStage.Active],
            Page = state.Page,
            PageSize = state.PageSize,
        }, cancel);
        rows = page.Items.Select(r => r.Trial).ToList();
        sources.Clear();
        foreach (var from in rows.Select(t => t.ResumedFrom).OfType<string>().Distinct())
        {
            var source = rows.Find(t => t.Id == from) ?? await Stores.Trials.GetTrialAsync(from, cancel);
            if (source is not null) sources[from] = source;
        }
        epochSeconds.Clear();
        foreach (var t in rows) await LoadEpochSecondsAsync(t);
        rowsLoading = false;
        rowsTotal = page.Total;
        return new TableData<Trial> { Items = rows, TotalItems = page.Total };
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
        // The compare page's model holds the studies of its experiments and the studies started from them: here, this
        // experiment's studies, or on a study's own page the study itself.
        var model = studies.Count == 0 && experiment?.Spec.Sensitivity is null ? null : await CompareModel.LoadAsync(Stores, [Id]);
        SensitivityBars = model?.SensitivityBars() ?? ([], []);
        if (model?.Studies.FirstOrDefault(s => s.Study.Id == Id) is { Study: not null } own) StudyPoints = (own.Points, own.Metric);
    }

    /// <summary>Keeps the overlay's metric in the URL, replacing the history entry, so that a link shows what the user chose.</summary>
    private void KeepMetricInUrl(string key) =>
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("metric", key), new NavigationOptions { ReplaceHistoryEntry = true });

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
