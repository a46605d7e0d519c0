using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// How the dashboard reads metric series for charts: thinned by the store to what a chart can show, so a page never
/// loads a million points to draw a thousand pixels.
/// </summary>
public static class ChartReads
{
    /// <summary>The most points of one series a chart asks for.</summary>
    public const int MaxChartPoints = 2000;

    /// <summary>One series of a trial, thinned to at most <see cref="MaxChartPoints"/> points.</summary>
    public static Task<IReadOnlyList<MetricPoint>> SeriesAsync(IMetricStore metrics, string trialId, string key, CancellationToken cancellationToken = default) =>
        SeriesAsync(metrics, trialId, key, MaxChartPoints, cancellationToken);

    /// <summary>
    /// One series of a trial, thinned to at most <paramref name="maxPoints"/> (at most <see cref="MaxChartPoints"/>):
    /// for a chart that overlays many series and shares its points among them.
    /// </summary>
    public static Task<IReadOnlyList<MetricPoint>> SeriesAsync(IMetricStore metrics, string trialId, string key, int maxPoints,
        CancellationToken cancellationToken = default) =>
        metrics.ReadMetricsDownsampledAsync(trialId, key, Math.Clamp(maxPoints, 4, MaxChartPoints), cancellationToken);

    /// <summary>Every series of a trial, each thinned, ordered by key and step.</summary>
    public static async Task<IReadOnlyList<MetricPoint>> AllSeriesAsync(IMetricStore metrics, string trialId, CancellationToken cancellationToken = default)
    {
        var points = new List<MetricPoint>();
        foreach (var latest in await metrics.LatestMetricsAsync(trialId, cancellationToken))
            points.AddRange(await SeriesAsync(metrics, trialId, latest.Key, cancellationToken));
        return points;
    }
}
