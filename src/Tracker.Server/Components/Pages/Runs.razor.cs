using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;
using Tracker.Abstractions;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;
using Tracker.Server.SavedViews;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// Every trial of every experiment in one grid. The store filters, sorts and pages; the page only holds a
/// <see cref="RunsGridState"/>, which it keeps in the URL so that a view can be shared or bookmarked.
/// </summary>
public partial class Runs : LiveComponentBase
{
    private static readonly TimeSpan RefreshDelay = TimeSpan.FromSeconds(3);

    [Inject] private TrackerStores Stores { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Inject] private IDialogService Dialogs { get; set; } = default!;

    [Inject] private ISavedViews Views { get; set; } = default!;

    private RunsGridState state = new();
    private MudTable<TrialRow>? table;
    private int tableGeneration; // a new table for each view brought in by the URL, so that it starts from that view's sort
    private List<Experiment> experiments = []; // those the experiment picker offers
    private Dictionary<string, Experiment> experimentsById = []; // every one, deleted too, for the rows' data sets
    private SortedSet<string> parameterNames = new(StringComparer.Ordinal), metricNames = new(StringComparer.Ordinal);
    private TrialQueryResult? page;
    private SortedSet<string> tagKeys = new(StringComparer.Ordinal); // run tags' keys seen on pages, to group by
    private IReadOnlyList<RunGroup>? groups; // the groups of every matching run, when grouped
    private string? groupsOf; // what groups were computed for (grouping, metric and filters); null: compute again
    private IReadOnlyList<string> parametersInView = []; // the parameters of every matching run, for the default columns
    private string? parametersOf; // the filters parametersInView were read for; null: read again
    private IReadOnlyList<RunColumn> shownColumns = [];
    private IReadOnlyList<SavedView> savedViews = [];
    private string? savedViewsError;
    private string shownUrl = "";
    private bool refreshPending;
    private readonly List<string> chosen = []; // trial ids ticked for comparison, in the order ticked, across pages and filters

    /// <summary>The comparison of the ticked runs, in the order they were ticked.</summary>
    private string CompareUrl => "/runs/compare?" + string.Join("&", chosen.Select(id => "t=" + Uri.EscapeDataString(id)));

    private void OnChosen(string trialId, bool isChosen)
    {
        chosen.Remove(trialId);
        if (isChosen && chosen.Count < RunComparison.MaxRuns) chosen.Add(trialId);
    }

    private int PageCount => page is null ? 1 : Math.Max(1, (int)Math.Ceiling(page.Total / (double)state.PageSize));

    private string PageSummary => page is null ? "" : page.Total == 0 ? "0 trials"
        : $"{page.Page * page.PageSize + 1:N0}–{page.Page * page.PageSize + page.Items.Count:N0} of {page.Total:N0} trials";

    /// <summary>The columns the picker offers: what a run is, then every known parameter and metric, then any other shown one.</summary>
    private IEnumerable<RunColumn> ColumnChoices =>
        RunColumn.Descriptive
            .Concat(parameterNames.Select(RunColumn.Parameter))
            .Concat(metricNames.Select(RunColumn.Metric))
            .Concat(shownColumns)
            .Distinct();

    // Room for what a column usually holds; the header can be dragged wider or narrower.
    private static string ColumnWidth(RunColumn column) => column.Kind switch
    {
        RunColumnKind.RunName => "12rem",
        RunColumnKind.Model or RunColumnKind.Strategy or RunColumnKind.Dataset => "8rem",
        _ => "7rem",
    };

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        state = RunsGridState.FromUri(Navigation.Uri);
        shownColumns = state.ShownColumns(parametersInView);
        // The first load writes the URL back in its normal form (defaults dropped).
        shownUrl = "/" + Navigation.ToBaseRelativePath(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
        await LoadExperimentsAsync();
        await LoadSavedViewsAsync();
    }

