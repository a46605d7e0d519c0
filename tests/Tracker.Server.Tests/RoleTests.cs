using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Hubs;
using Tracker.Server.Security;

namespace Tracker.Server.Tests;

/// <summary>
/// Roles on the real server: a viewer's key reads but every write of every route family is refused with 403 (MLflow's
/// routes: <c>PERMISSION_DENIED</c>) and changes nothing; an editor's key logs and runs experiments but neither manages
/// keys nor deletes experiments; an admin's key does all. The keys are configured with their roles, beside the
/// factory's own key, which has none and so is an editor.
/// </summary>
public sealed class RoleTests(RoleTests.Server server) : IClassFixture<RoleTests.Server>
{
    public const string ViewerKey = "trk_RoleTestsViewer00000000000000001";
    public const string EditorKey = "trk_RoleTestsEditor00000000000000001";
    public const string AdminKey = "trk_RoleTestsAdmin000000000000000001";

    /// <summary>A server with a key of each role, a finished experiment and trial, and a logged run to log to.</summary>
    public sealed class Server : ServerFixture
    {
        public Server()
            : base(ServerBackend.LiteDb)
        {
        }

        /// <summary>The logged run that the logging routes write to (MLflow's too).</summary>
        public string RunId { get; private set; } = "";

        protected override TrackerServerFactory CreateFactory(ServerStore store) => new(store) { Settings = KeySettings };

        protected override async Task StartedAsync(TrackerServerFactory factory)
        {
            var store = factory.Services.GetRequiredService<TrackerStores>();
            var t0 = new DateTimeOffset(2025, 5, 1, 8, 0, 0, TimeSpan.Zero);
            await store.Experiments.SaveExperimentAsync(new Experiment { Id = "done", CreatedAt = t0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "done", Model = "small-cnn", Strategy = "random" } });
            await store.Trials.SaveTrialAsync(new Trial { Id = "done-0", ExperimentId = "done", Number = 0, Parameters = [], State = TrialState.Completed, Epochs = 1, CreatedAt = t0 });
            var run = await Client(factory, AdminKey).PostAsJsonAsync("/api/runs", new { experiment = "role runs", name = "logged" });
            Assert.Equal(HttpStatusCode.Created, run.StatusCode);
            RunId = (await run.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
    }

    /// <summary>The configured keys: one of each role (the factory's own key, index 0, has none).</summary>
    public static IReadOnlyDictionary<string, string> KeySettings { get; } = new Dictionary<string, string>
    {
        ["Security:ApiKeys:1:Name"] = "viewer", ["Security:ApiKeys:1:Sha256"] = ApiKeyService.Hash(ViewerKey), ["Security:ApiKeys:1:Role"] = "viewer",
        ["Security:ApiKeys:2:Name"] = "editor", ["Security:ApiKeys:2:Sha256"] = ApiKeyService.Hash(EditorKey), ["Security:ApiKeys:2:Role"] = "Editor",
        ["Security:ApiKeys:3:Name"] = "admin", ["Security:ApiKeys:3:Sha256"] = ApiKeyService.Hash(AdminKey), ["Security:ApiKeys:3:Role"] = "admin",
    };

    private readonly TrackerServerFactory factory = server.Factory;

    public static string KeyOf(TrackerRole role) => role switch
    {
        TrackerRole.Viewer => ViewerKey,
        TrackerRole.Editor => EditorKey,
        _ => AdminKey,
    };

