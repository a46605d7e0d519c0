using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// Which of an experiment's runs the metric overlay draws: all of them while they fit, else the best half by the
/// objective and the latest others (a running trial is among the latest), so that the chart stays readable.
/// </summary>
/// <param name="Shown">The drawn runs, in number order.</param>
/// <param name="Best">How many of them were chosen as the best; 0 when every run is shown.</param>
/// <param name="Latest">How many as the latest; 0 when every run is shown.</param>
/// <param name="Total">How many runs the experiment has.</param>
public sealed record OverlayRuns(IReadOnlyList<Trial> Shown, int Best, int Latest, int Total)
{
    /// <summary>The most runs one overlay draws: more lines than colours to tell them apart make no figure.</summary>
    public const int MaxRuns = 20;

    /// <summary>No runs.</summary>
    public static OverlayRuns None { get; } = new([], 0, 0, 0);

    /// <summary>
    /// At most <paramref name="max"/> of <paramref name="trials"/> (number order in, number order out); the latest
    /// only unless <paramref name="rankByObjective"/>.
    /// </summary>
    public static OverlayRuns Choose(IReadOnlyList<Trial> trials, ObjectiveDirection direction, bool rankByObjective = true, int max = MaxRuns)
    {
        if (trials.Count <= max) return new(trials, 0, 0, trials.Count);
        var best = trials.Where(t => rankByObjective && t.Objective is { } v && double.IsFinite(v))
            .OrderBy(t => direction == ObjectiveDirection.Maximize ? -t.Objective!.Value : t.Objective!.Value).ThenBy(t => t.Number)
            .Take(max / 2).Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var latest = trials.OrderByDescending(t => t.Number).Where(t => !best.Contains(t.Id)).Take(max - best.Count).Select(t => t.Id)
            .ToHashSet(StringComparer.Ordinal);
        return new(trials.Where(t => best.Contains(t.Id) || latest.Contains(t.Id)).ToList(), best.Count, latest.Count, trials.Count);
    }

    /// <summary>Which runs are drawn, in words, when not all of them are; <c>null</c> when all are.</summary>
    public string? Description(string unit, string objective) =>
        Shown.Count == Total ? null
        : Best == 0 ? $"The {Latest} latest of {Total:N0} {unit}s."
        : $"The {Best} best by {objective} and the {Latest} latest of {Total:N0} {unit}s.";

    /// <summary>A run's name in the legend: a logged run's own name where it has one, else its number.</summary>
    public static string NameOf(Trial run, string unit) => RunRegistry.RunNameOf(run) is { Length: > 0 } name ? name : $"{unit} #{run.Number}";
}
