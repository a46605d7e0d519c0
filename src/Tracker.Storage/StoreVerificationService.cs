using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tracker.Core.Storage;

namespace Tracker.Storage;

/// <summary>
/// Reads back every record of a store that offers it (<see cref="IStoreVerification"/>) once the server has started,
/// while it serves: damage that the check at open cannot see (garbage inside a page) is found within seconds of the
/// start rather than by the first request that reads it, and the store stops writing into the file from then on.
/// </summary>
public sealed class StoreVerificationService(IServiceProvider services, ILogger<StoreVerificationService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<IStoreVerification>() is not { } store) return;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            long records = await store.VerifyAsync(stoppingToken);
            logger.LogInformation("Store verified: {Records} records read back in {Milliseconds} ms", records, watch.ElapsedMilliseconds);
        }
        catch (StoreDamagedException damaged)
        {
            logger.LogCritical("{Message}. Writes are refused from now on; stop the server, keep a copy of the file and run `tracker db check`.", damaged.Message);
        }
        catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Stopped, or the store closed or failed meanwhile: the next start verifies again.
            logger.LogDebug("Store verification stopped: {Reason}", error.Message);
        }
    }
}
