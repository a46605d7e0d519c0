using System.Text;
using System.Text.Json;
using Tracker.Abstractions;

namespace Tracker.Core.Tracking;

/// <summary>What kind of problem a tracking call (<see cref="RunRegistry"/>, <see cref="RunIngest"/>, <see cref="RunQueries"/>, <see cref="RunArtifacts"/>) had; the APIs map each to their error codes.</summary>
public enum TrackingErrorKind
{
    /// <summary>A value of the request is invalid, or the target is not active (MLflow's INVALID_PARAMETER_VALUE).</summary>
    InvalidParameter,

    /// <summary>The experiment, run or tag does not exist (RESOURCE_DOES_NOT_EXIST).</summary>
    NotFound,

    /// <summary>An experiment with that name exists (RESOURCE_ALREADY_EXISTS).</summary>
    AlreadyExists,

    /// <summary>The write contradicts what is stored, e.g. a logged parameter's value changes (MLflow: INVALID_PARAMETER_VALUE).</summary>
    Conflict,

    /// <summary>An upload is larger than the configured limit (<see cref="TrackingOptions.MaxArtifactBytes"/>).</summary>
    TooLarge,

    /// <summary>An upload's content type is not one the server keeps.</summary>
    UnsupportedContentType,
}

/// <summary>Why a tracking call did nothing.</summary>
/// <param name="Kind">The kind of problem.</param>
/// <param name="Message">A sentence for the client.</param>
/// <param name="Field">The request field that was wrong (e.g. <c>points[3].value</c>), when one was; the native API names it.</param>
public sealed record TrackingError(TrackingErrorKind Kind, string Message, string? Field = null)
{
    /// <summary>An invalid value (or a target that is not active).</summary>
    public static TrackingError Invalid(string message, string? field = null) => new(TrackingErrorKind.InvalidParameter, message, field);

    /// <summary>No logged experiment has the id.</summary>
    public static TrackingError NoExperiment(string experimentId) => new(TrackingErrorKind.NotFound, $"No Experiment with id={experimentId} exists");

    /// <summary>No run has the id.</summary>
    public static TrackingError NoRun(string runId) => new(TrackingErrorKind.NotFound, $"Run with id={runId} not found");
}

/// <summary>The outcome of a tracking call: a value, or the problem (and then nothing was written).</summary>
/// <typeparam name="T">The value's type.</typeparam>
public sealed record TrackingResult<T>
{
    private TrackingResult(T? value, TrackingError? error) => (Value, Error) = (value, error);

    /// <summary>The value, when the call succeeded.</summary>
    public T? Value { get; }

    /// <summary>The problem, or <c>null</c>.</summary>
    public TrackingError? Error { get; }

    /// <summary>Whether the call succeeded.</summary>
    public bool Succeeded => Error is null;

    /// <summary>A success.</summary>
    public static implicit operator TrackingResult<T>(T value) => new(value, null);

    /// <summary>A failure.</summary>
    public static implicit operator TrackingResult<T>(TrackingError error) => new(default, error);
}

/// <summary>Which lifecycle stages a search returns (MLflow's ViewType).</summary>
public enum ViewType
{
    /// <summary>Active only (the default).</summary>
    ActiveOnly,

    /// <summary>Deleted only.</summary>
    DeletedOnly,

    /// <summary>Both.</summary>
    All,
}

/// <summary>One metric value as a client logs it.</summary>
/// <param name="Key">The metric's name.</param>
/// <param name="Value">The value (NaN and infinities are allowed).</param>
/// <param name="Timestamp">When it was measured, in milliseconds since the Unix epoch.</param>
/// <param name="Step">The step; 32-bit here (MLflow allows 64), which the APIs check.</param>
public readonly record struct LoggedMetric(string Key, double Value, long Timestamp, long Step = 0);

/// <summary>
/// A new run, its fields already resolved by the API that starts it (MLflow's endpoints resolve MLflow's run name
/// and user tags into them).
/// </summary>
public sealed record RunCreate
{
    /// <summary>The experiment; the default experiment ("0") when <c>null</c> or empty. Defaults to <c>null</c>.</summary>
    public string? ExperimentId { get; init; }

    /// <summary>Who runs it. Defaults to "".</summary>
    public string UserId { get; init; } = "";

    /// <summary>The name, or <c>null</c> for a generated one. Defaults to <c>null</c>.</summary>
    public string? Name { get; init; }

    /// <summary>When it started, or <c>null</c> for now. Defaults to <c>null</c>.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Its first tags (the name is set apart, in <see cref="Name"/>). Defaults to none.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>A run to start through the native API (<c>POST /api/runs</c>).</summary>
public sealed record NativeRunCreate
{
    /// <summary>The name of the experiment; a logged experiment of that name is made when there is none. Defaults to <c>null</c>.</summary>
    public string? Experiment { get; init; }

    /// <summary>The id of an existing logged experiment, instead of <see cref="Experiment"/>. Defaults to <c>null</c>.</summary>
    public string? ExperimentId { get; init; }

    /// <summary>The run's name, or <c>null</c> for a generated one. Defaults to <c>null</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Its first parameters. Defaults to none.</summary>
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; } = new Dictionary<string, ParameterValue>();

    /// <summary>Its first tags. Defaults to none.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>One page of a search or history.</summary>
/// <param name="Items">The items of the page, in order.</param>
/// <param name="NextPageToken">The token of the next page, or <c>null</c> on the last one.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

/// <summary>A run's artifacts under a path.</summary>
/// <param name="RootUri">The run's artifact URI.</param>
/// <param name="Files">The files and folders directly under the path, by name.</param>
public sealed record ArtifactListing(string RootUri, IReadOnlyList<ArtifactFile> Files);

/// <summary>One artifact file or folder.</summary>
/// <param name="Path">Its path relative to the run's artifact root, with '/'.</param>
/// <param name="IsDirectory">Whether it is a folder.</param>
/// <param name="Size">Its size in bytes (files only).</param>
public sealed record ArtifactFile(string Path, bool IsDirectory, long? Size);

/// <summary>
/// Page tokens: base64 of <c>{"offset": n}</c>, MLflow's own form. Opaque to clients; an offset into a result that is
/// computed afresh for each page.
/// </summary>
public static class PageToken
{
    /// <summary>The token of the page that starts at <paramref name="offset"/>.</summary>
    public static string Encode(int offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, int> { ["offset"] = offset })));

    /// <summary>Reads a token (empty or <c>null</c>: offset 0); <paramref name="error"/> says why when it returns <c>false</c>.</summary>
    public static bool TryDecode(string? token, out int offset, out string? error)
    {
        offset = 0;
        error = null;
        if (string.IsNullOrEmpty(token)) return true;
        try
        {
            using var json = JsonDocument.Parse(Convert.FromBase64String(token));
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("offset", out var value)
                && value.TryGetInt32(out offset) && offset >= 0)
                return true;
        }
        catch (FormatException) { }
        catch (JsonException) { }
        offset = 0;
        error = $"Invalid page token '{token}': pass the next_page_token of the previous page unchanged.";
        return false;
    }

    /// <summary>The page of <paramref name="items"/> at <paramref name="offset"/>, with the next page's token when there is one.</summary>
    public static Page<T> Slice<T>(IReadOnlyList<T> items, int offset, int size)
    {
        var page = items.Skip(offset).Take(size).ToList();
        long next = (long)offset + size;
        return new Page<T>(page, next < items.Count ? Encode((int)next) : null);
    }
}
