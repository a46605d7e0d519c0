using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage.Tests.Infrastructure;

/// <summary>Reading a whole metric series page by page (also compiled into the server tests).</summary>
public static class MetricPages
{
    /// <summary>Every point of <paramref name="key"/> of <paramref name="trialId"/>, in pages of <paramref name="pageSize"/>.</summary>
    public static async Task<List<MetricPoint>> ReadAllMetricsAsync(this IMetricStore store, string trialId, string key, int pageSize = 25_000,
        CancellationToken cancellationToken = default)
    {
        var all = new List<MetricPoint>();
        var cursor = MetricCursor.Start;
        while (true)
        {
            var page = await store.ReadMetricsAsync(trialId, key, cursor, pageSize, cancellationToken);
            all.AddRange(page.Points);
            if (page.Next is not { } next) return all;
            cursor = next;
        }
    }
}
