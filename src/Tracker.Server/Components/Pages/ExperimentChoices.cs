using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

namespace Tracker.Server.Components.Pages;

/// <summary>Which experiments a page's experiment picker offers.</summary>
public static class ExperimentChoices
{
    /// <summary>
    /// The experiments to offer, by name: the active ones, and deleted ones (a logging client's, kept for restoring)
    /// only when already chosen, so that a shared link naming one still shows its name.
    /// </summary>
    public static List<Experiment> Offered(IEnumerable<Experiment> experiments, IReadOnlyCollection<string> chosen) =>
        experiments.Where(e => e.LifecycleStage != LifecycleStage.Deleted || chosen.Contains(e.Id))
            .OrderBy(e => e.Spec.Name, StringComparer.OrdinalIgnoreCase).ToList();
}
