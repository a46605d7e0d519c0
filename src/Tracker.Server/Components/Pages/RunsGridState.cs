using Microsoft.AspNetCore.WebUtilities;
using Tracker.Abstractions;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Server.Components.Pages;

/// <summary>One row of the runs page's range builder: a parameter or metric and its filter text (e.g. <c>0.001..0.1</c>).</summary>
public sealed class RangeFilterRow
{
    /// <summary>Whether the row filters a final metric (else a searched parameter). Defaults to <c>false</c>.</summary>
    public bool IsMetric { get; set; }

    /// <summary>The parameter or metric name. Defaults to empty.</summary>
    public string Name { get; set; } = "";

    /// <summary>The filter in <see cref="ValueFilter"/>'s text form. Defaults to empty.</summary>
    public string Text { get; set; } = "";

    /// <summary>The query-string key of the row, e.g. <c>param.learning_rate</c>.</summary>
    public string Key => $"{(IsMetric ? "metric" : "param")}.{Name}";

    /// <summary>Whether the row is filled in enough to filter.</summary>
    public bool IsComplete => Name.Trim().Length > 0 && Text.Trim().Length > 0;

    /// <summary>What is wrong with a complete row, or <c>null</c>.</summary>
    public string? Error => !IsComplete ? null
        : !ValueFilter.TryParse(Text, out var filter, out var error) ? error
        : IsMetric && !filter.IsRange ? $"'{Text}' is not a number or a range such as 0.8.. or 0.1..0.5."
        : null;
}

/// <summary>
/// Everything the runs page shows, as plain state: the filters, the chosen columns, the order and the page. It turns into a
/// <see cref="TrialQuery"/> for the store, and into and out of the page's URL so that a view can be shared as a link.
/// </summary>
public sealed class RunsGridState
{
    /// <summary>The page's path.</summary>
    public const string Path = "/runs";

    /// <summary>The query-string key of a shown column (repeated, one per column; see <see cref="RunColumn"/>).</summary>
    public const string ColumnKey = "col";

    /// <summary>The query-string key of the grouping (<c>param:lr</c>, <c>tag:team</c> or <c>experiment</c>).</summary>
    public const string GroupKey = "group";

    /// <summary>The query-string key of the metric summarised per group.</summary>
    public const string GroupMetricKey = "groupMetric";

    /// <summary>
    /// The columns shown when the URL names none: as MLflow's and W&amp;B's run tables, what the run is (name, model,
    /// strategy, data set), every parameter of the runs in view, then the headline metrics.
    /// </summary>
    public static IReadOnlyList<RunColumn> DefaultColumns { get; } =
    [
        .. RunColumn.Descriptive, RunColumn.SearchedParameters, RunColumn.Metric(MetricNames.ValF1Macro), RunColumn.Metric(MetricNames.ValLoss),
    ];

    /// <summary>The page sizes offered.</summary>
    public static IReadOnlyList<int> PageSizes { get; } = [25, 50, 100, 250, 500];

    /// <summary>Only these experiments (all when empty). Defaults to empty.</summary>
    public List<string> ExperimentIds { get; set; } = [];

    /// <summary>Only this model plugin, or any. Defaults to <c>null</c>.</summary>
    public string? Model { get; set; }

    /// <summary>Only this strategy plugin, or any. Defaults to <c>null</c>.</summary>
    public string? Strategy { get; set; }

    /// <summary>Only these states (all when empty). Defaults to empty.</summary>
    public List<TrialState> States { get; set; } = [];

    /// <summary>Only trials with this tag, or any. Defaults to <c>null</c>.</summary>
    public string? Tag { get; set; }

    /// <summary>Free text, or <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Text { get; set; }

    /// <summary>The range builder's rows; incomplete or wrong rows do not filter. Defaults to none.</summary>
    public List<RangeFilterRow> Ranges { get; set; } = [];

