using Microsoft.AspNetCore.Diagnostics;
using Tracker.Core.Storage;
using Tracker.Server.Api.Mlflow;

namespace Tracker.Server.Api;

/// <summary>
/// Answers a write that the store could not keep (a full disk, a database it may no longer write, a lost database
/// server) with 503 and <c>Retry-After</c>: problem details, or MLflow's error shape on MLflow's routes. Nothing of the
/// request was kept, so a client may send it again later; the server goes on serving reads meanwhile.
/// </summary>
public sealed class StoreUnavailableProblems(ILogger<StoreUnavailableProblems> logger) : IExceptionHandler
{
    /// <summary>Seconds a client is asked to wait before it sends the write again.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The answer for <paramref name="error"/> on <paramref name="path"/>.</summary>
    public static IResult Answer(PathString path, StoreUnavailableException error) =>
        path.StartsWithSegments(MlflowEndpoints.Prefix)
            ? Results.Json(new MlflowError(MlflowErrorCodes.TemporarilyUnavailable, error.Message), MlflowJson.Options, statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The store cannot keep writes now.", detail: error.Message);

    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (StoreUnavailableException.Recognise(exception) is not { } unavailable || context.Response.HasStarted) return false;
        logger.LogWarning("{Method} {Path} refused: {Reason}", context.Request.Method, context.Request.Path, unavailable.Reason);
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Answer(context.Request.Path, unavailable).ExecuteAsync(context);
        return true;
    }
}
