using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Components.Pages;

/// <summary>How far a trial is and how long it has left, from the seconds its finished epochs took.</summary>
public static class TrialProgress
{
    /// <summary>The share of its epochs a trial has done, in [0, 1].</summary>
    public static double Fraction(Trial trial) => Math.Clamp((double)trial.EpochsDone / Math.Max(1, trial.Epochs), 0, 1);

    /// <summary>
    /// The estimated time a running trial has left: the mean of its epochs' <c>epoch_seconds</c> times the epochs still
    /// to go; <c>null</c> before its first epoch and for trials that are not running.
    /// </summary>
    public static TimeSpan? Remaining(Trial trial, IReadOnlyList<double> epochSeconds)
    {
        if (trial.State != TrialState.Running) return null;
        var seconds = epochSeconds.Where(s => double.IsFinite(s) && s >= 0).ToList();
        if (seconds.Count == 0) return null;
        int left = Math.Max(0, trial.Epochs - trial.EpochsDone);
        return TimeSpan.FromSeconds(seconds.Average() * left);
    }

    /// <summary>A short duration ("45 s", "3 min 05 s", "2 h 10 min"), or a dash when there is none.</summary>
    public static string Format(TimeSpan? duration)
    {
        if (duration is not { } d) return "–";
        var c = CultureInfo.InvariantCulture;
        if (d.TotalSeconds < 60) return string.Create(c, $"{Math.Ceiling(d.TotalSeconds):0} s");
        if (d.TotalMinutes < 60) return string.Create(c, $"{(int)d.TotalMinutes} min {d.Seconds:00} s");
        return string.Create(c, $"{(int)d.TotalHours} h {d.Minutes:00} min");
    }
}
