using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

namespace Tracker.Server.Api.Mlflow;

/// <summary>
/// MLflow's operations that carry MLflow's own rules: each checks its request by <see cref="MlflowRules"/> and
/// resolves MLflow's conventions (the <c>mlflow.runName</c> and <c>mlflow.user</c> tags, statuses, ms times), then
/// calls Core's tracking services. Operations without MLflow rules call <see cref="Registry"/> and
/// <see cref="Queries"/> directly.
/// </summary>
public sealed class MlflowTracking(RunRegistry registry, RunIngest ingest, RunQueries queries)
{
    /// <summary>Experiments and runs.</summary>
    public RunRegistry Registry => registry;

    /// <summary>Searches and reads.</summary>
    public RunQueries Queries => queries;

    /// <summary>Creates an experiment (experiments/create).</summary>
    public async Task<TrackingResult<Experiment>> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<KeyValuePair<string, string>> tags) =>
        MlflowRules.CheckExperiment(name, artifactLocation, tags) ?? await registry.CreateExperimentAsync(name, artifactLocation, tags);

    /// <summary>Sets an experiment tag (experiments/set-experiment-tag).</summary>
    public async Task<TrackingResult<Experiment>> SetExperimentTagAsync(string experimentId, string key, string value) =>
        MlflowRules.CheckTag(key, value) ?? await registry.SetExperimentTagAsync(experimentId, key, value);

    /// <summary>
    /// Starts a run (runs/create): its name is <paramref name="runName"/>, else the <c>mlflow.runName</c> tag (both
    /// given must agree), else a generated one; its user is <paramref name="userId"/>, else the <c>mlflow.user</c> tag.
    /// </summary>
    public async Task<TrackingResult<Trial>> CreateRunAsync(string? experimentId, string? userId, string? runName, long? startTime,
        IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        if (MlflowRules.CheckTags(tags) is { } badTag) return badTag;
        var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags) tagMap[key] = value;
        string? tagged = tagMap.GetValueOrDefault(RunRegistry.RunNameTag);
        if (runName is { Length: > 0 } && tagged is not null && tagged != runName)
            return TrackingError.Invalid($"Both 'run_name' argument and '{RunRegistry.RunNameTag}' tag are specified, but with different values (run_name='{runName}', {RunRegistry.RunNameTag}='{tagged}').");
        if (MlflowRules.CheckTime("start_time", startTime) is { } badStart) return badStart;
        string? name = runName is { Length: > 0 } ? runName : tagged is { Length: > 0 } ? tagged : null;
        if (name is not null && MlflowRules.CheckTag(RunRegistry.RunNameTag, name) is { } badName) return badName;
        tagMap.Remove(RunRegistry.RunNameTag);
        return await registry.CreateRunAsync(new RunCreate
        {
            ExperimentId = experimentId,
            UserId = userId is { Length: > 0 } ? userId : tagMap.GetValueOrDefault(MlflowRules.UserTag, ""),
            Name = name,
            StartedAt = startTime is { } start ? DateTimeOffset.FromUnixTimeMilliseconds(start) : null,
            Tags = tagMap,
        });
    }

    /// <summary>Changes a run's status, end time and/or name (runs/update; a <c>null</c> or empty argument leaves that field).</summary>
    public async Task<TrackingResult<Trial>> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName)
    {
        if (MlflowRules.CheckTime("end_time", endTime) is { } badEnd) return badEnd;
        string? name = runName is { Length: > 0 } ? runName : null;
        if (name is not null && MlflowRules.CheckTag(RunRegistry.RunNameTag, name) is { } badName) return badName;
        return await registry.UpdateRunAsync(runId, status is { } s ? MlflowRules.StateOf(s) : null,
            endTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : null, name);
    }

    /// <summary>
    /// Logs metrics, params and tags of an active run, all or nothing (runs/log-batch, and log-metric, log-parameter
    /// and set-tag as batches of one); params are kept as text and typed where they are plain numbers.
    /// </summary>
    public async Task<TrackingResult<Trial>> LogBatchAsync(string runId, IReadOnlyList<LoggedMetric> metrics,
        IReadOnlyList<KeyValuePair<string, string>> parameters, IReadOnlyList<KeyValuePair<string, string>> tags) =>
        MlflowRules.CheckBatch(metrics, parameters, tags)
        ?? await ingest.LogCheckedAsync(runId, metrics, parameters.Select(p => ParamWrite.OfText(p.Key, p.Value)).ToList(), tags);
}