    private async Task LoadExperimentsAsync()
    {
        var all = await Stores.Experiments.ListExperimentsAsync();
        experimentsById = all.ToDictionary(e => e.Id, StringComparer.Ordinal);
        experiments = ExperimentChoices.Offered(all, state.ExperimentIds);
        foreach (var name in experiments.SelectMany(e => e.Spec.SearchSpace.Parameters.Select(p => p.Name))) parameterNames.Add(name);
        foreach (var name in MetricNames.Epoch.Concat(MetricNames.Final)) metricNames.Add(name);
        foreach (var column in state.Columns.Where(c => c.Kind is RunColumnKind.Metric or RunColumnKind.Parameter))
            (column.Kind == RunColumnKind.Metric ? metricNames : parameterNames).Add(column.Name);
    }

    private async Task LoadSavedViewsAsync()
    {
        try
        {
            (savedViews, savedViewsError) = (await Views.ListAsync(), null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            (savedViews, savedViewsError) = ([], e.Message);
        }
    }

    private async Task SaveViewAsync()
    {
        var dialog = await Dialogs.ShowAsync<SaveViewDialog>("Save this view", new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string name }) return;
        // The view starts at its first page: a saved page number would point at other runs once more arrive.
        await Views.SaveAsync(new SavedView(name, state.ToUrl(withPage: false), DateTimeOffset.UtcNow));
        await LoadSavedViewsAsync();
    }

    // The URL change brings the view in (OnLocationChanged), as a link to it would.
    private void OpenView(SavedView view) => Navigation.NavigateTo(view.Url);

    private async Task DeleteViewAsync(SavedView view)
    {
        await Views.DeleteAsync(view.Name);
        await LoadSavedViewsAsync();
    }

