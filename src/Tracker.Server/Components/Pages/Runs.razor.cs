using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;
using Tracker.Abstractions;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using Tracker.Server.Components.Shared;

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

    private RunsGridState state = new();
    private MudTable<TrialRow>? table;
    private List<Experiment> experiments = [];
    private SortedSet<string> parameterNames = new(StringComparer.Ordinal), metricNames = new(StringComparer.Ordinal);
    private TrialQueryResult? page;
    private SortedSet<string> tagKeys = new(StringComparer.Ordinal); // run tags' keys seen on pages, to group by
    private IReadOnlyList<RunGroup>? groups; // the groups of every matching run, when grouped
    private string? groupsOf; // what groups were computed for (grouping, metric and filters); null: compute again
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

    /// <summary>The columns the picker offers: the shown ones first, then every known parameter and metric.</summary>
    private IEnumerable<TrialSortField> ColumnChoices =>
        state.Columns
            .Concat(parameterNames.Select(TrialSortField.Parameter))
            .Concat(metricNames.Select(TrialSortField.Metric))
            .Distinct();

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        state = RunsGridState.FromUri(Navigation.Uri);
        if (state.SortBy.Kind is TrialSortKind.Metric or TrialSortKind.Parameter && !state.Columns.Contains(state.SortBy))
            state.Columns.Add(state.SortBy); // the sort needs its header
        // The first load writes the URL back in its normal form (defaults dropped, the sort's column added).
        shownUrl = "/" + Navigation.ToBaseRelativePath(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
        await LoadExperimentsAsync();
    }

    private async Task LoadExperimentsAsync()
    {
        experiments = ExperimentChoices.Offered(await Stores.Experiments.ListExperimentsAsync(), state.ExperimentIds);
        foreach (var name in experiments.SelectMany(e => e.Spec.SearchSpace.Parameters.Select(p => p.Name))) parameterNames.Add(name);
        foreach (var name in MetricNames.Epoch.Concat(MetricNames.Final)) metricNames.Add(name);
        foreach (var column in state.Columns) (column.Kind == TrialSortKind.Metric ? metricNames : parameterNames).Add(column.Name ?? "");
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
        shownUrl = state.ToUrl();
        _ = InvokeAsync(ReloadAsync);
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
        state.Columns = [.. columns.Select(c => TrialSortField.TryParse(c, out var f) ? f : default).Where(f => f.Kind is TrialSortKind.Metric or TrialSortKind.Parameter)];
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

    private string ExperimentsText(List<string> ids) =>
        string.Join(", ", ids.Select(id => experiments.FirstOrDefault(e => e.Id == id)?.Spec.Name ?? id));

    // A column's value in the picker (metric:val_f1_macro) as people read it (val_f1_macro).
    private static string ColumnLabel(string? value) => TrialSortField.TryParse(value, out var column) ? ColumnTitle(column) : value ?? "";

    private static string ColumnTitle(TrialSortField column) => column.Kind == TrialSortKind.Parameter ? $"{column.Name} (param)" : column.Name ?? "";

    internal static string CellText(Trial trial, TrialSortField column) => column.Kind switch
    {
        TrialSortKind.Parameter => trial.Parameters.TryGetValue(column.Name ?? "", out var value) ? Format.Value(value) : "–",
        TrialSortKind.Metric => Format.Metric(trial.FinalMetrics.TryGetValue(column.Name ?? "", out var metric) ? metric : null),
        _ => "",
    };

    /// <inheritdoc />
    protected override bool Wants(FeedEvent e) => e is TrialChanged or ExperimentChanged;

    // Trials change every epoch; the grid re-queries at most once every few seconds rather than on every event.
    /// <inheritdoc />
    protected override async Task OnFeedEventAsync(FeedEvent e)
    {
        if (e is ExperimentChanged) await LoadExperimentsAsync();
        groupsOf = null; // runs changed: the next read groups them again
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