    public static HttpClient Client(TrackerServerFactory factory, string key)
    {
        var client = factory.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A write route: the least role that may use it, and what it answers that role here.</summary>
    /// <param name="Method">The HTTP method.</param>
    /// <param name="Path">The path; <c>{run}</c> stands for the fixture's logged run.</param>
    /// <param name="Body">A JSON body for each call (a new name where names must be unique), or a text file for an upload.</param>
    /// <param name="Needs">The least role allowed.</param>
    /// <param name="Allowed">The answer to an allowed role: success, or the 404 or 409 the route gives this server's data.</param>
    public sealed record WriteRoute(string Method, string Path, Func<object?> Body, TrackerRole Needs, HttpStatusCode Allowed);

    private static readonly Dictionary<string, WriteRoute> Routes = new()
    {
        // REST: experiments and ask/tell
        ["create experiment"] = new("POST", "/api/experiments", () => new
        {
            name = "roles ask/tell", execution = "external", strategy = "random",
            searchSpace = new { parameters = new object[] { new { type = "float", name = "x", low = 0.0, high = 1.0 } } },
            objective = new { metric = "loss", direction = "minimize" }, maxTrials = 1, epochs = 1,
        }, TrackerRole.Editor, HttpStatusCode.Created),
        ["cancel experiment"] = new("POST", "/api/experiments/done/cancel", () => null, TrackerRole.Editor, HttpStatusCode.OK),
        ["pause experiment"] = new("POST", "/api/experiments/done/pause", () => null, TrackerRole.Editor, HttpStatusCode.Conflict),
        ["cancel trial"] = new("POST", "/api/trials/done-0/cancel", () => null, TrackerRole.Editor, HttpStatusCode.Conflict),
        ["annotate trial"] = new("PATCH", "/api/trials/done-0", () => new { tags = new[] { "tagged" } }, TrackerRole.Editor, HttpStatusCode.OK),
        // REST: run logging
        ["start run"] = new("POST", "/api/runs", () => new { experiment = "role runs" }, TrackerRole.Editor, HttpStatusCode.Created),
        ["log metrics"] = new("POST", "/api/runs/{run}/metrics", () => new { points = new[] { new { key = "loss", value = 0.5, step = 1 } } }, TrackerRole.Editor, HttpStatusCode.OK),
        ["set run tags"] = new("POST", "/api/runs/{run}/tags", () => new { owner = "roles" }, TrackerRole.Editor, HttpStatusCode.OK),
        ["upload artifact"] = new("PUT", "/api/runs/{run}/artifacts/notes.txt", () => "notes", TrackerRole.Editor, HttpStatusCode.Created),
        // MLflow
        ["mlflow log-batch"] = new("POST", "/api/2.0/mlflow/runs/log-batch", () => null, TrackerRole.Editor, HttpStatusCode.OK),
        ["mlflow create experiment"] = new("POST", "/api/2.0/mlflow/experiments/create", () => new { name = $"mlflow {Guid.NewGuid():N}" }, TrackerRole.Editor, HttpStatusCode.OK),
        // Keys and deletion: admins only
        ["list keys"] = new("GET", "/api/keys", () => null, TrackerRole.Admin, HttpStatusCode.OK),
        ["create key"] = new("POST", "/api/keys", () => new { name = "made by a test", role = "viewer" }, TrackerRole.Admin, HttpStatusCode.Created),
        ["revoke key"] = new("POST", "/api/keys/no-such-key/revoke", () => null, TrackerRole.Admin, HttpStatusCode.NotFound),
        ["delete experiment"] = new("DELETE", "/api/experiments/no-such-experiment", () => null, TrackerRole.Admin, HttpStatusCode.NotFound),
    };

    public static TheoryData<string, TrackerRole> Cases()
    {
        var cases = new TheoryData<string, TrackerRole>();
        foreach (var route in Routes.Keys)
            foreach (var role in Enum.GetValues<TrackerRole>()) cases.Add(route, role);
        return cases;
    }

    private async Task<HttpResponseMessage> SendAsync(WriteRoute route, string key)
    {
        string path = route.Path.Replace("{run}", server.RunId, StringComparison.Ordinal);
        var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
        object? body = route.Body();
        if (path.EndsWith("/log-batch", StringComparison.Ordinal))
            body = new { run_id = server.RunId, metrics = new[] { new { key = "mlflow_loss", value = 0.25, timestamp = 1_700_000_000_000L, step = 1 } } };
        request.Content = body switch
        {
            null => null,
            string text => new StringContent(text, Encoding.UTF8, "text/plain"),
            _ => JsonContent.Create(body, options: Api.Json),
        };
        return await Client(factory, key).SendAsync(request);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task WriteRoute_EachRole_AllowedFromItsLeastRoleOn_ElseRefused403(string name, TrackerRole role)
    {
        var route = Routes[name];

        var response = await SendAsync(route, KeyOf(role));

        string text = await response.Content.ReadAsStringAsync();
        if (role >= route.Needs)
        {
            Assert.True(route.Allowed == response.StatusCode, $"{name} as {role}: expected {(int)route.Allowed}, got {(int)response.StatusCode}: {text}");
            return;
        }
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{name} as {role}: expected 403, got {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        string needed = route.Needs == TrackerRole.Admin ? "admin" : "editor";
        if (route.Path.StartsWith(Mlflow.Root, StringComparison.Ordinal))
        {
            Mlflow.AssertError(body, "PERMISSION_DENIED", $"needs the {needed} role");
            Assert.Contains($"({role.Name()})", body.GetProperty("message").GetString());
            return;
        }
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(403, body.GetProperty("status").GetInt32());
        Assert.Equal("Your role may not do this.", body.GetProperty("title").GetString());
        string detail = body.GetProperty("detail").GetString()!;
        Assert.Contains($"needs the {needed} role", detail);
        Assert.Contains($"the API key '{role.Name()}' ({role.Name()})", detail);
    }

    [Fact]
    public async Task Viewer_RefusedWrites_ChangeNothing()
    {
        var stores = factory.Services.GetRequiredService<TrackerStores>();
        int keysBefore = (await stores.ApiKeys.ListApiKeysAsync()).Count;
        int experimentsBefore = (await stores.Experiments.ListExperimentsAsync()).Count;

        foreach (var name in new[] { "log metrics", "mlflow log-batch", "create key", "create experiment", "mlflow create experiment" })
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(Routes[name], ViewerKey)).StatusCode);
        var tag = await Client(factory, ViewerKey).PatchAsJsonAsync("/api/trials/done-0", new { tags = new[] { "viewer-was-here" } }, Api.Json);
        Assert.Equal(HttpStatusCode.Forbidden, tag.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(factory, EditorKey).DeleteAsync("/api/experiments/done")).StatusCode);

        Assert.DoesNotContain("viewer-was-here", (await stores.Trials.GetTrialAsync("done-0"))!.Tags);
        Assert.Equal(keysBefore, (await stores.ApiKeys.ListApiKeysAsync()).Count);
        Assert.Equal(experimentsBefore, (await stores.Experiments.ListExperimentsAsync()).Count);
        Assert.NotNull(await stores.Experiments.GetExperimentAsync("done"));
    }

