using Tracker.Abstractions;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Core.Tracking;

/// <summary>
/// The rules every logged run keeps, whichever API logs it: the lengths of keys, values and names (MLflow's limits,
/// which the native API adopted so that a run logged either way reads the same through both), and the native API's
/// checks of metric, parameter and tag names. MLflow's stricter name rules and messages live with its endpoints.
/// </summary>
public static class LoggingRules
{
    /// <summary>The longest key of a metric, parameter or tag.</summary>
    public const int MaxKeyLength = 250;

    /// <summary>The longest parameter value.</summary>
    public const int MaxParamValueLength = 6000;

    /// <summary>The longest tag value (also a run's name and error).</summary>
    public const int MaxTagValueLength = 5000;

    /// <summary>The longest experiment name.</summary>
    public const int MaxExperimentNameLength = 500;

    /// <summary>The most points of a metric's history on one page (also the default page).</summary>
    public const int MaxHistoryResults = 25_000;

    /// <summary>The longest <c>Idempotency-Key</c> of a write, in characters.</summary>
    public const int MaxWriteKeyLength = 200;

    /// <summary>
    /// How many of a run's latest write keys it remembers: a client retries one of its last few writes, seconds after
    /// sending it, never one sent this many writes earlier.
    /// </summary>
    public const int RememberedWriteKeys = 16;

    /// <summary>The latest time a client may give, in ms since the Unix epoch.</summary>
    public static readonly long MaxMillis = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>An experiment name: 1 to <see cref="MaxExperimentNameLength"/> characters.</summary>
    public static TrackingError? CheckExperimentName(string name) =>
        string.IsNullOrEmpty(name) ? Invalid($"Invalid experiment name: '{name}'")
        : name.Length > MaxExperimentNameLength ? Invalid($"Experiment name exceeds the maximum length of {MaxExperimentNameLength} characters")
        : null;

    /// <summary>A page size: 1 to <paramref name="limit"/>.</summary>
    public static TrackingError? CheckMaxResults(int value, int limit) =>
        value < 1 ? Invalid($"Invalid value {value} for parameter 'max_results' supplied. It must be a positive integer.")
        : value > limit ? Invalid($"Invalid value {value} for parameter 'max_results' supplied. It must be at most {limit}, but got value {value}.")
        : null;

    /// <summary>A value of at most <paramref name="limit"/> characters; <paramref name="what"/> names it in the message.</summary>
    public static TrackingError? CheckLength(string what, int limit, string? value) =>
        value is null || value.Length <= limit ? null
        : Invalid($"{what} '{value[..Math.Min(value.Length, 250)]}' had length {value.Length}, which exceeded length limit of {limit}");

    /// <summary>Metric points of the native API: named keys, finite values, 32-bit steps, times in ms since the Unix epoch.</summary>
    public static TrackingError? CheckPoints(IReadOnlyList<LoggedMetric> points)
    {
        for (int i = 0; i < points.Count; i++)
        {
            var point = points[i];
            string field = $"points[{i}]";
            if (CheckKey("Metric key", point.Key, $"{field}.key") is { } badKey) return badKey;
            if (!double.IsFinite(point.Value))
                return Invalid($"The value of metric '{point.Key}' must be a finite number (got {point.Value}).", $"{field}.value");
            if (point.Step is < int.MinValue or > int.MaxValue)
                return Invalid($"The step of metric '{point.Key}' must lie between {int.MinValue} and {int.MaxValue} (got {point.Step}).", $"{field}.step");
            if (point.Timestamp < 0 || point.Timestamp > MaxMillis)
                return Invalid($"The timestamp of metric '{point.Key}' must be a time in milliseconds since the Unix epoch (got {point.Timestamp}).", $"{field}.timestamp");
        }
        return null;
    }

    /// <summary>Typed parameters of the native API, as the writes that log them.</summary>
    public static TrackingResult<List<ParamWrite>> CheckParameters(IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        var writes = new List<ParamWrite>(parameters.Count);
        foreach (var (key, value) in parameters)
        {
            if (CheckKey("Parameter name", key, "parameters") is { } badKey) return badKey;
            string text = value.AsString();
            if (CheckLength("Parameter value", MaxParamValueLength, text) is { } badValue) return badValue with { Field = $"parameters.{key}" };
            writes.Add(new ParamWrite(key, text, value));
        }
        return writes;
    }

    /// <summary>Tags of the native API.</summary>
    public static TrackingError? CheckTags(IReadOnlyDictionary<string, string> tags)
    {
        foreach (var (key, value) in tags)
        {
            if (CheckKey("Tag key", key, "tags") is { } badKey) return badKey;
            if (value is null) return Invalid($"Tag '{key}' needs a value.", $"tags.{key}");
            if (CheckLength("Tag value", MaxTagValueLength, value) is { } badValue) return badValue with { Field = $"tags.{key}" };
        }
        return null;
    }

    /// <summary>A run's name: 1 to <see cref="MaxTagValueLength"/> characters.</summary>
    public static TrackingError? CheckRunName(string name) =>
        name.Length == 0 ? Invalid("A run's name must not be empty.", "name")
        : CheckLength("Run name", MaxTagValueLength, name) is { } tooLong ? tooLong with { Field = "name" }
        : null;

    // The native API's rule for names of metrics, parameters and tags: 1 to MaxKeyLength characters, anything printable.
    private static TrackingError? CheckKey(string what, string? key, string field) =>
        string.IsNullOrEmpty(key) ? Invalid($"{what} must not be empty.", field)
        : key.Length > MaxKeyLength ? Invalid($"{what} '{key[..50]}…' has {key.Length} characters; at most {MaxKeyLength} are allowed.", field)
        : key.Any(char.IsControl) ? Invalid($"{what} '{key}' contains a control character.", field)
        : null;
}
