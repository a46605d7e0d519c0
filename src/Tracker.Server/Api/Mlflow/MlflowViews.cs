using System.Text.Json;
using System.Text.Json.Serialization;
using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

namespace Tracker.Server.Api.Mlflow;

/// <summary>MLflow's JSON: snake_case fields, absent rather than null, int64 as numbers, NaN and infinities as strings.</summary>
public static class MlflowJson
{
    /// <summary>The options of every MLflow response.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>A key/value pair: a tag or a param.</summary>
public sealed record MlflowTag(string Key, string Value);

/// <summary>MLflow's Experiment.</summary>
public sealed record MlflowExperiment(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long LastUpdateTime,
    long CreationTime, IReadOnlyList<MlflowTag> Tags);

/// <summary>MLflow's RunInfo; <c>run_uuid</c> repeats <c>run_id</c> for older clients.</summary>
public sealed record MlflowRunInfo(string RunId, string RunUuid, string RunName, string ExperimentId, string UserId, string Status,
    long StartTime, long? EndTime, string ArtifactUri, string LifecycleStage);

/// <summary>MLflow's Metric.</summary>
public sealed record MlflowMetric(string Key, double Value, long Timestamp, long Step);

/// <summary>MLflow's RunData: the latest value of each metric, the params and the tags.</summary>
public sealed record MlflowRunData(IReadOnlyList<MlflowMetric> Metrics, IReadOnlyList<MlflowTag> Params, IReadOnlyList<MlflowTag> Tags);

/// <summary>MLflow's RunInputs; this server records no dataset inputs, so it is always empty.</summary>
public sealed record MlflowRunInputs;

/// <summary>MLflow's Run.</summary>
public sealed record MlflowRun(MlflowRunInfo Info, MlflowRunData Data, MlflowRunInputs Inputs);

/// <summary>MLflow's FileInfo.</summary>
public sealed record MlflowFileInfo(string Path, bool IsDir, long? FileSize);

/// <summary>MLflow's error body.</summary>
public sealed record MlflowError(string ErrorCode, string Message);

/// <summary>The bodies of MLflow's responses.</summary>
public static class MlflowResponses
{
    /// <summary><c>experiments/create</c>.</summary>
    public sealed record CreateExperiment(string ExperimentId);

    /// <summary><c>experiments/get</c>, <c>experiments/get-by-name</c>.</summary>
    public sealed record GetExperiment(MlflowExperiment Experiment);

    /// <summary><c>experiments/search</c>, <c>experiments/list</c>.</summary>
    public sealed record SearchExperiments(IReadOnlyList<MlflowExperiment> Experiments, string? NextPageToken);

    /// <summary><c>runs/create</c>, <c>runs/get</c>.</summary>
    public sealed record GetRun(MlflowRun Run);

    /// <summary><c>runs/update</c>.</summary>
    public sealed record UpdateRun(MlflowRunInfo RunInfo);

    /// <summary><c>runs/search</c>.</summary>
    public sealed record SearchRuns(IReadOnlyList<MlflowRun> Runs, string? NextPageToken);

    /// <summary><c>metrics/get-history</c>.</summary>
    public sealed record MetricHistory(IReadOnlyList<MlflowMetric> Metrics, string? NextPageToken);

    /// <summary><c>artifacts/list</c>.</summary>
    public sealed record Artifacts(string RootUri, IReadOnlyList<MlflowFileInfo> Files, string? NextPageToken);

    /// <summary>Every call that returns nothing.</summary>
    public sealed record Empty;
}

/// <summary>Tracker's records in MLflow's shapes.</summary>
public static class MlflowViews
{
    /// <summary>An experiment.</summary>
    public static MlflowExperiment Experiment(Experiment experiment, RunRegistry registry) => new(
        experiment.Id, experiment.Spec.Name, registry.ArtifactLocationOf(experiment), Stage(experiment.LifecycleStage),
        (experiment.UpdatedAt ?? experiment.CreatedAt).ToUnixTimeMilliseconds(), experiment.CreatedAt.ToUnixTimeMilliseconds(),
        Pairs(experiment.ExperimentTags));

    /// <summary>A run's info.</summary>
    public static MlflowRunInfo Info(Trial run) => new(
        run.Id, run.Id, RunRegistry.RunNameOf(run), run.ExperimentId, run.Logged?.UserId ?? "", MlflowRules.StatusText(run.State),
        (run.StartedAt ?? run.CreatedAt).ToUnixTimeMilliseconds(), run.FinishedAt?.ToUnixTimeMilliseconds(),
        run.Logged?.ArtifactUri ?? "", Stage(run.LifecycleStage));

    /// <summary>A run: info, latest metrics, params and tags.</summary>
    public static MlflowRun Run(Trial run)
    {
        var latest = run.Logged?.Latest ?? [];
        var metrics = run.FinalMetrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => latest.TryGetValue(m.Key, out var stamp)
            ? new MlflowMetric(m.Key, m.Value, stamp.Timestamp.ToUnixTimeMilliseconds(), stamp.Step)
            : new MlflowMetric(m.Key, m.Value, (run.FinishedAt ?? run.CreatedAt).ToUnixTimeMilliseconds(), run.EpochsDone)).ToList();
        return new MlflowRun(Info(run), new MlflowRunData(metrics, Pairs(run.Logged?.Params ?? []), Pairs(run.RunTags)), new MlflowRunInputs());
    }

    /// <summary>A metric point.</summary>
    public static MlflowMetric Metric(Tracker.Core.Experiments.MetricPoint point) => new(point.Key, point.Value, point.Timestamp.ToUnixTimeMilliseconds(), point.Step);

    /// <summary>An artifact.</summary>
    public static MlflowFileInfo File(ArtifactFile file) => new(file.Path, file.IsDirectory, file.Size);

    private static string Stage(LifecycleStage stage) => stage == LifecycleStage.Deleted ? "deleted" : "active";

    private static List<MlflowTag> Pairs(IReadOnlyDictionary<string, string> pairs) =>
        pairs.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new MlflowTag(p.Key, p.Value)).ToList();
}
