namespace Tracker.Client;

/// <summary>
/// A run being logged. <see cref="LogMetric"/> and <see cref="LogMetrics"/> only queue their points: a background
/// loop sends them in batches (see <see cref="TrackerClientOptions.MaxBatchSize"/> and
/// <see cref="TrackerClientOptions.FlushInterval"/>), retrying transient failures, so the training loop does not wait
/// for the network. Two things can still make it wait or throw:
/// <list type="bullet">
/// <item><b>Backpressure.</b> The queue holds <see cref="TrackerClientOptions.BufferCapacity"/> points. When it is full
/// (the server is slower than the loop, or down and being retried), logging waits until there is room: blocking in
/// <see cref="LogMetric"/>, asynchronously in <see cref="LogMetricAsync"/>. Points are never dropped to make room.</item>
/// <item><b>Lost points.</b> A batch the server refuses (a 4xx), or that still fails after the last retry, is kept
/// aside, and the next <see cref="LogMetric"/>, <see cref="FlushAsync"/>, <see cref="FinishAsync"/> or
/// <see cref="DisposeAsync"/> throws a <see cref="MetricsNotSentException"/> that carries those points (the call that
/// throws queues nothing of its own). Each loss is reported once.</item>
/// </list>
/// Dispose the run when training ends: that flushes and marks it completed unless it was already finished. When the
/// training throws, call <see cref="FailAsync(Exception, CancellationToken)"/> first so the run ends failed instead.
/// One thread at a time may log to a run.
/// </summary>
public sealed class Run : IAsyncDisposable
{
    private readonly TrackerClient client;
    private readonly MetricSender sender;
    private int closing; // the sender is stopped: no more logging
    private int finished; // the server has the final state

    internal Run(TrackerClient client, RunView view)
    {
        this.client = client;
        Info = view;
        sender = new MetricSender(client, view.Id);
    }

    /// <summary>The run's id.</summary>
    public string Id => Info.Id;

    /// <summary>The id of the experiment it belongs to.</summary>
    public string ExperimentId => Info.ExperimentId;

    /// <summary>The run as the server last answered it (at start, or after a parameter, tag or state change).</summary>
    public RunView Info { get; private set; }

    /// <summary>The run's dashboard page.</summary>
    public Uri DashboardUrl => new(client.Options.BaseAddress!, Info.Url.TrimStart('/'));

    /// <summary>Whether <see cref="FinishAsync"/> (or <see cref="FailAsync(string, CancellationToken)"/>) has ended the run.</summary>
    public bool IsFinished => Volatile.Read(ref finished) != 0;

    internal bool HasUnreportedLoss => sender.HasUnreportedLoss;

