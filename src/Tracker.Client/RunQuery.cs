using System.Globalization;
using System.Text;

namespace Tracker.Client;

/// <summary>
/// A run search, written as the server's query string (<c>experiment=&amp;state=&amp;tag=&amp;q=&amp;param.lr=0.001..0.1&amp;metric.val_f1_macro=0.8..&amp;sort=&amp;desc=&amp;page=&amp;pageSize=</c>).
/// Every filter must hold; an unset property is left out and the server's default applies.
/// </summary>
public sealed record RunQuery
{
    /// <summary>Only runs of these experiments (ids); all experiments when empty.</summary>
    public IReadOnlyList<string> Experiments { get; init; } = [];

    /// <summary>Only runs in one of these states; any state when empty.</summary>
    public IReadOnlyList<RunState> States { get; init; } = [];

    /// <summary>Only runs of experiments of this model plugin.</summary>
    public string? Model { get; init; }

    /// <summary>Only runs of experiments of this strategy plugin.</summary>
    public string? Strategy { get; init; }

    /// <summary>Only runs with this label (case-insensitive).</summary>
    public string? Tag { get; init; }

    /// <summary>Free text, found in the experiment's name, the run's id, notes, tags or string parameters.</summary>
    public string? Text { get; init; }

    /// <summary>
    /// Filters on parameters by name, each in the server's text form: a range (<see cref="Range"/>, e.g.
    /// <c>0.001..0.1</c>, <c>0.8..</c>), a number, or an exact string such as <c>adam</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Filters on the latest metric values by name; ranges only (see <see cref="Range"/>).</summary>
    public IReadOnlyDictionary<string, string> Metrics { get; init; } = new Dictionary<string, string>();

    /// <summary>The sort key: <c>number</c>, <c>state</c>, <c>createdAt</c>, <c>finishedAt</c>, <c>objective</c>, <c>metric:&lt;name&gt;</c> or <c>param:&lt;name&gt;</c>.</summary>
    public string? Sort { get; init; }

    /// <summary>Whether the order is descending (the server's default is <c>true</c>).</summary>
    public bool? Descending { get; init; }

    /// <summary>The page, from 0.</summary>
    public int? Page { get; init; }

    /// <summary>Runs per page (the server allows 1 to 500; default 50).</summary>
    public int? PageSize { get; init; }

    /// <summary>The text form of an inclusive range with either end open: <c>Range(0.8, null)</c> is <c>0.8..</c>.</summary>
    public static string Range(double? min, double? max)
    {
        if (min is null && max is null) throw new ArgumentException("A range needs at least one end.");
        return $"{Format(min)}..{Format(max)}";

        static string Format(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";
    }

    /// <summary>The query string, without the leading <c>?</c>; "" when nothing is set.</summary>
    public string ToQueryString()
    {
        var text = new StringBuilder();
        void Add(string key, string? value)
        {
            if (string.IsNullOrEmpty(value)) return;
            if (text.Length > 0) text.Append('&');
            text.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        foreach (var experiment in Experiments) Add("experiment", experiment);
        foreach (var state in States)
        {
            if (state == RunState.Unknown) throw new ArgumentException("Unknown is not a state to search for.", nameof(States));
            Add("state", char.ToLowerInvariant(state.ToString()[0]) + state.ToString()[1..]);
        }
        Add("model", Model);
        Add("strategy", Strategy);
        Add("tag", Tag);
        Add("q", Text);
        foreach (var (name, filter) in Parameters) Add("param." + name, filter);
        foreach (var (name, filter) in Metrics) Add("metric." + name, filter);
        Add("sort", Sort);
        Add("desc", Descending is { } desc ? (desc ? "true" : "false") : null);
        Add("page", Page?.ToString(CultureInfo.InvariantCulture));
        Add("pageSize", PageSize?.ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