    [Fact]
    public async Task Viewer_ReadsEverythingReadable_MlflowSearchesIncluded()
    {
        var viewer = Client(factory, ViewerKey);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/runs/{server.RunId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/trials/done-0")).StatusCode);
        var search = await new Mlflow(viewer).PostAsync("runs/search", new { max_results = 5 }); // posted, yet a read
        Assert.Equal(JsonValueKind.Object, search.ValueKind);
        await new Mlflow(viewer).PostAsync("experiments/search", new { max_results = 5 });
    }

    [Fact]
    public async Task KeysApi_AdminCreatesAKeyOfARole_ThatKeyHasThatRole_RevokedItIsRefused()
    {
        var admin = Client(factory, AdminKey);

        var created = await admin.PostAsJsonAsync("/api/keys", new { name = "ci viewer", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        string key = body.GetProperty("key").GetString()!, id = body.GetProperty("id").GetString()!;
        Assert.Equal(("ci viewer", "viewer", key[..8]), (body.GetProperty("name").GetString(), body.GetProperty("role").GetString(), body.GetProperty("prefix").GetString()));
        Assert.False(body.TryGetProperty("sha256", out _));
        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/keys");
        var entry = listed.EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.Equal("viewer", entry.GetProperty("role").GetString());
        Assert.Contains(listed.EnumerateArray(), k => k.GetProperty("name").GetString() == TrackerServerFactory.TestKeyName && k.GetProperty("role").GetString() == "editor");

        var newKey = Client(factory, key);
        Assert.Equal(HttpStatusCode.OK, (await newKey.GetAsync("/api/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await newKey.PatchAsJsonAsync("/api/trials/done-0", new { tags = new[] { "x" } }, Api.Json)).StatusCode);

        var revoked = await admin.PostAsync($"/api/keys/{id}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revokedAt").ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, (await newKey.GetAsync("/api/experiments")).StatusCode);
    }

    [Theory]
    [InlineData("", "viewer", "name")]
    [InlineData("box", "owner", "role")]
    [InlineData("box", "2", "role")]
    [InlineData("box", null, "role")]
    public async Task KeysApi_BadNameOrRole_400NamingTheField(string name, string? role, string field)
    {
        var response = await Client(factory, AdminKey).PostAsJsonAsync("/api/keys", new { name, role });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task KeysApi_Anonymous_401EvenForTheListOnLoopback()
    {
        var response = await factory.CreateAnonymousClient().GetAsync("/api/keys");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task UnsetRole_ConfiguredKeyAndStoredKeyWithoutOne_AreEditors()
    {
        // A key stored before keys had roles: its record has none.
        string old = "trk_KeyStoredBeforeRoles0000000000001";
        await factory.Services.GetRequiredService<IApiKeyStore>().AddApiKeyAsync(
            new ApiKeyRecord("old-key", "old", ApiKeyService.Hash(old), old[..8], DateTimeOffset.UtcNow));

        foreach (var key in new[] { old, TrackerServerFactory.TestKey })
        {
            var client = Client(factory, key);
            Assert.Equal(HttpStatusCode.OK, (await client.PatchAsJsonAsync("/api/trials/done-0", new { tags = new[] { "old-key" } }, Api.Json)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/keys")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/api/experiments/done")).StatusCode);
        }
        Assert.Equal(TrackerRole.Editor, (await factory.Services.GetRequiredService<ApiKeyService>().AuthenticateAsync(old))!.Role);
    }

    [Fact]
    public async Task Hub_ViewerKey_ConnectsAndJoins()
    {
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/metrics"), o =>
            {
                o.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
                o.AccessTokenProvider = () => Task.FromResult<string?>(ViewerKey);
            })
            .Build();

        await connection.StartAsync();
        await connection.InvokeAsync("JoinExperiment", "done");
        await connection.InvokeAsync("LeaveExperiment", "done");

        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    /// <summary>A hub with a method of each kind, for the role rule of hub methods (the server's hub has only reads).</summary>
    public sealed class SampleHub : Hub
    {
        [HubRead]
        public Task Watch() => Task.CompletedTask;

        public Task Rename(string name) => Task.CompletedTask;

        [Authorize(Policy = TrackerPolicies.Admin)]
        public Task Purge() => Task.CompletedTask;
    }

    private sealed class Caller(ClaimsPrincipal? user) : HubCallerContext
    {
        public override string ConnectionId => "test";
        public override string? UserIdentifier => null;
        public override ClaimsPrincipal? User => user;
        public override IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override CancellationToken ConnectionAborted => CancellationToken.None;
        public override void Abort() { }
    }

    private async Task<string?> InvokeAsync(string method, TrackerRole? role)
    {
        var user = role is { } r ? TrackerClaims.ForKey(new ApiKeyHolder(r.Name(), ApiKeySource.Config, new string('0', 64), r)) : new ClaimsPrincipal(new ClaimsIdentity());
        var filter = ActivatorUtilities.CreateInstance<HubRoleFilter>(factory.Services);
        var context = new HubInvocationContext(new Caller(user), factory.Services, new SampleHub(), typeof(SampleHub).GetMethod(method)!, []);
        bool called = false;
        try
        {
            await filter.InvokeMethodAsync(context, _ =>
            {
                called = true;
                return ValueTask.FromResult<object?>(null);
            });
            Assert.True(called);
            return null;
        }
        catch (HubException refused)
        {
            Assert.False(called);
            return refused.Message;
        }
    }

    [Fact]
    public async Task HubMethods_ReadsForAnyone_OthersForEditors_MarkedOnesForAdmins()
    {
        Assert.Null(await InvokeAsync(nameof(SampleHub.Watch), null));
        Assert.Equal("403 Forbidden: Rename needs the editor role; the API key 'viewer' (viewer) may not.", await InvokeAsync(nameof(SampleHub.Rename), TrackerRole.Viewer));
        Assert.StartsWith("403 Forbidden: Rename needs the editor role", await InvokeAsync(nameof(SampleHub.Rename), null));
        Assert.Null(await InvokeAsync(nameof(SampleHub.Rename), TrackerRole.Editor));
        Assert.StartsWith("403 Forbidden: Purge needs the admin role", await InvokeAsync(nameof(SampleHub.Purge), TrackerRole.Editor));
        Assert.Null(await InvokeAsync(nameof(SampleHub.Purge), TrackerRole.Admin));
    }

    [Fact]
    public void ServerHub_EveryMethodIsMarkedARead()
    {
        var methods = typeof(MetricsHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(MetricsHub)).ToList();

        Assert.Equal(["JoinExperiment", "JoinTrial", "LeaveExperiment", "LeaveTrial"], methods.Select(m => m.Name).Order());
        Assert.All(methods, m => Assert.NotNull(m.GetCustomAttribute<HubReadAttribute>()));
    }

    [Fact]
    public void RouteTable_EveryApiWriteNeedsARole()
    {
        var endpoints = factory.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText?.TrimStart('/')).StartsWith("/api/", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods.Any(RolePolicyConventions.IsWrite) == true)
            .ToList();

        Assert.True(endpoints.Count > 30, $"only {endpoints.Count} write endpoints found");
        var unguarded = endpoints.Where(e => !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is TrackerPolicies.Edit or TrackerPolicies.Admin))
            .Select(e => e.RoutePattern.RawText).ToList();
        // Only MLflow's searches, which its clients post although they read.
        Assert.Equal(["/api/2.0/mlflow/experiments/search", "/api/2.0/mlflow/runs/search"], unguarded.Select(p => "/" + p!.TrimStart('/')).Order());
        var admin = endpoints.Where(e => e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == TrackerPolicies.Admin))
            .Select(e => $"{e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods[0]} /{e.RoutePattern.RawText!.Trim('/')}").Order();
        Assert.Equal(["DELETE /api/experiments/{id}", "POST /api/admin/backup", "POST /api/keys", "POST /api/keys/{id}/revoke"], admin);
    }
}
