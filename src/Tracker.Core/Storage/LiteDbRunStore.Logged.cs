using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

// Writes of runs that clients log (Tracking.RunLog): a batch of metric points and the trial's new latest values in one
// LiteDB transaction.
public sealed partial class LiteDbRunStore
{
    /// <inheritdoc />
    public void SaveTrialWithMetrics(Trial trial, IReadOnlyCollection<MetricPoint> points)
    {
        // LiteDB transactions belong to the calling thread; every write below runs on this one, synchronously.
        bool own = db.BeginTrans();
        try
        {
            AppendMetrics(points);
            SaveTrial(trial);
            if (own) db.Commit();
        }
        catch
        {
            if (own) db.Rollback();
            throw;
        }
    }
}
