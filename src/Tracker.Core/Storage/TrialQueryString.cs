using System.Globalization;
using Tracker.Abstractions;

namespace Tracker.Core.Storage;

/// <summary>A parsed query string: the query, and what was wrong by parameter name (empty when nothing was).</summary>
/// <param name="Query">The query, with defaults wherever a parameter was missing or wrong.</param>
/// <param name="Errors">Messages by query-string parameter name (e.g. <c>param.lr</c>).</param>
public sealed record TrialQueryParse(TrialQuery Query, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>Whether every parameter was understood.</summary>
    public bool Succeeded => Errors.Count == 0;
}

/// <summary>
/// The one text form of a <see cref="TrialQuery"/>, shared by the REST API and the dashboard's URLs:
/// <c>experiment=&amp;model=&amp;strategy=&amp;state=&amp;tag=&amp;q=&amp;param.lr=0.001..0.1&amp;metric.val_f1_macro=0.8..&amp;sort=metric:val_f1_macro&amp;desc=true&amp;page=0&amp;pageSize=50</c>.
/// <c>experiment</c> and <c>state</c> may repeat or hold comma-separated lists. Other parameters are ignored.
/// </summary>
public static class TrialQueryString
{
    /// <summary>Reads a query from query-string pairs (keys case-insensitive).</summary>
    public static TrialQueryParse Parse(IEnumerable<KeyValuePair<string, string?>> pairs)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        void Error(string key, string message) => (errors.TryGetValue(key, out var list) ? list : errors[key] = []).Add(message);

        var experiments = new List<string>();
        var states = new List<TrialState>();
        var parameters = new Dictionary<string, ValueFilter>(StringComparer.Ordinal);
        var metrics = new Dictionary<string, ValueFilter>(StringComparer.Ordinal);
        var query = new TrialQuery();
        foreach (var (rawKey, rawValue) in pairs)
        {
            string key = rawKey.Trim(), value = rawValue?.Trim() ?? "";
            if (key.StartsWith("param.", StringComparison.OrdinalIgnoreCase) || key.StartsWith("metric.", StringComparison.OrdinalIgnoreCase))
            {
                bool isMetric = key.StartsWith("metric.", StringComparison.OrdinalIgnoreCase);
                string name = key[(key.IndexOf('.') + 1)..];
                if (name.Length == 0) { Error(key, "Name the parameter or metric after the dot, e.g. param.learning_rate=0.001..0.1."); continue; }
                if (value.Length == 0) continue;
                if (!ValueFilter.TryParse(value, out var filter, out var error)) Error(key, error!);
                else if (isMetric && !filter.IsRange) Error(key, $"'{value}' is not a number or a range such as 0.8.. or 0.1..0.5.");
                else (isMetric ? metrics : parameters)[name] = filter;
                continue;
            }
            switch (key.ToLowerInvariant())
            {
                case "experiment":
                    experiments.AddRange(List(value));
                    break;
                case "model":
                    query = query with { Model = NullIfEmpty(value) };
                    break;
                case "strategy":
                    query = query with { Strategy = NullIfEmpty(value) };
                    break;
                case "state":
                    foreach (var item in List(value))
                    {
                        if (Enum.TryParse<TrialState>(item, ignoreCase: true, out var state) && Enum.IsDefined(state)) states.Add(state);
                        else Error(key, $"'{item}' is not a trial state; use {string.Join(", ", Enum.GetNames<TrialState>().Select(Camel))}.");
                    }
                    break;
                case "tag":
                    query = query with { Tag = NullIfEmpty(value) };
                    break;
                case "q":
                    query = query with { Text = NullIfEmpty(value) };
                    break;
                case "sort":
                    if (value.Length == 0) break;
                    if (TrialSortField.TryParse(value, out var sort)) query = query with { SortBy = sort };
                    else Error(key, $"'{value}' is not a sort key; use number, state, createdAt, finishedAt, objective, metric:<name> or param:<name>.");
                    break;
                case "desc":
                    if (value.Length == 0) break;
                    if (bool.TryParse(value, out var desc)) query = query with { Descending = desc };
                    else if (value is "0" or "1") query = query with { Descending = value == "1" };
                    else Error(key, $"'{value}' is not true or false.");
                    break;
                case "page":
                    if (value.Length == 0) break;
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var page)) query = query with { Page = page };
                    else Error(key, $"'{value}' is not a page number (0 or more).");
                    break;
                case "pagesize":
                    if (value.Length == 0) break;
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= TrialQuery.MaxPageSize)
                        query = query with { PageSize = size };
                    else Error(key, $"'{value}' is not a page size from 1 to {TrialQuery.MaxPageSize}.");
                    break;
            }
        }
        query = query with
        {
            ExperimentIds = experiments.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            States = states.Distinct().ToList(),
            Parameters = parameters,
            Metrics = metrics,
        };
        return new TrialQueryParse(query, errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The query as query-string pairs, leaving out what is at its default.</summary>
    public static IEnumerable<KeyValuePair<string, string>> ToPairs(TrialQuery query, bool paging = true)
    {
        var defaults = new TrialQuery();
        if (query.ExperimentIds.Count > 0) yield return new("experiment", string.Join(',', query.ExperimentIds));
        if (!string.IsNullOrEmpty(query.Model)) yield return new("model", query.Model);
        if (!string.IsNullOrEmpty(query.Strategy)) yield return new("strategy", query.Strategy);
        if (query.States.Count > 0) yield return new("state", string.Join(',', query.States.Select(s => Camel(s.ToString()))));
        if (!string.IsNullOrEmpty(query.Tag)) yield return new("tag", query.Tag);
        if (!string.IsNullOrEmpty(query.Text)) yield return new("q", query.Text);
        foreach (var (name, filter) in query.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) yield return new($"param.{name}", filter.ToString());
        foreach (var (name, filter) in query.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal)) yield return new($"metric.{name}", filter.ToString());
        if (query.SortBy != defaults.SortBy) yield return new("sort", query.SortBy.ToString());
        if (query.Descending != defaults.Descending) yield return new("desc", query.Descending ? "true" : "false");
        if (!paging) yield break;
        if (query.Page != 0) yield return new("page", query.Page.ToString(CultureInfo.InvariantCulture));
        if (query.PageSize != defaults.PageSize) yield return new("pageSize", query.PageSize.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>URL-encoded pairs joined with <c>&amp;</c>, without a leading <c>?</c>.</summary>
    public static string Encode(IEnumerable<KeyValuePair<string, string>> pairs) =>
        string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));

    /// <summary>The query as a URL query string, without a leading <c>?</c>.</summary>
    public static string ToQueryString(TrialQuery query, bool paging = true) => Encode(ToPairs(query, paging));

    private static IEnumerable<string> List(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string Camel(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);
}
