using System.Threading.Channels;
using Microsoft.AspNetCore.Components;
using Tracker.Core.Live;

namespace Tracker.Server.Components.Shared;

/// <summary>
/// A component that follows the live feed: it subscribes after its first interactive render (never during
/// prerendering), receives events in the order they were published on its own synchronization context, and
/// unsubscribes when it goes away.
/// </summary>
/// <remarks>
/// Events pass through a queue that one loop of this component drains. Calling <c>InvokeAsync</c> straight from the
/// feed's handler would render inline on the publisher's thread whenever the circuit is idle: on a trainer's thread,
/// sometimes under the coordinator's lock, so that a slow render would hold up training. The queue keeps the
/// publisher's cost to one enqueue and keeps the events in order.
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

    /// <inheritdoc />
    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        subscription = Feed.Subscribe(e =>
        {
            if (Wants(e)) events.Writer.TryWrite(e);
        });
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
