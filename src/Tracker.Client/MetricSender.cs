using System.Threading.Channels;

namespace Tracker.Client;

/// <summary>
/// The buffer and background loop behind a <see cref="Run"/>'s metric logging. Points wait in a bounded channel; the
/// loop sends them in batches, as soon as a batch is full or its oldest point has waited the flush interval, each
/// batch with the client's retries. Points a batch could not deliver are kept, with the cause, until
/// <see cref="TakeLoss"/> reports them: nothing is dropped silently.
/// </summary>
internal sealed class MetricSender : IAsyncDisposable
{
    private readonly TrackerClient client;
    private readonly string runId;
    private readonly Channel<Item> channel;
    private readonly Task loop;
    private readonly Lock gate = new();
    private List<MetricPoint> lost = [];
    private Exception? lossCause;

    public MetricSender(TrackerClient client, string runId)
    {
        this.client = client;
        this.runId = runId;
        channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(client.Options.BufferCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        loop = Task.Run(RunAsync);
    }

    /// <summary>Whether points were lost and not yet reported.</summary>
    internal bool HasUnreportedLoss
    {
        get { lock (gate) return lost.Count > 0; }
    }

    /// <summary>Queues a point, waiting (without a thread) while the buffer is full.</summary>
    public ValueTask EnqueueAsync(MetricPoint point, CancellationToken cancellationToken) =>
        channel.Writer.TryWrite(new Item(point, null)) ? ValueTask.CompletedTask : channel.Writer.WriteAsync(new Item(point, null), cancellationToken);

    /// <summary>Queues a point, blocking the calling thread while the buffer is full.</summary>
    public void Enqueue(MetricPoint point)
    {
        if (!channel.Writer.TryWrite(new Item(point, null)))
            channel.Writer.WriteAsync(new Item(point, null)).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Completes once every point queued before the call has been sent (or given up on).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await channel.Writer.WriteAsync(new Item(null, done), cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The points lost since the last call, with their cause, or <c>null</c> when none were; clears them.</summary>
    public MetricsNotSentException? TakeLoss()
    {
        lock (gate)
        {
            if (lost.Count == 0) return null;
            var exception = new MetricsNotSentException(runId, lost, lossCause!);
            lost = [];
            lossCause = null;
            return exception;
        }
    }

    /// <summary>Sends what is queued, then stops the loop. Logging afterwards fails.</summary>
    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = channel.Reader;
        var batch = new List<MetricPoint>(client.Options.MaxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // The first item starts the batch's clock; the batch goes when full, at a flush, or when the clock runs out.
            using var interval = new CancellationTokenSource(client.Options.FlushInterval);
            TaskCompletionSource? flush = null;
            while (flush is null && batch.Count < client.Options.MaxBatchSize)
            {
                if (reader.TryRead(out var item))
                {
                    if (item.Point is { } point) batch.Add(point);
                    else flush = item.Flushed;
                    continue;
                }
                try
                {
                    if (!await reader.WaitToReadAsync(interval.Token).ConfigureAwait(false)) break; // completed: send the rest
                }
                catch (OperationCanceledException) when (interval.IsCancellationRequested)
                {
                    break;
                }
            }
            if (batch.Count > 0) await SendAsync(batch).ConfigureAwait(false);
            batch = new List<MetricPoint>(client.Options.MaxBatchSize);
            flush?.TrySetResult();
        }
    }

    private async Task SendAsync(List<MetricPoint> batch)
    {
        try
        {
            await client.LogMetricsAsync(runId, batch, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            lock (gate)
            {
                lost.AddRange(batch);
                lossCause ??= e;
            }
        }
    }

    /// <summary>A point to send, or a flush marker that completes once everything before it is sent.</summary>
    private readonly record struct Item(MetricPoint? Point, TaskCompletionSource? Flushed);
}
