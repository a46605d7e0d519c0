using System.Net;

namespace Tracker.Client;

/// <summary>
/// The server answered with an error: a 4xx other than 408 and 429 (never retried), or a transient error that was
/// still there after the last retry. Carries the problem details the server sent.
/// </summary>
public sealed class TrackerApiException : Exception
{
    /// <summary>Creates the exception for an error answer.</summary>
    public TrackerApiException(string method, string path, HttpStatusCode statusCode, string? title, string? detail,
        IReadOnlyDictionary<string, string[]>? errors, string? body)
        : base(Describe(method, path, statusCode, title, detail, errors))
    {
        Method = method;
        Path = path;
        StatusCode = statusCode;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        Body = body;
    }

    /// <summary>The request's method.</summary>
    public string Method { get; }

    /// <summary>The request's path and query.</summary>
    public string Path { get; }

    /// <summary>The answer's status code.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem's title, or <c>null</c> when the answer was not problem details.</summary>
    public string? Title { get; }

    /// <summary>The problem's detail, or <c>null</c>.</summary>
    public string? Detail { get; }

    /// <summary>What was wrong by field (e.g. <c>points[3].value</c>); empty when the problem named no fields.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The answer's body as text, or <c>null</c> when it had none.</summary>
    public string? Body { get; }

    private static string Describe(string method, string path, HttpStatusCode status, string? title, string? detail,
        IReadOnlyDictionary<string, string[]>? errors)
    {
        var parts = new List<string> { $"{method} {path} answered {(int)status} {status}" };
        if (!string.IsNullOrWhiteSpace(title)) parts.Add(title);
        if (!string.IsNullOrWhiteSpace(detail)) parts.Add(detail);
        if (errors is not null)
            parts.AddRange(errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
        return string.Join(". ", parts.Select(p => p.TrimEnd('.'))) + ".";
    }
}

/// <summary>
/// Metric points that a run could not send: the server refused a batch, or was unreachable through every retry.
/// Thrown once, by the run's next logging call, <see cref="Run.FlushAsync"/>, <see cref="Run.FinishAsync"/> or
/// <see cref="Run.DisposeAsync"/>; the points are here so that they can be logged again.
/// </summary>
public sealed class MetricsNotSentException : Exception
{
    /// <summary>Creates the exception for points lost because of <paramref name="cause"/>.</summary>
    public MetricsNotSentException(string runId, IReadOnlyList<MetricPoint> lostPoints, Exception cause)
        : base($"{lostPoints.Count} metric point(s) of run {runId} were not sent: {cause.Message}", cause)
    {
        RunId = runId;
        LostPoints = lostPoints;
    }

    /// <summary>The run.</summary>
    public string RunId { get; }

    /// <summary>The points that were not sent, in the order they were logged.</summary>
    public IReadOnlyList<MetricPoint> LostPoints { get; }
}
