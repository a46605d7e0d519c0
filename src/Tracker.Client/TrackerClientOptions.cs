namespace Tracker.Client;

/// <summary>Where the server is, how to authenticate, and how runs batch and retry.</summary>
public sealed record TrackerClientOptions
{
    /// <summary>The most metric points the server takes in one request (its <c>Tracking:MaxMetricPointsPerRequest</c> default).</summary>
    public const int ServerMaxPointsPerRequest = 10_000;

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:5000</c>. Required unless the given <see cref="HttpClient"/> has a base address.</summary>
    public Uri? BaseAddress { get; init; }

    /// <summary>
    /// An API key (<c>trk_…</c>), sent as <c>Authorization: Bearer</c> with every request; <c>null</c> to send none
    /// (enough for reads from the server's own machine). Writes need a key.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The most metric points a run sends in one request, 1 to <see cref="ServerMaxPointsPerRequest"/>; a run sends a
    /// batch as soon as it is this full. Defaults to 1000.
    /// </summary>
    public int MaxBatchSize { get; init; } = 1000;

    /// <summary>How long a point may wait for its batch to fill before the batch is sent anyway. Defaults to 1 second.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many metric points a run buffers while they wait to be sent. When the buffer is full (the server is slower
    /// than the training loop, or down and being retried), logging waits for room: points are never dropped.
    /// Defaults to 100,000.
    /// </summary>
    public int BufferCapacity { get; init; } = 100_000;

    /// <summary>How long one HTTP attempt may take before it counts as a transient failure. Defaults to 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How transient failures are retried.</summary>
    public RetryOptions Retry { get; init; } = new();

    internal void Validate()
    {
        if (MaxBatchSize is < 1 or > ServerMaxPointsPerRequest)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, $"Between 1 and {ServerMaxPointsPerRequest}.");
        if (FlushInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(FlushInterval), FlushInterval, "Must be positive.");
        if (BufferCapacity < 1) throw new ArgumentOutOfRangeException(nameof(BufferCapacity), BufferCapacity, "Must be positive.");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "Must be positive.");
        Retry.Validate();
    }
}

/// <summary>
/// Retries of transient failures: connection errors, timeouts, 408, 429 and 5xx answers. Other 4xx answers are the
/// caller's mistake and are never retried.
/// </summary>
public sealed record RetryOptions
{
    /// <summary>How many attempts a request gets in all, the first included; 1 disables retries. Defaults to 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The delay before the first retry; it doubles with each further retry. Defaults to 200 ms.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The longest delay between attempts, including one the server asks for with <c>Retry-After</c>. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "At least 1.");
        if (InitialDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InitialDelay), InitialDelay, "Must not be negative.");
        if (MaxDelay < InitialDelay) throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "Must not be below InitialDelay.");
    }
}
