using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Tracker.Client;

/// <summary>How a <see cref="TrackerHubClient"/> connects.</summary>
public sealed record TrackerHubClientOptions
{
    /// <summary>The server's address, e.g. <c>http://127.0.0.1:5000</c>; the hub is at <c>/hubs/metrics</c> below it.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>
    /// An API key, given to SignalR as the access token: sent as <c>Authorization: Bearer</c> on HTTP requests and as
    /// the <c>access_token</c> query parameter when opening a WebSocket. <c>null</c> for none (enough on the server's
    /// own machine by default).
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// Wraps or replaces the handler of the connection's HTTP requests (SignalR's <c>HttpMessageHandlerFactory</c>);
    /// e.g. <c>_ =&gt; testServer.CreateHandler()</c> to talk to an in-memory test server. <c>null</c> keeps the default.
    /// </summary>
    public Func<HttpMessageHandler, HttpMessageHandler>? HttpMessageHandlerFactory { get; init; }

    /// <summary>The transports to try, or <c>null</c> for all (WebSockets first). An in-memory test server needs long polling.</summary>
    public HttpTransportType? Transports { get; init; }

    /// <summary>
    /// The waits between reconnect attempts after the connection drops; after the last one the client gives up and
    /// raises <see cref="TrackerHubClient.Closed"/>. Defaults to 0, 2, 10 and 30 seconds (SignalR's defaults).
    /// </summary>
    public IReadOnlyList<TimeSpan> ReconnectDelays { get; init; } =
        [TimeSpan.Zero, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];
}

/// <summary>
/// A typed client of the live hub <c>/hubs/metrics</c>: join experiments and runs, and receive their
/// <see cref="MetricsReceived"/>, <see cref="TrialChanged"/>, <see cref="ExperimentChanged"/> and
/// <see cref="ImagesLogged"/> events. After a dropped connection it reconnects on its own and joins again every group
/// it had joined (the server forgets a connection's groups when it drops); messages sent while it was away are not
/// replayed, so re-read state over REST in <see cref="Reconnected"/> when that matters. Handlers run on SignalR's
/// threads, one message at a time per connection; keep them short.
/// </summary>
public sealed class TrackerHubClient : IAsyncDisposable
{
    /// <summary>The hub's path on the server.</summary>
    public const string HubPath = "hubs/metrics";

    private readonly HubConnection connection;
    private readonly Lock gate = new();
    private readonly HashSet<string> experiments = new(StringComparer.Ordinal);
    private readonly HashSet<string> runs = new(StringComparer.Ordinal);

    /// <summary>Creates the client; nothing connects until <see cref="ConnectAsync"/>.</summary>
    public TrackerHubClient(TrackerHubClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var baseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, HubPath), http =>
            {
                if (options.ApiKey is { Length: > 0 } key) http.AccessTokenProvider = () => Task.FromResult<string?>(key);
                if (options.HttpMessageHandlerFactory is { } factory) http.HttpMessageHandlerFactory = factory;
                if (options.Transports is { } transports) http.Transports = transports;
            })
            .WithAutomaticReconnect(options.ReconnectDelays.ToArray());
        builder.AddJsonProtocol(json => ClientJson.Configure(json.PayloadSerializerOptions));
        connection = builder.Build();

        connection.On<MetricsMessage>("metrics", m => MetricsReceived?.Invoke(m));
        connection.On<TrialInfo>("trialChanged", t => TrialChanged?.Invoke(t));
        connection.On<ExperimentInfo>("experimentChanged", e => ExperimentChanged?.Invoke(e));
        connection.On<ImagesMessage>("images", i => ImagesLogged?.Invoke(i));
        connection.Reconnecting += error =>
        {
            Reconnecting?.Invoke(error);
            return Task.CompletedTask;
        };
        connection.Reconnected += async _ =>
        {
            await RejoinAsync(CancellationToken.None).ConfigureAwait(false);
            Reconnected?.Invoke();
        };
        connection.Closed += error =>
        {
            Closed?.Invoke(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>A run recorded metrics (the <c>metrics</c> message).</summary>
    public event Action<MetricsMessage>? MetricsReceived;

    /// <summary>A run was created or changed state or progress (the <c>trialChanged</c> message).</summary>
    public event Action<TrialInfo>? TrialChanged;

    /// <summary>An experiment was created or changed state (the <c>experimentChanged</c> message).</summary>
    public event Action<ExperimentInfo>? ExperimentChanged;

    /// <summary>A run logged images (the <c>images</c> message).</summary>
    public event Action<ImagesMessage>? ImagesLogged;

    /// <summary>The connection dropped and the client is reconnecting; the argument is the cause, if known.</summary>
    public event Action<Exception?>? Reconnecting;

    /// <summary>The client reconnected and has joined its groups again.</summary>
    public event Action? Reconnected;

    /// <summary>The connection closed for good (reconnecting gave up, or <see cref="DisposeAsync"/>); <see cref="ConnectAsync"/> may start it again.</summary>
    public event Action<Exception?>? Closed;

    /// <summary>The connection's state.</summary>
    public HubConnectionState State => connection.State;

    /// <summary>Connects, and joins again the groups joined before (when connecting anew after <see cref="Closed"/>).</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await connection.StartAsync(cancellationToken).ConfigureAwait(false);
        await RejoinAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives the events of an experiment and all its runs.</summary>
    public async Task JoinExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experimentId);
        await connection.InvokeAsync("JoinExperiment", experimentId, cancellationToken).ConfigureAwait(false);
        lock (gate) experiments.Add(experimentId);
    }

    /// <summary>Stops receiving an experiment's events.</summary>
    public async Task LeaveExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experimentId);
        lock (gate) experiments.Remove(experimentId);
        await connection.InvokeAsync("LeaveExperiment", experimentId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Receives the events of one run (a trial).</summary>
    public async Task JoinRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        await connection.InvokeAsync("JoinTrial", runId, cancellationToken).ConfigureAwait(false);
        lock (gate) runs.Add(runId);
    }

    /// <summary>Stops receiving a run's events.</summary>
    public async Task LeaveRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        lock (gate) runs.Remove(runId);
        await connection.InvokeAsync("LeaveTrial", runId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection.</summary>
    public async ValueTask DisposeAsync() => await connection.DisposeAsync().ConfigureAwait(false);

    private async Task RejoinAsync(CancellationToken cancellationToken)
    {
        string[] experimentIds, runIds;
        lock (gate)
        {
            experimentIds = [.. experiments];
            runIds = [.. runs];
        }
        foreach (var id in experimentIds) await connection.InvokeAsync("JoinExperiment", id, cancellationToken).ConfigureAwait(false);
        foreach (var id in runIds) await connection.InvokeAsync("JoinTrial", id, cancellationToken).ConfigureAwait(false);
    }
}