    /// <summary>The columns chosen, in order (see <see cref="ShownColumns"/> for those shown). Defaults to <see cref="DefaultColumns"/>.</summary>
    public List<RunColumn> Columns { get; set; } = [.. DefaultColumns];

    /// <summary>The sort key. Defaults to creation time.</summary>
    public TrialSortField SortBy { get; set; } = TrialSortField.CreatedAt;

    /// <summary>Whether the order is descending. Defaults to <c>true</c> (newest first).</summary>
    public bool Descending { get; set; } = true;

    /// <summary>What the runs are grouped by, or <c>null</c> for no groups. Defaults to <c>null</c>.</summary>
    public RunGrouping? GroupBy { get; set; }

    /// <summary>The final metric summarised per group. Defaults to <see cref="MetricNames.ValF1Macro"/>.</summary>
    public string GroupMetric { get; set; } = MetricNames.ValF1Macro;

    /// <summary>The page, from 0. Defaults to 0.</summary>
    public int Page { get; set; }

    /// <summary>Rows per page. Defaults to <see cref="TrialQuery.DefaultPageSize"/>.</summary>
    public int PageSize { get; set; } = TrialQuery.DefaultPageSize;

    /// <summary>What the URL held that could not be understood, by query-string key; empty when all was well.</summary>
    public IReadOnlyDictionary<string, string[]> UrlErrors { get; private set; } = new Dictionary<string, string[]>();

    /// <summary>Whether any filter is set (the order, page and columns aside).</summary>
    public bool HasFilters => ExperimentIds.Count > 0 || !string.IsNullOrEmpty(Model) || !string.IsNullOrEmpty(Strategy) || States.Count > 0
                              || !string.IsNullOrWhiteSpace(Tag) || !string.IsNullOrWhiteSpace(Text) || Ranges.Any(r => r.IsComplete);

    /// <summary>The store query: complete, valid range rows only (the last row of a name wins).</summary>
    public TrialQuery ToQuery()
    {
        Dictionary<string, ValueFilter> parameters = new(StringComparer.Ordinal), metrics = new(StringComparer.Ordinal);
        foreach (var row in Ranges.Where(r => r.IsComplete && r.Error is null))
        {
            ValueFilter.TryParse(row.Text, out var filter, out _);
            (row.IsMetric ? metrics : parameters)[row.Name.Trim()] = filter;
        }
        return new TrialQuery
        {
            ExperimentIds = [.. ExperimentIds],
            Model = Blank(Model),
            Strategy = Blank(Strategy),
            States = [.. States],
            Tag = Blank(Tag),
            Text = Blank(Text),
            Parameters = parameters,
            Metrics = metrics,
            SortBy = SortBy,
            Descending = Descending,
            Page = Page,
            PageSize = PageSize,
        };
    }

