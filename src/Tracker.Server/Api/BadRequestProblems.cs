using Microsoft.AspNetCore.Diagnostics;
using Tracker.Server.Api.Mlflow;

namespace Tracker.Server.Api;

/// <summary>
/// Turns the server's own refusals of a request that its endpoint only learns while reading the body (a body over the
/// size limit, a body cut short, an unreadable form) into their status, 413 or 400, with a body: problem details, or
/// MLflow's error shape on MLflow's routes. Without this they would reach the exception handler as failures and answer
/// 500.
/// </summary>
public sealed class BadRequestProblems : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || context.Response.HasStarted) return false;
        int status = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest;
        string title = status == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request could not be read.";
        string detail = status == StatusCodes.Status413PayloadTooLarge
            ? "The body is larger than the server accepts for this route; nothing was stored. Send smaller batches."
            : bad.Message;
        var result = context.Request.Path.StartsWithSegments(MlflowEndpoints.Prefix)
            ? Results.Json(new MlflowError(MlflowErrorCodes.InvalidParameterValue, $"{title} {detail}"), MlflowJson.Options, statusCode: status)
            : Results.Problem(statusCode: status, title: title, detail: detail);
        await result.ExecuteAsync(context);
        return true;
    }
}
