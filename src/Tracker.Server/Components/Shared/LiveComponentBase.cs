using Microsoft.AspNetCore.Components;
using Tracker.Core.Live;

namespace Tracker.Server.Components.Shared;

/// <summary>
/// A component that follows the live feed: it subscribes after its first interactive render (never during
/// prerendering), receives events on its own synchronization context, and unsubscribes when it goes away.
/// </summary>
public abstract class LiveComponentBase : ComponentBase, IDisposable
{
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
            if (!Wants(e)) return;
            _ = InvokeAsync(() =>
            {
                OnFeedEvent(e);
                StateHasChanged();
            });
        });
    }

    /// <inheritdoc />
    public virtual void Dispose()
    {
        subscription?.Dispose();
        GC.SuppressFinalize(this);
    }
}
