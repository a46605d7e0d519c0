using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// One page of the trials of every experiment: which trials (every filter must hold), in which order, which page.
/// The store filters, sorts and pages; nothing here loads trials.
/// </summary>
public sealed record TrialQuery
{
    /// <summary>The largest page a query may ask for.</summary>
    public const int MaxPageSize = 500;

    /// <summary>The page size when none is given.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>Only trials of these experiments; all experiments when empty. Defaults to empty.</summary>
    public IReadOnlyList<string> ExperimentIds { get; init; } = [];

    /// <summary>Only trials of experiments of this model plugin, or any model when <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Model { get; init; }

    /// <summary>Only trials of experiments of this strategy plugin, or any strategy when <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Strategy { get; init; }

    /// <summary>Only trials in one of these states; any state when empty. Defaults to empty.</summary>
    public IReadOnlyList<TrialState> States { get; init; } = [];

    /// <summary>Only trials with this tag (case-insensitive), or any when <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Tag { get; init; }

    /// <summary>Filters on the searched parameters (<see cref="Trial.Parameters"/>) by name. Defaults to none.</summary>
    public IReadOnlyDictionary<string, ValueFilter> Parameters { get; init; } = new Dictionary<string, ValueFilter>();

    /// <summary>Filters on the final metrics (<see cref="Trial.FinalMetrics"/>) by name; ranges only. Defaults to none.</summary>
    public IReadOnlyDictionary<string, ValueFilter> Metrics { get; init; } = new Dictionary<string, ValueFilter>();

    /// <summary>
    /// Free text, case-insensitive, found anywhere in the experiment's name, the trial's id, notes, tags or string
    /// parameter values; <c>null</c> for none. Defaults to <c>null</c>.
    /// </summary>
    public string? Text { get; init; }

    /// <summary>The sort key. Defaults to <see cref="TrialSortField.CreatedAt"/>.</summary>
    public TrialSortField SortBy { get; init; } = TrialSortField.CreatedAt;

    /// <summary>Whether the order is descending. Trials without a value for the key come last either way. Defaults to <c>true</c>.</summary>
    public bool Descending { get; init; } = true;

    /// <summary>The page, from 0. Defaults to 0.</summary>
    public int Page { get; init; }

