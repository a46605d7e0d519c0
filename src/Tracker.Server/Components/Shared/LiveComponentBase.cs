using System.Threading.Channels;
using Microsoft.AspNetCore.Components;
using Tracker.Core.Live;

namespace Tracker.Server.Components.Shared;

/// <summary>
/// A component that follows the live feed: it subscribes after its first interactive render (never during
/// prerendering), reads its state again at once, receives events in the order they were published on its own
/// synchronization context, and unsubscribes when it goes away.
/// </summary>
/// <remarks>
/// <para>
/// The second read closes a gap: whatever the engine wrote between the component's first load and its subscription
/// was published to nobody. A first render can take seconds on a busy machine (a trainer on one core, the JIT on the
/// other), long enough for a trial to finish unseen and stay "Running" on the page. The engine publishes after every
/// write, so reading after subscribing misses nothing; an event that arrives between the subscription and the read is
/// applied after it, and the write's own later events bring the view to the newest state again.
/// </para>
/// <para>
/// Events pass through a queue that one loop of this component drains. Calling <c>InvokeAsync</c> straight from the
/// feed's handler would render inline on the publisher's thread whenever the circuit is idle: on a trainer's thread,
/// sometimes under the coordinator's lock, so that a slow render would hold up training. The queue keeps the
/// publisher's cost to one enqueue and keeps the events in order.
/// </para>
/// </remarks>
public abstract class LiveComponentBase : ComponentBase, IDisposable
{
    private readonly Channel<FeedEvent> events = Channel.CreateUnbounded<FeedEvent>(new() { SingleReader = true });
    private IDisposable? subscription;

    /// <summary>The feed.</summary>
    [Inject] protected MetricFeed Feed { get; set; } = default!;

    /// <summary>Which events this component wants; called on the publisher's thread, so keep it cheap.</summary>
    protected abstract bool Wants(FeedEvent e);

    /// <summary>Handles an event on the component's context; the component re-renders afterwards.</summary>
    protected abstract void OnFeedEvent(FeedEvent e);

    /// <summary>
    /// Reads the component's state from the store again, as its first load did; called once, on the component's
    /// context, right after the subscription starts. The component re-renders afterwards.
    /// </summary>
    protected abstract void Resync();

    /// <inheritdoc />
    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        subscription = Feed.Subscribe(e =>
        {
            if (Wants(e)) events.Writer.TryWrite(e);
        });
        Resync();
        StateHasChanged();
        _ = DeliverAsync();
    }

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync())
            {
                try
                {
                    await InvokeAsync(() =>
                    {
                        OnFeedEvent(e);
                        StateHasChanged();
                    });
                }
                catch (Exception ex) when (ex is not ObjectDisposedException)
                {
                    // Reported like an exception in a lifecycle method (the circuit shows and logs it), not lost.
                    await DispatchExceptionAsync(ex);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between an event and its delivery: nothing is left to update.
        }
    }

    /// <inheritdoc />
    public virtual void Dispose()
    {
        subscription?.Dispose();
        events.Writer.TryComplete();
        GC.SuppressFinalize(this);
    }
}
