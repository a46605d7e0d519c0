using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Tracker.Server.Security;

/// <summary>
/// Slows down guessing of API keys: each failed key check (a wrong key sent to the API or the hub, or a failed
/// dashboard sign-in) takes a permit from its address's window (<see cref="SecurityOptions.FailedKeyChecksPerMinute"/>).
/// While an address has none left, anything it sends with a key, and its sign-ins, are answered 429 with
/// <c>Retry-After</c> before the key is looked at. Requests without a key are unaffected, and so is a right key until
/// the limit is reached. One warning is logged when an address reaches the limit, not one per guess.
/// </summary>
public sealed class KeyGuessLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter;
    private readonly ConcurrentDictionary<string, DateTimeOffset> limitedSince = new();
    private readonly ILogger<KeyGuessLimiter> logger;
    private readonly TimeProvider time;
    private readonly TimeSpan window = TimeSpan.FromMinutes(1);

    /// <summary>Creates the limiter with the configured number of failures a minute per address.</summary>
    public KeyGuessLimiter(IOptions<SecurityOptions> options, ILogger<KeyGuessLimiter> logger, TimeProvider time)
    {
        this.logger = logger;
        this.time = time;
        int permits = options.Value.FailedKeyChecksPerMinute;
        limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0, AutoReplenishment = true }));
    }

    /// <summary>The partition of a request: its remote address, or "local" for an in-memory test server's requests.</summary>
    public static string AddressOf(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } a ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToString() : "local";

    /// <summary>Whether the address has used up its failures for now; such a request is refused without checking its key.</summary>
    public bool IsLimited(HttpContext context) => limiter.GetStatistics(AddressOf(context))?.CurrentAvailablePermits <= 0;

    /// <summary>Counts a failed check; logs once when the address reaches its limit.</summary>
    public void RecordFailure(HttpContext context)
    {
        string address = AddressOf(context);
        using var lease = limiter.AttemptAcquire(address);
        bool exhausted = !lease.IsAcquired || limiter.GetStatistics(address)?.CurrentAvailablePermits <= 0;
        var now = time.GetUtcNow();
        if (exhausted && (!limitedSince.TryGetValue(address, out var since) || now - since >= window))
        {
            limitedSince[address] = now;
            logger.LogWarning("Too many failed API key checks from {Address}: its key checks and sign-ins are refused for up to {Seconds} s",
                address, (int)window.TotalSeconds);
        }
    }

    /// <summary>The 429 answer with <c>Retry-After</c>, in MLflow's error shape on its routes.</summary>
    public IResult Refusal(HttpContext context)
    {
        context.Response.Headers.RetryAfter = ((int)window.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        const string title = "Too many failed key checks.";
        string detail = $"This address sent too many wrong API keys; try again in up to {(int)window.TotalSeconds} s.";
        return context.Request.Path.StartsWithSegments(Api.Mlflow.MlflowEndpoints.Prefix)
            ? Api.Mlflow.MlflowEndpoints.Error(Api.Mlflow.MlflowErrorCodes.RequestLimitExceeded, $"{title} {detail}")
            : Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: title, detail: detail);
    }

    /// <summary>Writes <see cref="Refusal"/>.</summary>
    public Task RefuseAsync(HttpContext context) => Refusal(context).ExecuteAsync(context);

    /// <inheritdoc />
    public void Dispose() => limiter.Dispose();
}
