using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tracker.Client.Tests;

/// <summary>An answer the test scripts for the next matching request, instead of the default one.</summary>
/// <param name="Status">The status code.</param>
/// <param name="Body">A JSON body, or <c>null</c> for none.</param>
/// <param name="RetryAfterSeconds">A <c>Retry-After</c> header in seconds, or <c>null</c>.</param>
public sealed record Scripted(int Status, object? Body = null, int? RetryAfterSeconds = null);

/// <summary>A request the server received.</summary>
public sealed record Received(string Method, string Path, string Query, string? Authorization, string? ContentType, byte[] Body, DateTime At,
    string? IdempotencyKey = null)
{
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
}

/// <summary>
/// A real HTTP server on a loopback port that plays the contract's <c>/api/runs</c> routes with canned answers,
/// records every request, lets a test script error answers ahead of time, and hosts a stand-in hub at
/// <c>/hubs/metrics</c> that records joins. It validates nothing: the tests check what the client sends.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Scripted>> scripts = new();
    private readonly ConcurrentQueue<Received> requests = new();
    private readonly List<List<JsonNode>> batches = [];

    private ScriptedServer(WebApplication app) => this.app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every request, in arrival order.</summary>
    public IReadOnlyList<Received> Requests => [.. requests];

    /// <summary>The metric batches answered with success, each as its points' JSON.</summary>
    public IReadOnlyList<IReadOnlyList<JsonNode>> AcceptedBatches
    {
        get { lock (batches) return batches.Select(b => (IReadOnlyList<JsonNode>)b.ToList()).ToList(); }
    }

    /// <summary>When set, metric requests wait for it before answering.</summary>
    public TaskCompletionSource? MetricsGate { get; set; }

    /// <summary>Hub group joins, as <c>experiment:{id}</c> / <c>trial:{id}</c>, in order.</summary>
    public ConcurrentQueue<string> Joins { get; } = new();

    /// <summary>The <c>Authorization</c> headers and <c>access_token</c> query values the hub's requests carried.</summary>
    public ConcurrentQueue<string> HubCredentials { get; } = new();

    public IHubContext<StandInHub> Hub => app.Services.GetRequiredService<IHubContext<StandInHub>>();

    /// <summary>Answers the next requests of <paramref name="method"/> on a path ending with <paramref name="pathEnd"/> with <paramref name="answers"/>, in order.</summary>
    public void Script(string method, string pathEnd, params Scripted[] answers)
    {
        var queue = scripts.GetOrAdd($"{method} {pathEnd}", _ => new ConcurrentQueue<Scripted>());
        foreach (var answer in answers) queue.Enqueue(answer);
    }

    public static async Task<ScriptedServer> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddSignalR();
        builder.Services.AddSingleton<ServerHolder>();
        var app = builder.Build();
        var server = new ScriptedServer(app);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/hubs"))
            {
                if (context.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization) server.HubCredentials.Enqueue(authorization);
                if (context.Request.Query["access_token"].ToString() is { Length: > 0 } token) server.HubCredentials.Enqueue("access_token=" + token);
            }
            await next(context);
        });
        app.MapHub<StandInHub>("/hubs/metrics");
        app.Map("/api/{**rest}", server.AnswerAsync);
        app.Services.GetRequiredService<ServerHolder>().Server = server;
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseAddress = new Uri(address);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        MetricsGate?.TrySetResult();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var received = new Received(request.Method, request.Path.Value!, request.QueryString.Value ?? "", request.Headers.Authorization.FirstOrDefault(),
            request.ContentType, buffer.ToArray(), DateTime.UtcNow, request.Headers["Idempotency-Key"].FirstOrDefault());
        requests.Enqueue(received);
        string path = received.Path;
        bool isMetrics = request.Method == "POST" && path.EndsWith("/metrics", StringComparison.Ordinal);
        if (isMetrics && MetricsGate is { } gate) await gate.Task;

        var script = scripts.FirstOrDefault(s => s.Key.StartsWith(request.Method + " ", StringComparison.Ordinal)
            && path.EndsWith(s.Key[(request.Method.Length + 1)..], StringComparison.Ordinal) && !s.Value.IsEmpty);
        if (script.Value is { } queue && queue.TryDequeue(out var scripted))
        {
            context.Response.StatusCode = scripted.Status;
            if (scripted.RetryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString();
            if (scripted.Body is not null)
            {
                context.Response.ContentType = scripted.Status >= 400 ? "application/problem+json" : "application/json";
                await context.Response.WriteAsync(JsonSerializer.Serialize(scripted.Body));
            }
            return;
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries); // api, runs, {id}, ...
        string runId = segments.Length > 2 ? Uri.UnescapeDataString(segments[2]) : "run-1";
        object answer;
        int status = 200;
        switch (request.Method)
        {
            case "POST" when segments.Length == 2:
                var body = received.Json!;
                answer = RunView(runId, "running", body["name"]?.GetValue<string>() ?? "brave-fox-1", body["parameters"], body["tags"]);
                status = 201;
                context.Response.Headers.Location = $"/api/runs/{runId}";
                break;
            case "POST" when isMetrics:
                var points = received.Json!["points"]!.AsArray().Select(p => p!.DeepClone()).ToList();
                lock (batches) batches.Add(points);
                answer = new { accepted = points.Count };
                break;
            case "POST":
                answer = RunView(runId, "running", "brave-fox-1", segments[^1] == "parameters" ? received.Json : null, segments[^1] == "tags" ? received.Json : null);
                break;
            case "PATCH":
                answer = RunView(runId, received.Json!["state"]?.GetValue<string>() ?? "running", "brave-fox-1", null, null);
                break;
            case "PUT":
                string artifact = string.Join('/', segments.Skip(4).Select(Uri.UnescapeDataString));
                answer = new
                {
                    path = artifact, size = received.Body.Length, contentType = request.ContentType, url = $"/api/runs/{runId}/artifacts/{artifact}",
                    caption = request.Query["caption"].FirstOrDefault(), trueLabel = request.Query["trueLabel"].FirstOrDefault(),
                    predictedLabel = request.Query["predictedLabel"].FirstOrDefault(),
                };
                status = 201;
                break;
            case "GET" when segments.Length == 5 && segments[3] == "metrics":
                // Three points per page, pages named by the step to start from.
                int from = int.TryParse(request.Query["pageToken"], out var token) ? token : 0;
                int size = int.TryParse(request.Query["maxResults"], out var max) ? max : 3;
                var page = Enumerable.Range(from, Math.Max(0, Math.Min(size, 7 - from)))
                    .Select(step => new { key = Uri.UnescapeDataString(segments[4]), value = step / 10.0, step, timestamp = 1_700_000_000_000L + step, extra = "ignored" });
                answer = new { points = page, nextPageToken = from + size < 7 ? (from + size).ToString() : null };
                break;
            case "GET" when segments.Length == 2:
                answer = new
                {
                    items = new[]
                    {
                        new { trial = new { id = "run-1", experimentId = "exp-1", number = 0, state = "completed", parameters = new { lr = 0.01 }, finalMetrics = new { loss = 0.5 }, epochs = 0, epochsDone = 0 }, experimentName = "fashion", model = "", strategy = "" },
                    },
                    total = 1, page = 0, pageSize = 50,
                };
                break;
            default:
                answer = RunView(runId, "running", "brave-fox-1", null, null);
                break;
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(answer));
    }

    private static object RunView(string id, string state, string name, JsonNode? parameters, JsonNode? tags) => new
    {
        id, experimentId = "exp-1", experimentName = "fashion", number = 0, name, state,
        parameters = parameters ?? new JsonObject(), tags = tags ?? new JsonObject(), metrics = new { loss = 0.25 },
        createdAt = "2025-05-01T08:00:00+00:00", finishedAt = state == "running" ? null : "2025-05-01T09:00:00+00:00",
        url = $"/trials/{id}", somethingNew = new { ignored = true },
    };

    /// <summary>Lets the hub reach the server object it belongs to.</summary>
    public sealed class ServerHolder
    {
        public ScriptedServer? Server { get; set; }
    }
}

/// <summary>The hub's methods as the contract names them; records joins, sends nothing on its own.</summary>
public sealed class StandInHub(ScriptedServer.ServerHolder holder) : Hub
{
    public Task JoinExperiment(string experimentId) => Join($"experiment:{experimentId}");

    public Task LeaveExperiment(string experimentId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, $"experiment:{experimentId}");

    public Task JoinTrial(string trialId) => Join($"trial:{trialId}");

    public Task LeaveTrial(string trialId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, $"trial:{trialId}");

    private async Task Join(string group)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, group);
        holder.Server!.Joins.Enqueue(group);
    }
}
