namespace Tracker.Client.Tests;

/// <summary>Clients of a <see cref="ScriptedServer"/> with short, test-sized timings.</summary>
internal static class Scripts
{
    public const string ApiKey = "trk_0123456789abcdefghijklmnopqrstuv";

    public static TrackerClient Client(ScriptedServer server, int maxBatch = 1000, int flushMs = 60_000, int attempts = 5, int initialDelayMs = 10,
        int capacity = 100_000) =>
        new(new TrackerClientOptions
        {
            BaseAddress = server.BaseAddress,
            ApiKey = ApiKey,
            MaxBatchSize = maxBatch,
            FlushInterval = TimeSpan.FromMilliseconds(flushMs),
            BufferCapacity = capacity,
            Retry = new RetryOptions { MaxAttempts = attempts, InitialDelay = TimeSpan.FromMilliseconds(initialDelayMs), MaxDelay = TimeSpan.FromSeconds(5) },
        });

    /// <summary>The steps of every accepted point, in the order the server accepted them.</summary>
    public static List<long> AcceptedSteps(ScriptedServer server) =>
        server.AcceptedBatches.SelectMany(b => b).Select(p => p["step"]!.GetValue<long>()).ToList();

    public static List<Received> MetricRequests(ScriptedServer server) =>
        server.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/metrics", StringComparison.Ordinal)).ToList();

    public static object Problem(int status, string title, string detail, Dictionary<string, string[]>? errors = null) => new
    {
        type = "https://tools.ietf.org/html/rfc9110",
        title,
        status,
        detail,
        errors,
    };

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {seconds}s waiting until {what}.");
            await Task.Delay(20);
        }
    }
}
