using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

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

    /// <summary>
    /// Conditions on logged runs' fields, all of which must hold (MLflow's <c>runs/search</c> filter, translated by the
    /// MLflow endpoints). A trial without the named field never matches, not even <c>!=</c>. Defaults to none.
    /// </summary>
    public IReadOnlyList<TrialCondition> Conditions { get; init; } = [];

    /// <summary>
    /// Sort keys in order of precedence; when not empty they replace <see cref="SortBy"/> and <see cref="Descending"/>.
    /// Trials without a value (or NaN) for a key come after those with one, in either direction; ties are broken by start
    /// time (<see cref="Trial.StartedAt"/>, else <see cref="Trial.CreatedAt"/>) newest first, then by id (ordinal). Defaults to none.
    /// </summary>
    public IReadOnlyList<TrialOrder> OrderBy { get; init; } = [];

    /// <summary>Only trials in one of these lifecycle stages; any when empty. Defaults to empty.</summary>
    public IReadOnlyList<LifecycleStage> Lifecycles { get; init; } = [];

    /// <summary>Only runs that logging clients recorded (<see cref="Trial.Logged"/> set). Defaults to <c>false</c>.</summary>
    public bool LoggedOnly { get; init; }

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

/// <summary>What a <see cref="TrialField"/> names.</summary>
public enum TrialFieldKind
{
    /// <summary>A final (latest) metric value, <see cref="Trial.FinalMetrics"/>; compared as a number.</summary>
    Metric,

    /// <summary>A parameter's text: the logged text (<see cref="LoggedRunInfo.Params"/>) of a logged run, else <see cref="ParameterValue.Text"/>; compared as a string.</summary>
    Param,

    /// <summary>A run tag, <see cref="Trial.RunTags"/>; compared as a string.</summary>
    RunTag,

    /// <summary>A field of the trial itself, <see cref="TrialAttribute"/>.</summary>
    Attribute,
}

/// <summary>Fields of a trial that conditions and orders can name.</summary>
public enum TrialAttribute
{
    /// <summary>Milliseconds since the Unix epoch of <see cref="Trial.StartedAt"/>, else <see cref="Trial.CreatedAt"/> (a number).</summary>
    StartTime,

    /// <summary>Milliseconds since the Unix epoch of <see cref="Trial.FinishedAt"/>; absent while running (a number).</summary>
    EndTime,

    /// <summary>The run tag <c>mlflow.runName</c> (a string).</summary>
    RunName,

    /// <summary><see cref="Trial.Id"/> (a string).</summary>
    Id,

    /// <summary><see cref="LoggedRunInfo.UserId"/> (a string; absent for trials that were not logged).</summary>
    UserId,

    /// <summary><see cref="LoggedRunInfo.ArtifactUri"/> (a string; absent for trials that were not logged).</summary>
    ArtifactUri,

    /// <summary><see cref="Trial.ExperimentId"/> (a string).</summary>
    ExperimentId,

    /// <summary><see cref="Trial.LifecycleStage"/> as <c>active</c> or <c>deleted</c> (a string).</summary>
    LifecycleStage,

    /// <summary><see cref="Trial.State"/> as its camel-case name, e.g. <c>completed</c> (a string).</summary>
    State,

    /// <summary>
    /// The run status tracking clients know (<see cref="RunStatusNames.Of"/>): <c>SCHEDULED</c>, <c>RUNNING</c>,
    /// <c>FINISHED</c>, <c>FAILED</c> or <c>KILLED</c> (a string; several states share <c>KILLED</c>).
    /// </summary>
    RunStatus,
}

/// <summary>The run status of a trial state, as MLflow and other tracking clients name it.</summary>
public static class RunStatusNames
{
    /// <summary>
    /// Queued → <c>SCHEDULED</c>, running → <c>RUNNING</c>, completed → <c>FINISHED</c>, failed → <c>FAILED</c>; pruned and
    /// interrupted trials were stopped before their end, <c>KILLED</c>.
    /// </summary>
    public static string Of(TrialState state) => state switch
    {
        TrialState.Queued => "SCHEDULED",
        TrialState.Running => "RUNNING",
        TrialState.Completed => "FINISHED",
        TrialState.Failed => "FAILED",
        _ => "KILLED",
    };
}

/// <summary>A field of a trial: a metric, param or run tag by name, or an attribute.</summary>
/// <param name="Kind">What it names.</param>
/// <param name="Name">The metric, param or tag name; <c>""</c> for attributes.</param>
/// <param name="Attribute">The attribute, for <see cref="TrialFieldKind.Attribute"/>.</param>
public readonly record struct TrialField(TrialFieldKind Kind, string Name, TrialAttribute Attribute = default)
{
    /// <summary>A metric.</summary>
    public static TrialField Metric(string name) => new(TrialFieldKind.Metric, name);

    /// <summary>A param.</summary>
    public static TrialField Param(string name) => new(TrialFieldKind.Param, name);

    /// <summary>A run tag.</summary>
    public static TrialField RunTag(string name) => new(TrialFieldKind.RunTag, name);

    /// <summary>An attribute.</summary>
    public static TrialField Of(TrialAttribute attribute) => new(TrialFieldKind.Attribute, "", attribute);

    /// <summary>Whether the field's values are numbers (metrics, start and end time) rather than strings.</summary>
    public bool IsNumeric => Kind == TrialFieldKind.Metric
        || Kind == TrialFieldKind.Attribute && Attribute is TrialAttribute.StartTime or TrialAttribute.EndTime;
}

/// <summary>
/// One condition on a trial's field. Numeric fields take a <see cref="SearchValue.Number"/> with <c>= != &gt; &gt;=
/// &lt; &lt;=</c>; string fields take a <see cref="SearchValue.Text"/> with <c>= != LIKE ILIKE</c>, or
/// <see cref="SearchValue.Items"/> with <c>IN</c> and <c>NOT IN</c>. <c>LIKE</c> patterns (<c>%</c> any text,
/// <c>_</c> one character) are matched in time linear in the text, whatever the pattern.
/// </summary>
/// <param name="Field">The field.</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Value">What the field is compared with.</param>
public sealed record TrialCondition(TrialField Field, SearchOperator Operator, SearchValue Value);

/// <summary>One sort key of <see cref="TrialQuery.OrderBy"/>.</summary>
/// <param name="Field">The field; numbers sort numerically, strings ordinally.</param>
/// <param name="Ascending">The direction.</param>
public sealed record TrialOrder(TrialField Field, bool Ascending);
