using System.Net;

namespace Tracker.Client.Tests;

/// <summary>A run's metric logging against a real HTTP server: batches, retries, errors, backpressure, finishing.</summary>
public sealed class RunLoggingTests : IAsyncLifetime
{
    private ScriptedServer server = null!;

    public async ValueTask InitializeAsync() => server = await ScriptedServer.StartAsync();

    public ValueTask DisposeAsync() => server.DisposeAsync();

    [Fact]
    public async Task Flush_SendsFullBatchesThenTheRest_EachPointOnceInOrder()
    {
        using var client = Scripts.Client(server, maxBatch: 100);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 250; i++) run.LogMetric("loss", i / 1000.0, i);
        await run.FlushAsync();

        Assert.Equal([100, 100, 50], server.AcceptedBatches.Select(b => b.Count));
        Assert.Equal(Enumerable.Range(0, 250).Select(i => (long)i), Scripts.AcceptedSteps(server));
        var first = server.AcceptedBatches[0][7]!;
        Assert.Equal("loss", first["key"]!.GetValue<string>());
        Assert.Equal(0.007, first["value"]!.GetValue<double>());
        Assert.InRange(first["timestamp"]!.GetValue<long>(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.All(Scripts.MetricRequests(server), r =>
        {
            Assert.Equal("/api/runs/run-1/metrics", r.Path);
            Assert.Equal("Bearer " + Scripts.ApiKey, r.Authorization);
        });
    }

    [Fact]
    public async Task FlushInterval_SendsAPartialBatchWithoutAFlush()
    {
        using var client = Scripts.Client(server, maxBatch: 1000, flushMs: 100);
        var run = await client.StartRunAsync("fashion");
        run.LogMetrics(1, new() { ["loss"] = 0.9, ["accuracy"] = 0.4 });
        run.LogMetric("lr", 0.01, 1);

        await Scripts.WaitUntilAsync(() => server.AcceptedBatches.Count == 1, "the partial batch was sent");
        var batch = Assert.Single(server.AcceptedBatches);
        Assert.Equal(["loss", "accuracy", "lr"], batch.Select(p => p["key"]!.GetValue<string>()));
        Assert.Equal(batch[0]["timestamp"]!.GetValue<long>(), batch[1]["timestamp"]!.GetValue<long>()); // one step, one timestamp
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task TransientAnswer_Retried_NoPointLostOrDuplicated(int status)
    {
        server.Script("POST", "/metrics", new Scripted(status, Scripts.Problem(status, "Busy.", "Try again.")), new Scripted(status));
        using var client = Scripts.Client(server, maxBatch: 100);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 10; i++) run.LogMetric("loss", i, i);
        await run.FlushAsync();

        Assert.Equal(3, Scripts.MetricRequests(server).Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), Scripts.AcceptedSteps(server));
        // Every attempt of the batch carries the same idempotency key, so a server that stored an attempt whose answer
        // was lost logs the retry once.
        var keys = Scripts.MetricRequests(server).Select(r => r.IdempotencyKey).ToList();
        Assert.Single(keys.Distinct());
        Assert.Matches("^[0-9a-f]{32}$", keys[0]);
    }

    [Fact]
    public async Task SeparateBatches_CarryDifferentIdempotencyKeys()
    {
        using var client = Scripts.Client(server, maxBatch: 5);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 10; i++) run.LogMetric("loss", i, i);
        await run.FlushAsync();