    /// <summary>Queues one metric value; waits only while the buffer is full (see the class remarks).</summary>
    /// <param name="key">The metric's name: non-empty, at most 250 characters.</param>
    /// <param name="value">The value; must be finite.</param>
    /// <param name="step">The step (an epoch, a batch).</param>
    public void LogMetric(string key, double value, long step)
    {
        var point = Point(key, value, step, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BeforeLogging();
        sender.Enqueue(point);
    }

    /// <summary>Queues several metrics of one step, with one timestamp; waits only while the buffer is full.</summary>
    public void LogMetrics(long step, Dictionary<string, double> values)
    {
        var points = Points(step, values);
        BeforeLogging();
        foreach (var point in points) sender.Enqueue(point);
    }

    /// <summary>As <see cref="LogMetric"/>, but waits for room in the buffer without blocking a thread.</summary>
    public ValueTask LogMetricAsync(string key, double value, long step, CancellationToken cancellationToken = default)
    {
        var point = Point(key, value, step, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        BeforeLogging();
        return sender.EnqueueAsync(point, cancellationToken);
    }

    /// <summary>As <see cref="LogMetrics"/>, but waits for room in the buffer without blocking a thread.</summary>
    public async ValueTask LogMetricsAsync(long step, Dictionary<string, double> values, CancellationToken cancellationToken = default)
    {
        var points = Points(step, values);
        BeforeLogging();
        foreach (var point in points) await sender.EnqueueAsync(point, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Logs parameters now; re-logging a value is fine, changing one is a 409 <see cref="TrackerApiException"/>.</summary>
    public async Task LogParametersAsync(Dictionary<string, object> parameters, CancellationToken cancellationToken = default) =>
        Info = await client.LogParametersAsync(Id, parameters, cancellationToken).ConfigureAwait(false);

    /// <summary>Sets tags now.</summary>
    public async Task SetTagsAsync(Dictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        Info = await client.SetTagsAsync(Id, tags, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Uploads an image (PNG or JPEG), optionally as a prediction sample with its labels; viewers joined to the run
    /// on the hub get an <c>images</c> message.
    /// </summary>
    /// <param name="path">The path inside the run, e.g. <c>predictions/epoch-3/17.png</c>.</param>
    /// <param name="image">The encoded image.</param>
    /// <param name="contentType"><c>image/png</c> or <c>image/jpeg</c>.</param>
    /// <param name="caption">A caption, or <c>null</c>.</param>
    /// <param name="trueLabel">The true label, or <c>null</c>.</param>
    /// <param name="predictedLabel">The predicted label, or <c>null</c>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public Task<ArtifactView> LogImageAsync(string path, ReadOnlyMemory<byte> image, string contentType = "image/png", string? caption = null,
        string? trueLabel = null, string? predictedLabel = null, CancellationToken cancellationToken = default) =>
        client.UploadArtifactAsync(Id, path, image, contentType, caption, trueLabel, predictedLabel, cancellationToken);

    /// <summary>Uploads a file's bytes as an artifact.</summary>
    /// <param name="path">The path inside the run, e.g. <c>reports/confusion.csv</c>.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="contentType">One of the types the server allows: image/png, image/jpeg, text/plain, text/csv, application/json, application/octet-stream.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public Task<ArtifactView> LogFileAsync(string path, ReadOnlyMemory<byte> content, string contentType = "application/octet-stream",
        CancellationToken cancellationToken = default) =>
        client.UploadArtifactAsync(Id, path, content, contentType, cancellationToken: cancellationToken);

    /// <summary>Uploads a local file, with its content type guessed from its extension (octet-stream when unknown).</summary>
    /// <param name="localFile">The file to read.</param>
    /// <param name="path">The path inside the run, or <c>null</c> for the file's name.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public async Task<ArtifactView> LogFileAsync(string localFile, string? path = null, CancellationToken cancellationToken = default)
    {
        byte[] content = await File.ReadAllBytesAsync(localFile, cancellationToken).ConfigureAwait(false);
        string contentType = Path.GetExtension(localFile).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".txt" or ".log" => "text/plain",
            ".csv" => "text/csv",
            ".json" => "application/json",
            _ => "application/octet-stream",
        };
        return await LogFileAsync(path ?? Path.GetFileName(localFile), content, contentType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until every point logged before the call is sent; throws <see cref="MetricsNotSentException"/> when some
    /// could not be.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref closing) == 0) await sender.FlushAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfLost();
    }

    /// <summary>
    /// Sends the queued points, stops the sender and sets the run's final state. The run is ended on the server even
    /// when points were lost; the <see cref="MetricsNotSentException"/> is thrown afterwards. Once the server has taken
    /// the state, later calls do nothing; if the state change itself failed, calling again retries it.
    /// </summary>
    /// <param name="state">The final state: completed (default), failed or interrupted.</param>
    /// <param name="error">Why it failed or was interrupted, or <c>null</c>.</param>
    /// <param name="cancellationToken">Cancels the state change (the queued points are sent regardless).</param>
    public async Task FinishAsync(RunState state = RunState.Completed, string? error = null, CancellationToken cancellationToken = default)
    {
        if (state is not (RunState.Completed or RunState.Failed or RunState.Interrupted))
            throw new ArgumentException($"A run finishes completed, failed or interrupted, not {state}.", nameof(state));
        if (IsFinished) return;
        if (Interlocked.Exchange(ref closing, 1) == 0) await sender.DisposeAsync().ConfigureAwait(false);
        // A failed state change can be tried again: the run stays unfinished until the server has taken it.
        Info = await client.UpdateRunAsync(Id, state, error: error, cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref finished, 1);
        ThrowIfLost();
    }

    /// <summary>Finishes the run as failed, with <paramref name="error"/> as the reason.</summary>
    public Task FailAsync(string error, CancellationToken cancellationToken = default) =>
        FinishAsync(RunState.Failed, error, cancellationToken);

    /// <summary>Finishes the run as failed, with the exception's type and message as the reason.</summary>
    public Task FailAsync(Exception exception, CancellationToken cancellationToken = default) =>
        FinishAsync(RunState.Failed, $"{(exception ?? throw new ArgumentNullException(nameof(exception))).GetType().Name}: {exception.Message}", cancellationToken);

    /// <summary>
    /// Flushes and marks the run completed unless it was already finished. Throws <see cref="MetricsNotSentException"/>
    /// when points were lost and not yet reported: losing them silently would be worse.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (IsFinished)
        {
            ThrowIfLost();
            return;
        }
        await FinishAsync(RunState.Completed).ConfigureAwait(false);
    }

    private void BeforeLogging()
    {
        if (Volatile.Read(ref closing) != 0) throw new InvalidOperationException($"Run {Id} is finished; start a new run to log more.");
        ThrowIfLost();
    }

    private void ThrowIfLost()
    {
        if (sender.TakeLoss() is { } loss) throw loss;
    }

    private static MetricPoint Point(string key, double value, long step, long timestamp)
    {
        Validate.MetricKey(key, nameof(key));
        Validate.MetricValue(key, value, nameof(value));
        return new MetricPoint(key, value, step, timestamp);
    }

    private static List<MetricPoint> Points(long step, Dictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var points = new List<MetricPoint>(values.Count);
        foreach (var (key, value) in values)
        {
            Validate.MetricKey(key, nameof(values));
            Validate.MetricValue(key, value, nameof(values));
            points.Add(new MetricPoint(key, value, step, timestamp));
        }
        return points;
    }
}
