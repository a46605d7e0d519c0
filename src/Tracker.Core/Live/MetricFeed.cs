using System.Text.Json.Serialization;
using Tracker.Core.Experiments;

namespace Tracker.Core.Live;

/// <summary>Something that happened to an experiment or trial, pushed to live views.</summary>
public abstract record FeedEvent(string ExperimentId);

/// <summary>A trial recorded metrics for a step (an epoch), at the time <paramref name="LoggedAt"/> when one is known.</summary>
public sealed record MetricsRecorded(string ExperimentId, string TrialId, int Step, IReadOnlyDictionary<string, double> Values, DateTimeOffset? LoggedAt = null)
    : FeedEvent(ExperimentId);

/// <summary>A trial was created or changed state or progress.</summary>
public sealed record TrialChanged(Trial Trial) : FeedEvent(Trial.ExperimentId);

/// <summary>An experiment was created or changed state.</summary>
public sealed record ExperimentChanged(Experiment Experiment) : FeedEvent(Experiment.Id);

/// <summary>
/// A trial recorded images to look at: image artifacts a logging client uploaded, or the prediction samples of a
/// built-in trial's final evaluation.
/// </summary>
public sealed record ImagesLogged(string ExperimentId, string TrialId, IReadOnlyList<LoggedImage> Images) : FeedEvent(ExperimentId);

/// <summary>One image of <see cref="ImagesLogged"/>: where to fetch it, and what it shows when the logger said so.</summary>
/// <param name="Url">The server-relative URL of the image.</param>
/// <param name="Caption">A caption, or <c>null</c>.</param>
/// <param name="TrueLabel">The class the image belongs to (a prediction sample), or <c>null</c>.</param>
/// <param name="PredictedLabel">The class a model predicted for it, or <c>null</c>.</param>
public sealed record LoggedImage(
    string Url,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Caption = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TrueLabel = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PredictedLabel = null);

/// <summary>
/// In-process publish/subscribe of <see cref="FeedEvent"/>s: the engine publishes after each store write, dashboard
/// components and the SignalR relay subscribe. Handlers run on the publisher's thread and must return quickly
/// (marshal to your own context); a throwing handler is isolated from the others and from the publisher.
/// </summary>
public sealed class MetricFeed
{
    private readonly Lock gate = new();
    // Copy-on-write: Publish iterates a snapshot without locking. Entries are the subscriptions themselves, so that
    // disposing one removes exactly that one even when the same delegate is subscribed twice.
    private volatile Subscription[] subscriptions = [];

    /// <summary>Subscribes; dispose the result to unsubscribe.</summary>
    public IDisposable Subscribe(Action<FeedEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, handler);
        lock (gate) subscriptions = [.. subscriptions, subscription];
        return subscription;
    }

    /// <summary>
    /// Whether anything subscribes now, so that a publisher can skip building events that nobody would receive. A
    /// subscription made meanwhile sees the writes after it, as it would have anyway.
    /// </summary>
    public bool HasSubscribers => subscriptions.Length > 0;

    /// <summary>Delivers <paramref name="e"/> to every current subscriber.</summary>
    public void Publish(FeedEvent e)
    {
        foreach (var subscription in subscriptions)
        {
            try { subscription.Handler(e); }
            catch { /* one broken view must not stop training or the other views */ }
        }
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (gate) subscriptions = subscriptions.Where(s => !ReferenceEquals(s, subscription)).ToArray();
    }

    private sealed class Subscription(MetricFeed feed, Action<FeedEvent> handler) : IDisposable
    {
        private int disposed;

        public Action<FeedEvent> Handler { get; } = handler;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0) feed.Unsubscribe(this);
        }
    }
}
