using System.Text.Json.Serialization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Tracking;

/// <summary>
/// A run (a trial) as the native API shows it: identity, state, parameters, tags, the latest value of each metric,
/// and the dashboard page that shows it.
/// </summary>
/// <param name="Id">The run's id (a trial id).</param>
/// <param name="ExperimentId">Its experiment's id.</param>
/// <param name="ExperimentName">Its experiment's name.</param>
/// <param name="Number">Its number within the experiment, from 0.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its state.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="Tags">Its key/value tags (the name is not repeated here).</param>
/// <param name="Metrics">The latest value of each metric.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="FinishedAt">When it ended, or <c>null</c> while it runs.</param>
/// <param name="Error">Why it failed, when it did and someone said.</param>
/// <param name="Url">The dashboard page of the run.</param>
public sealed record RunView(
    string Id, string ExperimentId, string ExperimentName, int Number, string Name, TrialState State,
    IReadOnlyDictionary<string, ParameterValue> Parameters, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, double> Metrics,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? FinishedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    string Url)
{
    /// <summary>The view of <paramref name="trial"/>, which belongs to <paramref name="experiment"/> (when it is known).</summary>
    public static RunView Of(Trial trial, Experiment? experiment) => new(
        trial.Id, trial.ExperimentId, experiment?.Spec.Name ?? "", trial.Number,
        RunRegistry.RunNameOf(trial) is { Length: > 0 } name ? name : $"trial {trial.Number}", trial.State,
        trial.Parameters, trial.RunTags.Where(t => t.Key != RunRegistry.RunNameTag).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
        trial.FinalMetrics, trial.CreatedAt, trial.FinishedAt, trial.Error, $"/trials/{trial.Id}");
}
