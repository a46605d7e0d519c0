using System.Globalization;
using System.Text.RegularExpressions;
using Tracker.Abstractions;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Server.Api.Mlflow;

/// <summary>The status of a logged run, as MLflow names it; each maps to one trial state (see <see cref="MlflowRules"/>).</summary>
public enum RunStatus
{
    /// <summary>Started and logging (trial state Running).</summary>
    Running,

    /// <summary>Created, not started (trial state Queued).</summary>
    Scheduled,

    /// <summary>Ended normally (trial state Completed).</summary>
    Finished,

    /// <summary>Ended with an error (trial state Failed).</summary>
    Failed,

    /// <summary>Stopped by a user or a shutdown (trial state Interrupted).</summary>
    Killed,
}

/// <summary>
/// MLflow's wire rules, which its clients expect word for word: the names a key may have, its limits and batch sizes
/// with MLflow's messages, and the run statuses as trial states. The MLflow endpoints check a request by these before
/// they hand it to Core's tracking services; the lengths themselves are <see cref="LoggingRules"/>', shared with the
/// native API.
/// </summary>
public static class MlflowRules
{
    /// <summary>The run tag that names the user (used when a run is created without a user id).</summary>
    public const string UserTag = "mlflow.user";

    /// <summary>MLflow's limits on one log-batch request.</summary>
    public const int MaxMetricsPerBatch = 1000, MaxParamsTagsPerBatch = 100, MaxEntitiesPerBatch = 1000;

    /// <summary>MLflow's page sizes of searches.</summary>
    public const int DefaultSearchResults = 1000, MaxSearchResults = 50_000;

    private static readonly Regex ValidName = new(@"^[/\w.\- ]*$", RegexOptions.CultureInvariant);

    /// <summary>The status of a trial in MLflow's terms (a pruned trial is KILLED).</summary>
    public static RunStatus StatusOf(TrialState state) => state switch
    {
        TrialState.Queued => RunStatus.Scheduled,
        TrialState.Running => RunStatus.Running,
        TrialState.Completed => RunStatus.Finished,
        TrialState.Failed => RunStatus.Failed,
        _ => RunStatus.Killed,
    };

    /// <summary>The trial state of a status.</summary>
    public static TrialState StateOf(RunStatus status) => status switch
    {
        RunStatus.Scheduled => TrialState.Queued,
        RunStatus.Running => TrialState.Running,
        RunStatus.Finished => TrialState.Completed,
        RunStatus.Failed => TrialState.Failed,
        _ => TrialState.Interrupted,
    };

    /// <summary>The status as MLflow writes it (<c>FINISHED</c>).</summary>
    public static string StatusText(TrialState state) => RunStatusNames.Of(state);

    /// <summary>A new experiment: its name, an artifact location that is not a <c>runs:/</c> URI, and its tags.</summary>
    public static TrackingError? CheckExperiment(string name, string? artifactLocation, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        if (LoggingRules.CheckExperimentName(name) is { } badName) return badName;
        if (artifactLocation is not null && artifactLocation.StartsWith("runs:", StringComparison.Ordinal))
            return Invalid($"Artifact location cannot be a runs:/ URI. Given: '{artifactLocation}'");
        return CheckTags(tags);
    }

    /// <summary>
    /// A log-batch request: at most 1000 metrics, 100 params, 100 tags and 1000 entries in all; keys of at most 250
    /// characters from letters, digits, _ - . / and space; param values of at most 6000 characters, tag values 5000; no
    /// param key twice.
    /// </summary>
    public static TrackingError? CheckBatch(IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        var tooMany = BatchLimit("metrics", MaxMetricsPerBatch, metrics.Count) ?? BatchLimit("params", MaxParamsTagsPerBatch, parameters.Count)
            ?? BatchLimit("tags", MaxParamsTagsPerBatch, tags.Count)
            ?? BatchLimit("metrics, params, and tags", MaxEntitiesPerBatch, metrics.Count + parameters.Count + tags.Count);
        if (tooMany is not null) return tooMany;
        foreach (var metric in metrics)
            if (CheckMetric(metric) is { } bad) return bad;
        foreach (var (key, value) in parameters)
            if (CheckParam(key, value) is { } bad) return bad;
        var duplicates = parameters.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            return Invalid($"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates.Select(d => $"'{d}'"))}]. Please ensure the request contains only one param value per param key.");
        return CheckTags(tags);
    }

