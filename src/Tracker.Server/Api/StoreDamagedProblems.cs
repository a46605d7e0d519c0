using Microsoft.AspNetCore.Diagnostics;
using Tracker.Core.Storage;
using Tracker.Server.Api.Mlflow;

namespace Tracker.Server.Api;

/// <summary>
/// Once the store has found its database damaged (<see cref="IStoreVerification"/>), a request that fails unexpectedly
/// most likely read a damaged record: its 500 says so, names the file and what to do, instead of a bare error. Writes
/// never get here; the store refuses them with a 503 (<see cref="StoreUnavailableProblems"/>).
/// </summary>
public sealed class StoreDamagedProblems(IServiceProvider services) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (services.GetService<IStoreVerification>()?.Damage is not { } damage || context.Response.HasStarted) return false;
        string detail = $"{damage.Message}. This request could not be answered, most likely because it reads a damaged record. "
            + "Stop the server, keep a copy of the file and run `tracker db check`.";
        var result = context.Request.Path.StartsWithSegments(MlflowEndpoints.Prefix)
            ? Results.Json(new MlflowError(MlflowErrorCodes.InternalError, detail), MlflowJson.Options, statusCode: StatusCodes.Status500InternalServerError)
            : Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "The database is damaged.", detail: detail);
        await result.ExecuteAsync(context);
        return true;
    }
}
