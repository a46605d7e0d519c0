using System.Threading.Channels;
using Microsoft.AspNetCore.Components;
using Tracker.Core.Live;

namespace Tracker.Server.Components.Shared;

/// <summary>
/// A component that follows the live feed: when it runs interactively (never while prerendering) it subscribes as
/// soon as it has its parameters, before its first load; it receives events in the order they were published on its
/// own synchronization context, and unsubscribes when it goes away.
/// </summary>
/// <remarks>
/// <para>
/// Subscribing before the first load leaves no gap: the engine publishes after every write, so whatever it writes
/// after the subscription reaches the component, and whatever it wrote before is in the load. Subscribing after the
/// first render instead lost the writes made during that render, which can take seconds on a busy machine (a trainer
/// on one core, the JIT on the other): a trial could finish unseen and stay "Running" on the page. An event queued
/// while the component loads is applied after the load; if it is older than what was read, the write's own later
/// events bring the view to the newest state again.
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
    protected abstract Task OnFeedEventAsync(FeedEvent e);

    /// <inheritdoc />
    public override Task SetParametersAsync(ParameterView parameters)
    {
        if (subscription is not null || !RendererInfo.IsInteractive) return base.SetParametersAsync(parameters);
        // The parameters first, since Wants may read them (the page's id); then the subscription; then the lifecycle
        // methods that load the component's state.
        parameters.SetParameterProperties(this);
        subscription = Feed.Subscribe(e =>
        {
            if (Wants(e)) events.Writer.TryWrite(e);
        });
        _ = DeliverAsync();
        return base.SetParametersAsync(ParameterView.Empty);
    }

    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync())
            {
                try
                {
                    await InvokeAsync(async () =>
                    {
                        await OnFeedEventAsync(e);
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