    /// <summary>The state that shows <paramref name="query"/> with <paramref name="columns"/> (the default ones when <c>null</c>).</summary>
    public static RunsGridState FromQuery(TrialQuery query, IEnumerable<RunColumn>? columns = null) => new()
    {
        ExperimentIds = [.. query.ExperimentIds],
        Model = query.Model,
        Strategy = query.Strategy,
        States = [.. query.States],
        Tag = query.Tag,
        Text = query.Text,
        Ranges =
        [
            .. query.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new RangeFilterRow { Name = p.Key, Text = p.Value.ToString() }),
            .. query.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new RangeFilterRow { IsMetric = true, Name = p.Key, Text = p.Value.ToString() }),
        ],
        Columns = columns is null ? [.. DefaultColumns] : [.. columns],
        SortBy = query.SortBy,
        Descending = query.Descending,
        Page = query.Page,
        PageSize = query.PageSize,
    };

    /// <summary>Reads the state from a page URL (absolute or relative); what it cannot read is in <see cref="UrlErrors"/>.</summary>
    public static RunsGridState FromUri(string uri)
    {
        int at = uri.IndexOf('?');
        var pairs = at < 0 ? [] : QueryHelpers.ParseQuery(uri[at..].Split('#')[0]);
        var parse = TrialQueryString.Parse(pairs.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v))));
        var errors = parse.Errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.OrdinalIgnoreCase);
        List<RunColumn>? columns = null;
        if (pairs.TryGetValue(ColumnKey, out var values))
        {
            columns = [];
            foreach (var value in values.Where(v => !string.IsNullOrEmpty(v)))
            {
                if (RunColumn.TryParse(value, out var column)) columns.Add(column);
                else errors[ColumnKey] = [.. errors.GetValueOrDefault(ColumnKey) ?? [],
                    $"'{value}' is not a column; use runName, model, strategy, dataset, params, metric:<name> or param:<name>."];
            }
        }
        var state = FromQuery(parse.Query, columns?.Distinct());
        if (pairs.TryGetValue(GroupKey, out var group) && group.ToString() is { Length: > 0 } groupText)
        {
            if (RunGrouping.TryParse(groupText, out var grouping)) state.GroupBy = grouping;
            else errors[GroupKey] = [$"'{groupText}' is not a grouping; use param:<name>, tag:<key> or experiment."];
        }
        if (pairs.TryGetValue(GroupMetricKey, out var metric) && metric.ToString() is { Length: > 0 } metricText) state.GroupMetric = metricText;
        state.UrlErrors = errors;
        return state;
    }

    /// <summary>
    /// The columns shown: <see cref="Columns"/> with <see cref="RunColumn.SearchedParameters"/> standing for
    /// <paramref name="parametersInView"/>, and the sort key's column at the end when no other shows it, since the
    /// sort's direction is shown in its header.
    /// </summary>
    public IReadOnlyList<RunColumn> ShownColumns(IEnumerable<string> parametersInView)
    {
        var shown = Columns.SelectMany(c => c.Kind == RunColumnKind.SearchedParameters ? parametersInView.Select(RunColumn.Parameter) : [c]).Distinct().ToList();
        if (RunColumn.Of(SortBy) is { } sorted && !shown.Contains(sorted)) shown.Add(sorted);
        return shown;
    }

    /// <summary>The page URL that shows this state (path and query string); without the page number when <paramref name="withPage"/> is <c>false</c>.</summary>
    public string ToUrl(bool withPage = true)
    {
        var pairs = TrialQueryString.ToPairs(withPage ? ToQuery() : ToQuery() with { Page = 0 }).ToList();
        if (!Columns.SequenceEqual(DefaultColumns))
            pairs.AddRange(Columns.Count == 0 ? [new(ColumnKey, "")] : Columns.Select(c => new KeyValuePair<string, string>(ColumnKey, c.ToString())));
        if (GroupBy is { } grouping)
        {
            pairs.Add(new(GroupKey, grouping.ToString()));
            if (GroupMetric != MetricNames.ValF1Macro) pairs.Add(new(GroupMetricKey, GroupMetric));
        }
        return pairs.Count == 0 ? Path : $"{Path}?{TrialQueryString.Encode(pairs)}";
    }

    /// <summary>The export endpoint's URL for this state's filters and order (every page) in <paramref name="format"/> (csv or json).</summary>
    public string ExportUrl(string format) =>
        $"/api/trials/export?{TrialQueryString.Encode([new("format", format), .. TrialQueryString.ToPairs(ToQuery(), paging: false)])}";

    /// <summary>Applies a sort chosen in the grid: a new key or direction starts again at the first page.</summary>
    public void SortChanged(string? label, bool? descending)
    {
        var field = TrialSortField.TryParse(label, out var parsed) && descending is not null ? parsed : TrialSortField.CreatedAt;
        bool desc = descending ?? true;
        if (field == SortBy && desc == Descending) return;
        (SortBy, Descending, Page) = (field, desc, 0);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