    /// <summary>Run or experiment tags.</summary>
    public static TrackingError? CheckTags(IEnumerable<KeyValuePair<string, string>> tags)
    {
        foreach (var (key, value) in tags)
            if (CheckTag(key, value) is { } bad) return bad;
        return null;
    }

    /// <summary>One tag: an MLflow key and a value of at most <see cref="LoggingRules.MaxTagValueLength"/> characters.</summary>
    public static TrackingError? CheckTag(string key, string value) =>
        CheckKey("tag", "Tag key", key) ?? LoggingRules.CheckLength("Tag value", LoggingRules.MaxTagValueLength, value);

    /// <summary>A time in ms since the Unix epoch, as the request field <paramref name="parameter"/>.</summary>
    public static TrackingError? CheckTime(string parameter, long? millis) =>
        millis is < 0 || millis > LoggingRules.MaxMillis
            ? Invalid($"Invalid value {millis} for parameter '{parameter}' supplied: it must be a time in milliseconds since the Unix epoch.")
            : null;

    private static TrackingError? CheckParam(string key, string value) =>
        CheckKey("parameter", "Param key", key) ?? LoggingRules.CheckLength("Param value", LoggingRules.MaxParamValueLength, value);

    private static TrackingError? BatchLimit(string entities, int limit, int count) =>
        count <= limit ? null
        : Invalid($"A batch logging request can contain at most {limit} {entities}. Got {count} {entities}. Please split up {entities} across multiple requests and try again.");

    private static TrackingError? CheckMetric(LoggedMetric metric)
    {
        if (CheckKey("metric", "Metric name", metric.Key) is { } bad) return bad;
        string value = metric.Value.ToString("R", CultureInfo.InvariantCulture);
        if (metric.Timestamp < 0 || metric.Timestamp > LoggingRules.MaxMillis)
            return Invalid($"Got invalid timestamp {metric.Timestamp} for metric '{metric.Key}' (value={value}). Timestamp must be a nonnegative long (64-bit integer) of milliseconds since the Unix epoch.");
        if (metric.Step is < int.MinValue or > int.MaxValue)
            return Invalid($"Got invalid step {metric.Step} for metric '{metric.Key}' (value={value}). Steps must lie between {int.MinValue} and {int.MaxValue} on this server.");
        return null;
    }

    private static TrackingError? CheckKey(string kind, string lengthName, string? key)
    {
        if (key is null) return Invalid($"{char.ToUpperInvariant(kind[0])}{kind[1..]} name cannot be None. A key name must be provided.");
        if (!ValidName.IsMatch(key))
            return Invalid($"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).");
        string normal = NormalPath(key);
        if (normal != key || normal == "." || normal.StartsWith("..", StringComparison.Ordinal) || normal.StartsWith('/'))
            return Invalid($"Invalid {kind} name: '{key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normal}'");
        return LoggingRules.CheckLength(lengthName, LoggingRules.MaxKeyLength, key);
    }

    // Python's posixpath.normpath: MLflow refuses keys that would name another file than themselves.
    private static string NormalPath(string path)
    {
        if (path.Length == 0) return ".";
        bool absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == ".." && (!absolute && parts.Count == 0 || parts.Count > 0 && parts[^1] == "..")) parts.Add(part);
            else if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); }
            else parts.Add(part);
        }
        string joined = (absolute ? "/" : "") + string.Join('/', parts);
        return joined.Length == 0 ? "." : joined;
    }
}