    /// <summary>Trials per page, 1 to <see cref="MaxPageSize"/>; the store clamps other values. Defaults to <see cref="DefaultPageSize"/>.</summary>
    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>Whether a trial of an experiment with <paramref name="spec"/> may match the experiment-level filters.</summary>
    public bool MatchesExperiment(string experimentId, ExperimentSpec spec) =>
        (ExperimentIds.Count == 0 || ExperimentIds.Contains(experimentId, StringComparer.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(Model) || string.Equals(spec.Model, Model, StringComparison.OrdinalIgnoreCase))
        && (string.IsNullOrEmpty(Strategy) || string.Equals(spec.Strategy, Strategy, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A trial with the experiment fields lists show beside it.</summary>
/// <param name="Trial">The trial.</param>
/// <param name="ExperimentName">Its experiment's name ("" when the experiment is gone).</param>
/// <param name="Model">Its experiment's model plugin.</param>
/// <param name="Strategy">Its experiment's strategy plugin.</param>
public sealed record TrialRow(Trial Trial, string ExperimentName, string Model, string Strategy);

/// <summary>One page of a <see cref="TrialQuery"/>.</summary>
/// <param name="Items">The trials of the page, in order.</param>
/// <param name="Total">How many trials match, on all pages.</param>
/// <param name="Page">The page, from 0.</param>
/// <param name="PageSize">The page size used (after clamping).</param>
public sealed record TrialQueryResult(IReadOnlyList<TrialRow> Items, int Total, int Page, int PageSize);

/// <summary>Names of the searched parameters and final metrics some trials have, each in ordinal order.</summary>
/// <param name="Parameters">Parameter names.</param>
/// <param name="Metrics">Final-metric names.</param>
public sealed record TrialFieldNames(IReadOnlyList<string> Parameters, IReadOnlyList<string> Metrics);

/// <summary>
/// A filter on one parameter or metric: a numeric range with either end open (both ends inclusive), or an exact
/// string. Text form: <c>0.001..0.1</c>, <c>0.8..</c>, <c>..0.5</c>, <c>0.5</c> (exactly), <c>adam</c> (exactly).
/// </summary>
public sealed record ValueFilter
{
    private ValueFilter(double? min, double? max, string? text) => (Min, Max, Text) = (min, max, text);

    /// <summary>The least value, or <c>null</c> for no lower bound.</summary>
    public double? Min { get; }

    /// <summary>The greatest value, or <c>null</c> for no upper bound.</summary>
    public double? Max { get; }

    /// <summary>The exact string, or <c>null</c> when this is a range.</summary>
    public string? Text { get; }

    /// <summary>Whether this is a numeric range (rather than an exact string).</summary>
    public bool IsRange => Text is null;

    /// <summary>A range; <c>null</c> leaves that end open. Both ends inclusive; non-finite values never match.</summary>
    public static ValueFilter Range(double? min, double? max) =>
        min is { } lo && max is { } hi && lo > hi ? throw new ArgumentException($"The range {lo}..{hi} is empty.") : new(min, max, null);

    /// <summary>An exact string.</summary>
    public static ValueFilter Exactly(string text) => new(null, null, text ?? throw new ArgumentNullException(nameof(text)));

    /// <summary>Parses the text form; <paramref name="error"/> says what is wrong when it returns <c>false</c>.</summary>
    public static bool TryParse(string? text, out ValueFilter filter, out string? error)
    {
        filter = Range(null, null);
        error = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "The filter is empty; write a range such as 0.1..0.5, 0.8.. or ..0.5, a number, or a text value.";
            return false;
        }
        int dots = text.IndexOf("..", StringComparison.Ordinal);
        if (dots < 0)
        {
            filter = TryNumber(text, out var exact) ? Range(exact, exact) : Exactly(text);
            return true;
        }
        string low = text[..dots].Trim(), high = text[(dots + 2)..].Trim();
        double? min = null, max = null;
        if (low.Length > 0) { if (TryNumber(low, out var v)) min = v; else { error = $"'{low}' is not a number."; return false; } }
        if (high.Length > 0) { if (TryNumber(high, out var v)) max = v; else { error = $"'{high}' is not a number."; return false; } }
        if (min > max)
        {
            error = $"The range {low}..{high} is empty: its lower end is above its upper end.";
            return false;
        }
        filter = Range(min, max);
        return true;
    }

    /// <summary>The text form, which <see cref="TryParse"/> reads back.</summary>
    public override string ToString() =>
        Text ?? (Min == Max && Min is { } exact ? Number(exact) : $"{(Min is { } lo ? Number(lo) : "")}..{(Max is { } hi ? Number(hi) : "")}");

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}

/// <summary>What trials can be sorted by.</summary>
public enum TrialSortKind
{
    /// <summary>The number within the experiment.</summary>
    Number,

    /// <summary>The state's name.</summary>
    State,

    /// <summary>When the strategy asked for the trial.</summary>
    CreatedAt,

    /// <summary>When the trial ended.</summary>
    FinishedAt,

    /// <summary>The final objective.</summary>
    Objective,

    /// <summary>A final metric, named by <see cref="TrialSortField.Name"/>.</summary>
    Metric,

    /// <summary>A searched parameter, named by <see cref="TrialSortField.Name"/>.</summary>
    Parameter,
}

/// <summary>
/// A sort key. Text form: <c>number</c>, <c>state</c>, <c>createdAt</c>, <c>finishedAt</c>, <c>objective</c>,
/// <c>metric:&lt;name&gt;</c>, <c>param:&lt;name&gt;</c>.
/// </summary>
/// <param name="Kind">What to sort by.</param>
/// <param name="Name">The metric or parameter name for <see cref="TrialSortKind.Metric"/> and <see cref="TrialSortKind.Parameter"/>.</param>
public readonly record struct TrialSortField(TrialSortKind Kind, string? Name = null)
{
    /// <summary>By creation time.</summary>
    public static TrialSortField CreatedAt => new(TrialSortKind.CreatedAt);

    /// <summary>By a final metric.</summary>
    public static TrialSortField Metric(string name) => new(TrialSortKind.Metric, name);

    /// <summary>By a searched parameter.</summary>
    public static TrialSortField Parameter(string name) => new(TrialSortKind.Parameter, name);

    /// <summary>Parses the text form (case-insensitive keywords).</summary>
    public static bool TryParse(string? text, out TrialSortField field)
    {
        field = CreatedAt;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (Prefixed(text, "metric:", out var metric)) { field = Metric(metric); return true; }
        if (Prefixed(text, "param:", out var param)) { field = Parameter(param); return true; }
        TrialSortKind? kind = text.ToLowerInvariant() switch
        {
            "number" => TrialSortKind.Number,
            "state" => TrialSortKind.State,
            "createdat" => TrialSortKind.CreatedAt,
            "finishedat" => TrialSortKind.FinishedAt,
            "objective" => TrialSortKind.Objective,
            _ => null,
        };
        if (kind is null) return false;
        field = new TrialSortField(kind.Value);
        return true;
    }

    /// <summary>The text form, which <see cref="TryParse"/> reads back.</summary>
    public override string ToString() => Kind switch
    {
        TrialSortKind.Metric => $"metric:{Name}",
        TrialSortKind.Parameter => $"param:{Name}",
        TrialSortKind.CreatedAt => "createdAt",
        TrialSortKind.FinishedAt => "finishedAt",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    private static bool Prefixed(string text, string prefix, out string name)
    {
        name = "";
        if (!text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || text.Length == prefix.Length) return false;
        name = text[prefix.Length..];
        return true;
    }
}