        var keys = Scripts.MetricRequests(server).Select(r => r.IdempotencyKey).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Equal(2, keys.Distinct().Count());
    }

    [Fact]
    public async Task TooManyRequests_WaitsTheRetryAfterTheServerAsks()
    {
        server.Script("POST", "/metrics", new Scripted(429, RetryAfterSeconds: 1));
        using var client = Scripts.Client(server, initialDelayMs: 10);
        var run = await client.StartRunAsync("fashion");
        run.LogMetric("loss", 1, 1);
        await run.FlushAsync();

        var requests = Scripts.MetricRequests(server);
        Assert.Equal(2, requests.Count);
        // Without Retry-After the client would have retried after 5 to 10 ms.
        Assert.InRange((requests[1].At - requests[0].At).TotalMilliseconds, 950, 4000);
        Assert.Equal([1L], Scripts.AcceptedSteps(server));
    }

    [Fact]
    public async Task BadRequest_NotRetried_FlushThrowsWithTheProblemAndThePoints_Once()
    {
        server.Script("POST", "/metrics", new Scripted(400, Scripts.Problem(400, "The metric points are not valid.", "Fix the points named in errors.",
            new() { ["points[1].value"] = ["Values must be finite numbers."] })));
        using var client = Scripts.Client(server);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 3; i++) run.LogMetric("loss", i, i);

        var lost = await Assert.ThrowsAsync<MetricsNotSentException>(() => run.FlushAsync());
        Assert.Equal("run-1", lost.RunId);
        Assert.Equal([0L, 1L, 2L], lost.LostPoints.Select(p => p.Step));
        var problem = Assert.IsType<TrackerApiException>(lost.InnerException);
        Assert.Equal(HttpStatusCode.BadRequest, problem.StatusCode);
        Assert.Equal("POST", problem.Method);
        Assert.Equal("/api/runs/run-1/metrics", problem.Path);
        Assert.Equal("The metric points are not valid.", problem.Title);
        Assert.Equal("Fix the points named in errors.", problem.Detail);
        Assert.Equal(["Values must be finite numbers."], problem.Errors["points[1].value"]);
        Assert.Contains("points[1].value: Values must be finite numbers", problem.Message);
        Assert.Single(Scripts.MetricRequests(server));

        await run.FlushAsync(); // reported once
        run.LogMetric("loss", 3, 3);
        await run.FlushAsync();
        Assert.Equal([3L], Scripts.AcceptedSteps(server));
    }

    [Fact]
    public async Task RetriesExhausted_TheNextLogCallThrowsWithWhatWasLost_AndQueuesNothing()
    {
        server.Script("POST", "/metrics", new Scripted(503), new Scripted(503), new Scripted(503));
        using var client = Scripts.Client(server, flushMs: 50, attempts: 3);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 4; i++) run.LogMetric("loss", i, i);
        await Scripts.WaitUntilAsync(() => run.HasUnreportedLoss, "the batch was given up");

        var lost = Assert.Throws<MetricsNotSentException>(() => run.LogMetric("loss", 99, 99));
        Assert.Equal([0L, 1L, 2L, 3L], lost.LostPoints.Select(p => p.Step));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, Assert.IsType<TrackerApiException>(lost.InnerException).StatusCode);
        Assert.Equal(3, Scripts.MetricRequests(server).Count);

        run.LogMetric("loss", 100, 100);
        await run.FlushAsync();
        Assert.Equal([100L], Scripts.AcceptedSteps(server)); // step 99 was not queued by the call that threw
    }

    [Fact]
    public async Task ServerGone_RetriedThenFlushThrowsWithTheConnectionErrorAndThePoints()
    {
        var doomed = await ScriptedServer.StartAsync();
        using var client = Scripts.Client(doomed, attempts: 3);
        var run = await client.StartRunAsync("fashion");
        await doomed.DisposeAsync();
        for (int i = 0; i < 3; i++) run.LogMetric("loss", i, i);

        var lost = await Assert.ThrowsAsync<MetricsNotSentException>(() => run.FlushAsync());
        Assert.Equal([0L, 1L, 2L], lost.LostPoints.Select(p => p.Step));
        Assert.IsType<HttpRequestException>(lost.InnerException);
    }

    [Fact]
    public async Task FullBuffer_LoggingWaitsForRoom_ThenEveryPointArrives()
    {
        server.MetricsGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var client = Scripts.Client(server, maxBatch: 5, capacity: 10);
        var run = await client.StartRunAsync("fashion");
        // 5 points go out in the first batch, which the server holds; 10 more fill the buffer.
        for (int i = 0; i < 15; i++) await run.LogMetricAsync("loss", i, i).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        var blocked = Task.Run(() => run.LogMetric("loss", 15, 15));
        await Task.Delay(300);
        Assert.False(blocked.IsCompleted, "the 16th point should wait for room in the buffer");

        server.MetricsGate.SetResult();
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        await run.FlushAsync();
        Assert.Equal([5, 5, 5, 1], server.AcceptedBatches.Select(b => b.Count));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i), Scripts.AcceptedSteps(server));
    }

    [Fact]
    public async Task Dispose_FlushesThenMarksCompleted_AndLoggingAfterwardsFails()
    {
        using var client = Scripts.Client(server);
        var run = await client.StartRunAsync("fashion");
        for (int i = 0; i < 7; i++) run.LogMetric("loss", i, i);
        await run.DisposeAsync();

        var writes = server.Requests.Where(r => r.Method != "GET").Skip(1).ToList(); // after the start
        Assert.Equal(["POST /api/runs/run-1/metrics", "PATCH /api/runs/run-1"], writes.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal(7, server.AcceptedBatches.Single().Count);
        Assert.Equal("""{"state":"completed"}""", writes[1].Json!.ToJsonString());
        Assert.True(run.IsFinished);
        Assert.Equal(RunState.Completed, run.Info.State);
        Assert.Throws<InvalidOperationException>(() => run.LogMetric("loss", 1, 8));
    }

    [Fact]
    public async Task FailAsync_EndsTheRunFailedWithTheError_AndDisposeChangesNothing()
    {
        using var client = Scripts.Client(server);
        await using (var run = await client.StartRunAsync("fashion"))
        {
            run.LogMetric("loss", 0.5, 1);
            await run.FailAsync(new InvalidOperationException("out of memory"));
            Assert.Equal(RunState.Failed, run.Info.State);
        }

        var patch = Assert.Single(server.Requests, r => r.Method == "PATCH");
        Assert.Equal("""{"state":"failed","error":"InvalidOperationException: out of memory"}""", patch.Json!.ToJsonString());
        Assert.Single(server.AcceptedBatches);
    }

    [Theory]
    [InlineData("loss", double.NaN)]
    [InlineData("loss", double.PositiveInfinity)]
    [InlineData("", 1.0)]
    public async Task InvalidPoint_ThrowsAtTheCall_AndNothingIsSent(string key, double value)
    {
        using var client = Scripts.Client(server);
        var run = await client.StartRunAsync("fashion");
        Assert.Throws<ArgumentException>(() => run.LogMetric(key, value, 1));
        Assert.Throws<ArgumentException>(() => run.LogMetric(new string('k', 251), 1, 1));
        await run.FlushAsync();
        Assert.Empty(Scripts.MetricRequests(server));
    }
}