    private async Task<TableData<TrialRow>> LoadAsync(TableState tableState, CancellationToken cancel)
    {
        if (tableState.SortLabel is { } label)
            state.SortChanged(label, tableState.SortDirection switch { SortDirection.Descending => true, SortDirection.Ascending => false, _ => null });
        var query = state.ToQuery();
        try
        {
            page = await Stores.Trials.QueryTrialsAsync(query, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // A newer read (the filters changed again) replaced this one; PostgreSQL ends the old one with this
            // exception, which must not reach the circuit and end it. The table drops this answer.
            return new TableData<TrialRow> { Items = page?.Items ?? [], TotalItems = page?.Total ?? 0 };
        }
        foreach (var trial in page.Items.Select(r => r.Trial))
        {
            parameterNames.UnionWith(trial.Parameters.Keys);
            metricNames.UnionWith(trial.FinalMetrics.Keys);
            tagKeys.UnionWith(trial.RunTags.Keys.Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)));
        }
        // Groups cover every matching run, not the page: read as a stream, one running sum per group. Paging and
        // sorting leave them as they are; other filters, the grouping and the feed (see OnFeedEventAsync) do not.
        string? wanted = state.GroupBy is { } grouping
            ? $"{grouping}|{state.GroupMetric}|{TrialQueryString.ToQueryString(query with { SortBy = TrialSortField.CreatedAt, Descending = true }, paging: false)}"
            : null;
        if (wanted is null) (groups, groupsOf) = (null, null);
        else if (wanted != groupsOf)
        {
            try
            {
                groups = await RunGroups.ComputeAsync(Stores.Trials.ExportTrialsAsync(query with { Page = 0 }, cancel), state.GroupBy!.Value, state.GroupMetric, cancel);
                groupsOf = wanted;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // A newer read replaced this one (see above); it computes the groups again.
            }
        }
        if (state.Columns.Contains(RunColumn.SearchedParameters))
        {
            // The default columns show the parameters of every matching run, not only of this page; read again when the filters change.
            string filters = TrialQueryString.ToQueryString(query with { SortBy = TrialSortField.CreatedAt, Descending = true }, paging: false);
            if (filters != parametersOf)
            {
                try
                {
                    parametersInView = (await Stores.Trials.TrialFieldsAsync(query, cancel)).Parameters;
                    parametersOf = filters;
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    // A newer read replaced this one (see above); it reads them again.
                }
            }
        }
        shownColumns = state.ShownColumns(parametersInView);
        ShowInUrl();
        _ = InvokeAsync(StateHasChanged); // the pager and the pickers live outside the table
        return new TableData<TrialRow> { Items = page.Items, TotalItems = page.Total };
    }

    private void ShowInUrl()
    {
        var url = state.ToUrl();
        if (url == shownUrl) return;
        shownUrl = url;
        Navigation.NavigateTo(url, new NavigationOptions { ReplaceHistoryEntry = true });
    }

    // Back and forward (and links to /runs?... from elsewhere on the page) change the URL under the page: follow it.
    private void OnLocationChanged(object? sender, LocationChangedEventArgs e)
    {
        var path = Navigation.ToBaseRelativePath(e.Location);
        if (!path.Equals("runs", StringComparison.OrdinalIgnoreCase) && !path.StartsWith("runs?", StringComparison.OrdinalIgnoreCase)) return;
        var next = RunsGridState.FromUri(e.Location);
        if (next.ToUrl() == shownUrl) return;
        state = next;
        shownColumns = state.ShownColumns(parametersInView);
        shownUrl = state.ToUrl();
        // A new table, which reads its rows itself: the old one would keep its own sort and send it back over the URL's.
        tableGeneration++;
        _ = InvokeAsync(StateHasChanged);
    }

    private Task ReloadAsync() => table?.ReloadServerData() ?? Task.CompletedTask;

    private Task FiltersChangedAsync()
    {
        state.Page = 0;
        return ReloadAsync();
    }

    private Task OnGroupByChanged(string? value)
    {
        state.GroupBy = RunGrouping.TryParse(value, out var grouping) ? grouping : null;
        return ReloadAsync();
    }

    private Task OnGroupMetricChanged(string metric)
    {
        state.GroupMetric = metric;
        return ReloadAsync();
    }

    private static string GroupingTitle(RunGrouping grouping) => grouping.Kind == RunGroupingKind.Experiment ? "experiment" : grouping.Name;

    // A group's value as the grid writes numbers (5.379e-5, not 5.379E-05).
    private static string GroupValueText(RunGrouping grouping, string value) =>
        grouping.Kind == RunGroupingKind.Parameter && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double number)
            ? Format.Number(number) : value;

    private Task OnExperimentsChanged(IEnumerable<string> ids)
    {
        state.ExperimentIds = [.. ids];
        return FiltersChangedAsync();
    }

    private Task OnModelChanged(string model)
    {
        state.Model = model;
        return FiltersChangedAsync();
    }

    private Task OnStrategyChanged(string strategy)
    {
        state.Strategy = strategy;
        return FiltersChangedAsync();
    }

    private Task OnTagChanged(string? tag)
    {
        state.Tag = tag;
        return FiltersChangedAsync();
    }

    private Task OnTextChanged(string? text)
    {
        state.Text = text;
        return FiltersChangedAsync();
    }

    private Task OnStatesChanged(IReadOnlyCollection<TrialState> states)
    {
        state.States = [.. states.Order()];
        return FiltersChangedAsync();
    }

    private Task OnColumnsChanged(IEnumerable<string> columns)
    {
        var ticked = columns.Select(c => RunColumn.TryParse(c, out var column) ? column : (RunColumn?)null).OfType<RunColumn>().ToHashSet();
        // MudSelect reports the columns it is given too (as the parameters in view arrive): that changes nothing.
        if (ticked.SetEquals(shownColumns)) return Task.CompletedTask;
        // Once changed in the picker, the columns are the ones ticked, no longer "every parameter in view"; those
        // kept stay where they were, new ones go at the end.
        state.Columns = [.. shownColumns.Where(ticked.Contains), .. ticked.Except(shownColumns)];
        shownColumns = state.ShownColumns(parametersInView);
        ShowInUrl();
        return Task.CompletedTask;
    }

    private void OnRangeAdded() => state.Ranges.Add(new RangeFilterRow { Name = parameterNames.FirstOrDefault() ?? "" });

    private Task OnRangeRemoved(RangeFilterRow row)
    {
        state.Ranges.Remove(row);
        return FiltersChangedAsync();
    }

    private Task OnRangeKindChanged(RangeFilterRow row, bool isMetric)
    {
        row.IsMetric = isMetric;
        row.Name = (isMetric ? metricNames : parameterNames).FirstOrDefault() ?? "";
        return row.IsComplete ? FiltersChangedAsync() : Task.CompletedTask;
    }

    private Task OnRangeNameChanged(RangeFilterRow row, string name)
    {
        row.Name = name;
        return row.IsComplete ? FiltersChangedAsync() : Task.CompletedTask;
    }

    private Task OnRangeTextChanged(RangeFilterRow row, string? text)
    {
        row.Text = text ?? "";
        return FiltersChangedAsync();
    }

    private Task OnFiltersCleared()
    {
        (state.ExperimentIds, state.Model, state.Strategy, state.States, state.Tag, state.Text, state.Ranges) = ([], null, null, [], null, null, []);
        return FiltersChangedAsync();
    }

    private Task OnPageChanged(int selected)
    {
        state.Page = selected - 1;
        return ReloadAsync();
    }

    private Task OnPageSizeChanged(int size)
    {
        state.PageSize = size;
        return FiltersChangedAsync();
    }

    private async Task EditAnnotationsAsync(Trial trial)
    {
        var parameters = new DialogParameters<AnnotationsDialog>
        {
            { d => d.Number, trial.Number },
            { d => d.Tags, string.Join(", ", trial.Tags) },
            { d => d.Notes, trial.Notes ?? "" },
        };
        var dialog = await Dialogs.ShowAsync<AnnotationsDialog>("Tags and notes", parameters, new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: AnnotationsDialog.Result edit }) return;
        if (await Stores.Trials.UpdateTrialAnnotationsAsync(trial.Id, edit.Tags, edit.Notes) is { } updated) Feed.Publish(new TrialChanged(updated));
        await ReloadAsync();
    }

    private SortDirection Initial(string label) =>
        state.SortBy.ToString() != label ? SortDirection.None : state.Descending ? SortDirection.Descending : SortDirection.Ascending;

    private string ExperimentsText(List<string?>? ids) => string.Join(", ", (ids ?? []).Select(ExperimentName));

    // An experiment id as people read it: its name (an id stays as it is only while its experiment is unknown).
    private string ExperimentName(string? id) => id is not null && experimentsById.TryGetValue(id, out var e) ? e.Spec.Name : id ?? "";

    // A column's value in the picker (metric:val_f1_macro) as people read it (Metric: val_f1_macro).
    private static string ColumnLabel(string? value) => RunColumn.TryParse(value, out var column) ? column.Label : value ?? "";

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e is TrialChanged or ExperimentChanged;

    // Trials change every epoch; the grid re-queries at most once every few seconds rather than on every event.
    /// <inheritdoc />
    protected override async Task OnFeedEventAsync(FeedEvent e)
    {
        if (e is ExperimentChanged) await LoadExperimentsAsync();
        (groupsOf, parametersOf) = (null, null); // runs changed: the next read groups them and reads their parameters again
        if (refreshPending) return;
        refreshPending = true;
        _ = Task.Delay(RefreshDelay).ContinueWith(_ => InvokeAsync(async () =>
        {
            refreshPending = false;
            await ReloadAsync();
        }), TaskScheduler.Default);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        base.Dispose();
    }
}
