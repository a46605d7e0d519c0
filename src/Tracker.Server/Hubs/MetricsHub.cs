using Microsoft.AspNetCore.SignalR;
using Tracker.Core.Live;

namespace Tracker.Server.Hubs;

/// <summary>
/// Relays the live feed to external clients. A client joins an experiment or a trial and then receives
/// <c>metrics</c> (<see cref="MetricsRecorded"/>), <c>trialChanged</c> (a trial), <c>experimentChanged</c>
/// (an experiment) and <c>images</c> (<see cref="ImagesLogged"/>) messages for it. Joining and leaving change only what
/// the connection receives, so any reader may (<see cref="HubReadAttribute"/>); a method that changes data needs an
/// editor (<see cref="HubRoleFilter"/>).
/// </summary>
public sealed class MetricsHub(MetricsHubRelay relay) : Hub
{
    /// <summary>Where the hub is mapped.</summary>
    public const string Path = "/hubs/metrics";

    /// <inheritdoc />
    public override Task OnConnectedAsync()
    {
        relay.Connected();
        return base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        relay.Disconnected();
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Receive the events of one experiment and its trials.</summary>
    [HubRead]
    public Task JoinExperiment(string experimentId) => Groups.AddToGroupAsync(Context.ConnectionId, ExperimentGroup(experimentId));

    /// <summary>Stop receiving an experiment's events.</summary>
    [HubRead]
    public Task LeaveExperiment(string experimentId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, ExperimentGroup(experimentId));

    /// <summary>Receive the events of one trial.</summary>
    [HubRead]
    public Task JoinTrial(string trialId) => Groups.AddToGroupAsync(Context.ConnectionId, TrialGroup(trialId));

    /// <summary>Stop receiving a trial's events.</summary>
    [HubRead]
    public Task LeaveTrial(string trialId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, TrialGroup(trialId));

    internal static string ExperimentGroup(string id) => $"experiment:{id}";

    internal static string TrialGroup(string id) => $"trial:{id}";
}

/// <summary>
/// Forwards every feed event to the hub groups it concerns, while any client is connected to the hub: with none, it
/// does not subscribe, so that publishers can tell that nobody follows the feed (<see cref="MetricFeed.HasSubscribers"/>).
/// A client joins its groups after it connects, so it misses nothing by the subscription starting on its connection.
/// </summary>
public sealed class MetricsHubRelay(MetricFeed feed, IHubContext<MetricsHub> hub, ILogger<MetricsHubRelay> logger) : IHostedService
{
    private readonly Lock gate = new();
    private IDisposable? subscription;
    private int connections;
    private bool started;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            started = true;
            Follow();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            started = false;
            Follow();
        }
        return Task.CompletedTask;
    }

    /// <summary>A client connected to the hub.</summary>
    internal void Connected()
    {
        lock (gate)
        {
            connections++;
            Follow();
        }
    }

    /// <summary>A client left the hub.</summary>
    internal void Disconnected()
    {
        lock (gate)
        {
            connections--;
            Follow();
        }
    }

    // Subscribes while started with a client connected, unsubscribes otherwise. Called under the gate.
    private void Follow()
    {
        bool wanted = started && connections > 0;
        if (wanted && subscription is null) subscription = feed.Subscribe(e => _ = RelayAsync(e));
        else if (!wanted && subscription is not null)
        {
            subscription.Dispose();
            subscription = null;
        }
    }

    private async Task RelayAsync(FeedEvent e)
    {
        try
        {
            var experiment = hub.Clients.Group(MetricsHub.ExperimentGroup(e.ExperimentId));
            switch (e)
            {
                case MetricsRecorded m:
                    await experiment.SendAsync("metrics", m);
                    await hub.Clients.Group(MetricsHub.TrialGroup(m.TrialId)).SendAsync("metrics", m);
                    break;
                case TrialChanged t:
                    await experiment.SendAsync("trialChanged", t.Trial);
                    await hub.Clients.Group(MetricsHub.TrialGroup(t.Trial.Id)).SendAsync("trialChanged", t.Trial);
                    break;
                case ExperimentChanged x:
                    await experiment.SendAsync("experimentChanged", x.Experiment);
                    break;
                case ImagesLogged i:
                    await experiment.SendAsync("images", i);
                    await hub.Clients.Group(MetricsHub.TrialGroup(i.TrialId)).SendAsync("images", i);
                    break;
            }
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Could not relay a feed event");
        }
    }
}
