using Tracker.Core.Live;

namespace Tracker.Core.Tests;

public sealed class MetricFeedTests
{
    private static MetricsRecorded Event(int step) => new("exp", "trial", step, new Dictionary<string, double> { ["val_loss"] = step });

    [Fact]
    public void Publish_TwoSubscribers_BothReceiveEveryEventInOrder()
    {
        var feed = new MetricFeed();
        var first = new List<int>();
        var second = new List<int>();
        using var a = feed.Subscribe(e => first.Add(((MetricsRecorded)e).Step));
        using var b = feed.Subscribe(e => second.Add(((MetricsRecorded)e).Step));

        feed.Publish(Event(1));
        feed.Publish(Event(2));

        Assert.Equal([1, 2], first);
        Assert.Equal([1, 2], second);
    }

    [Fact]
    public void Publish_AfterUnsubscribe_HandlerNoLongerCalled()
    {
        var feed = new MetricFeed();
        var kept = new List<int>();
        var dropped = new List<int>();
        using var a = feed.Subscribe(e => kept.Add(((MetricsRecorded)e).Step));
        var b = feed.Subscribe(e => dropped.Add(((MetricsRecorded)e).Step));

        feed.Publish(Event(1));
        b.Dispose();
        b.Dispose(); // a second dispose is harmless
        feed.Publish(Event(2));

        Assert.Equal([1, 2], kept);
        Assert.Equal([1], dropped);
    }

    [Fact]
    public void Publish_SameHandlerSubscribedTwice_DisposingOneKeepsTheOther()
    {
        var feed = new MetricFeed();
        int calls = 0;
        Action<FeedEvent> handler = _ => calls++;
        var first = feed.Subscribe(handler);
        using var second = feed.Subscribe(handler);

        feed.Publish(Event(1));
        first.Dispose();
        feed.Publish(Event(2));

        Assert.Equal(3, calls);
    }

    [Fact]
    public void Publish_HandlerThrows_OtherHandlersStillCalledAndPublisherUnaffected()
    {
        var feed = new MetricFeed();
        var before = new List<int>();
        var after = new List<int>();
        using var a = feed.Subscribe(e => before.Add(((MetricsRecorded)e).Step));
        using var broken = feed.Subscribe(_ => throw new InvalidOperationException("broken view"));
        using var c = feed.Subscribe(e => after.Add(((MetricsRecorded)e).Step));

        feed.Publish(Event(1));
        feed.Publish(Event(2));

        Assert.Equal([1, 2], before);
        Assert.Equal([1, 2], after);
    }
}
