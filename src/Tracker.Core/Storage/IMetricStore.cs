using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// Metric series: the points of one trial and key. Points are appended, never rewritten, and read by step range, so a
/// page costs time and memory in proportion to the page, not to the series. Concurrency: appends are atomic per call;
/// a reader sees a call's points all or none.
/// </summary>
public interface IMetricStore
{
    /// <summary>Appends points (any trials and keys) in one transaction.</summary>
    Task AppendMetricsAsync(IReadOnlyCollection<MetricPoint> points, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of a series, in step order and, within a step, in the order the points were logged: the points at or
    /// after <paramref name="from"/>, at most <paramref name="maxPoints"/> of them (at least 1), and where the next page
    /// starts (<c>null</c> at the end). Use <see cref="MetricCursor.Start"/> for the first page.
    /// </summary>
    Task<MetricPage> ReadMetricsAsync(string trialId, string key, MetricCursor from, int maxPoints, CancellationToken cancellationToken = default);

    /// <summary>
    /// A series thinned for a chart: at most <paramref name="maxPoints"/> (at least 4) of its own points, in step order.
    /// A series of at most <paramref name="maxPoints"/> points comes back whole; a longer one keeps its first and last
    /// points and the lowest and highest point of each of the equal step ranges it is cut into, so spikes survive.
    /// </summary>
    Task<IReadOnlyList<MetricPoint>> ReadMetricsDownsampledAsync(string trialId, string key, int maxPoints, CancellationToken cancellationToken = default);

    /// <summary>
    /// The latest point of each key a trial has logged, ordered by key (ordinal): the one with the greatest step, then
    /// the latest time, then the greatest value, as MLflow ranks them. Kept by the store, so this reads no series.
    /// </summary>
    Task<IReadOnlyList<MetricPoint>> LatestMetricsAsync(string trialId, CancellationToken cancellationToken = default);
}

/// <summary>Where a page of a series starts: a step, and how many points of that step earlier pages already gave.</summary>
/// <param name="Step">The first step to read.</param>
/// <param name="Skip">Points of <paramref name="Step"/> to pass over (a step with more points than one page holds).</param>
public readonly record struct MetricCursor(int Step, int Skip = 0)
{
    /// <summary>The start of every series.</summary>
    public static MetricCursor Start => new(int.MinValue);

    /// <summary>The cursor as a page token: <c>step</c>, or <c>step:skip</c>.</summary>
    public string ToToken() => Skip == 0
        ? Step.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : FormattableString.Invariant($"{Step}:{Skip}");

    /// <summary>Reads a token written by <see cref="ToToken"/>; <c>null</c> or empty is the start.</summary>
    public static bool TryParse(string? token, out MetricCursor cursor)
    {
        cursor = Start;
        if (string.IsNullOrEmpty(token)) return true;
        var parts = token.Split(':');
        var style = System.Globalization.NumberStyles.AllowLeadingSign;
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        if (parts.Length > 2 || !int.TryParse(parts[0], style, culture, out int step)) return false;
        int skip = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, culture, out skip) || skip < 0)) return false;
        cursor = new MetricCursor(step, skip);
        return true;
    }
}

/// <summary>A page of a series.</summary>
/// <param name="Points">The points, in step order.</param>
/// <param name="Next">Where the next page starts, or <c>null</c> when this is the last.</param>
public sealed record MetricPage(IReadOnlyList<MetricPoint> Points, MetricCursor? Next);
