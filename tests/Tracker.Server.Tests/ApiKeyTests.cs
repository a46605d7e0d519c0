using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Security;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Server.Tests;

/// <summary>
/// The API key rule on the real server: writes need a configured or dashboard key, reads are open from this machine
/// only (by default), MLflow's routes answer in MLflow's shape, and the database keeps hashes, not keys.
/// </summary>
public abstract class ApiKeyTests(ApiKeyTests.Server server)
{
    /// <summary>A loopback server with one finished experiment and trial in its store, for writes that cost nothing; on LiteDB.</summary>
    public class Server : ServerFixture
    {
        public Server()
            : this(ServerBackend.LiteDb)
        {
        }

        protected Server(ServerBackend backend)
            : base(backend)
        {
        }

        protected override Task StartedAsync(TrackerServerFactory factory) => SeedTrialAsync(factory);
    }

    /// <summary>The same server on PostgreSQL.</summary>
    public sealed class PostgresServer(PostgresCluster cluster) : Server(ServerBackend.Postgres(cluster));

    protected const string TrialId = "keyed-0";
    protected static readonly IPAddress OtherMachine = IPAddress.Parse("203.0.113.7");

    private readonly TrackerServerFactory factory = server.Factory;

    /// <summary>The class's server.</summary>
    protected TrackerServerFactory Factory => factory;

    // Finished, so the runner leaves it be; its tags are what the writes below change.
    protected static async Task SeedTrialAsync(TrackerServerFactory factory)
    {
        var store = factory.Services.GetRequiredService<TrackerStores>();
        var t0 = new DateTimeOffset(2025, 5, 1, 8, 0, 0, TimeSpan.Zero);
        await store.Experiments.SaveExperimentAsync(new Experiment { Id = "keyed", CreatedAt = t0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "keyed", Model = "small-cnn", Strategy = "random" } });
        await store.Trials.SaveTrialAsync(new Trial { Id = TrialId, ExperimentId = "keyed", Number = 0, Parameters = [], State = TrialState.Completed, Epochs = 1, CreatedAt = t0 });
    }

    protected static Task<HttpResponseMessage> TagAsync(HttpClient client, params string[] tags) =>
        client.PatchAsJsonAsync($"/api/trials/{TrialId}", new { tags }, Api.Json);

    private async Task<IReadOnlyList<string>> StoredTagsAsync() =>
        (await factory.Services.GetRequiredService<ITrialStore>().GetTrialAsync(TrialId, TestContext.Current.CancellationToken))!.Tags;

    protected static async Task<JsonElement> AssertUnauthorizedProblemAsync(HttpResponseMessage response, string title)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"expected 401, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
        Assert.Equal(title, problem.GetProperty("title").GetString());
        return problem;
    }

    private static HttpClient WithKeyHeader(HttpClient client, string key)
    {
        client.DefaultRequestHeaders.Add(ApiKeyMiddleware.KeyHeader, key);
        return client;
    }

    [Fact]
    public async Task Write_WithoutKey_401ProblemSayingHowToSendOne()
    {
        var response = await TagAsync(factory.CreateAnonymousClient(), "anonymous");

        var problem = await AssertUnauthorizedProblemAsync(response, "An API key is required.");
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains($"PATCH /api/trials/{TrialId}", detail);
        Assert.Contains("Authorization: Bearer <key>", detail);
        Assert.Contains("/settings/api-keys", detail);
        Assert.DoesNotContain("anonymous", await StoredTagsAsync());
    }

    [Fact]
    public async Task Write_ConfiguredKeyAsBearer_Succeeds()
    {
        var response = await TagAsync(factory.CreateClient(), "bearer");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("bearer", await StoredTagsAsync());
    }

    [Fact]
    public async Task Write_ConfiguredKeyInXApiKeyHeader_Succeeds()
    {
        var response = await TagAsync(WithKeyHeader(factory.CreateAnonymousClient(), TrackerServerFactory.TestKey), "header");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("header", await StoredTagsAsync());
    }

    [Fact]
    public async Task Write_ConfiguredKey_ListedWithItsLastUse()
    {
        var before = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.OK, (await TagAsync(factory.CreateClient(), "listed")).StatusCode);

        var listed = (await factory.Services.GetRequiredService<ApiKeyService>().ListAsync(TestContext.Current.CancellationToken)).Single(k => k.Source == ApiKeySource.Config);
        Assert.Equal(TrackerServerFactory.TestKeyName, listed.Name);
        Assert.Null(listed.Prefix);
        Assert.InRange(listed.LastUsedAt!.Value, before, DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Write_UnknownKey_401NotValid_EvenForAnOpenRead()
    {
        var client = WithKeyHeader(factory.CreateAnonymousClient(), "trk_NotAKeyThisServerKnows000000000");

        await AssertUnauthorizedProblemAsync(await TagAsync(client, "unknown"), "The API key is not valid.");
        await AssertUnauthorizedProblemAsync(await client.GetAsync("/api/experiments"), "The API key is not valid.");
        Assert.DoesNotContain("unknown", await StoredTagsAsync());
    }

    [Fact]
    public async Task Write_DashboardKey_SucceedsAndRecordsItsUse_UntilRevoked()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateAsync("  ci runner ", TrackerRole.Editor, TestContext.Current.CancellationToken);
        Assert.Equal("ci runner", created.Record.Name);
        Assert.Null(created.Record.LastUsedAt);
        var client = WithKeyHeader(factory.CreateAnonymousClient(), created.Key);

        Assert.Equal(HttpStatusCode.OK, (await TagAsync(client, "dashboard")).StatusCode);
        Assert.Contains("dashboard", await StoredTagsAsync());
        var stored = (await factory.Services.GetRequiredService<IApiKeyStore>().FindApiKeyByHashAsync(created.Record.Sha256, TestContext.Current.CancellationToken))!;
        Assert.NotNull(stored.LastUsedAt);

        Assert.True(await keys.RevokeAsync(created.Record.Id, TestContext.Current.CancellationToken));

        await AssertUnauthorizedProblemAsync(await TagAsync(client, "after-revocation"), "The API key is not valid.");
        Assert.DoesNotContain("after-revocation", await StoredTagsAsync());
        var listed = (await keys.ListAsync(TestContext.Current.CancellationToken)).Single(k => k.Id == created.Record.Id);
        Assert.Equal(ApiKeySource.Dashboard, listed.Source);
        Assert.Equal(created.Key[..8], listed.Prefix);
        Assert.NotNull(listed.RevokedAt);
        Assert.False(await keys.RevokeAsync("no-such-key", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task MlflowWrite_WithoutKey_401InMlflowShape()
    {
        var body = await new Mlflow(factory.CreateAnonymousClient())
            .PostAsync("experiments/create", new { name = "not-allowed" }, HttpStatusCode.Unauthorized);

        Mlflow.AssertError(body, "UNAUTHENTICATED", "An API key is required.");
        var found = await new Mlflow(factory.CreateClient()).GetAsync("experiments/get-by-name?experiment_name=not-allowed", HttpStatusCode.NotFound);
        Mlflow.AssertError(found, "RESOURCE_DOES_NOT_EXIST");
    }

    [Fact]
    public async Task MlflowWrite_WithTrackingToken_Succeeds()
    {
        var mlflow = new Mlflow(factory.CreateClient()); // MLflow's clients send MLFLOW_TRACKING_TOKEN as a bearer token

        string id = await mlflow.CreateExperimentAsync("with-token");

        Assert.False(string.IsNullOrEmpty(await mlflow.CreateRunIdAsync(id)));
    }

    [Theory]
    [InlineData("runs/search")]
    [InlineData("experiments/search")]
    public async Task MlflowSearch_PostWithoutKeyFromLoopback_IsARead(string path)
    {
        var body = await new Mlflow(factory.CreateAnonymousClient()).PostAsync(path, new { max_results = 10 });

        Assert.Equal(JsonValueKind.Object, body.ValueKind);
    }

    [Fact]
    public async Task Read_WithoutKeyFromInMemoryClient_CountsAsLocal()
    {
        var response = await factory.CreateAnonymousClient().GetAsync($"/api/trials/{TrialId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>
/// The API key rule on LiteDB, and what does not depend on the store: servers of their own with other security
/// settings (started once here, not per backend), the key file bytes, and the hashing.
/// </summary>
public sealed class LiteDbApiKeyTests(ApiKeyTests.Server server) : ApiKeyTests(server), IClassFixture<ApiKeyTests.Server>
{
    [Fact]
    public async Task Read_FromAnotherMachine_NeedsKeyUnderOpenOnLoopback()
    {
        await using var remote = new TrackerServerFactory(TrackerServerFactory.NewDataFolder()) { RemoteAddress = OtherMachine };

        var problem = await AssertUnauthorizedProblemAsync(await remote.CreateAnonymousClient().GetAsync("/api/experiments"), "An API key is required.");
        Assert.Contains("Security:Reads is OpenOnLoopback", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await remote.CreateClient().GetAsync("/api/experiments")).StatusCode);
        var search = await new Mlflow(remote.CreateAnonymousClient()).PostAsync("runs/search", new { max_results = 1 }, HttpStatusCode.Unauthorized);
        Mlflow.AssertError(search, "UNAUTHENTICATED");
        Assert.Equal(HttpStatusCode.Unauthorized, (await remote.CreateAnonymousClient().PostAsync("/hubs/metrics/negotiate?negotiateVersion=1", null)).StatusCode);
    }

    [Fact]
    public async Task Hub_FromAnotherMachine_ConnectsWithAKeyOnly()
    {
        await using var remote = new TrackerServerFactory(TrackerServerFactory.NewDataFolder()) { RemoteAddress = OtherMachine };
        HubConnection Connect(string? key) => new HubConnectionBuilder()
            .WithUrl(new Uri(remote.Server.BaseAddress, "hubs/metrics"), o =>
            {
                o.HttpMessageHandlerFactory = _ => remote.Server.CreateHandler();
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.LongPolling;
                if (key is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(key);
            })
            .Build();

        await using var anonymous = Connect(null);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        await using var keyed = Connect(TrackerServerFactory.TestKey);
        await keyed.StartAsync();
        await keyed.InvokeAsync("JoinExperiment", "keyed");
        Assert.Equal(HubConnectionState.Connected, keyed.State);
    }

    [Fact]
    public async Task Read_FromAnotherMachine_OpenUnderOpen_WritesStillNeedKey()
    {
        await using var remote = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            RemoteAddress = OtherMachine,
            Settings = new Dictionary<string, string> { ["Security:Reads"] = "Open" },
        };
        await SeedTrialAsync(remote);
        var anonymous = remote.CreateAnonymousClient();

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/experiments")).StatusCode);
        await AssertUnauthorizedProblemAsync(await TagAsync(anonymous, "remote"), "An API key is required.");
        Assert.Equal(HttpStatusCode.OK, (await TagAsync(remote.CreateClient(), "remote")).StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task Read_FromLoopbackAddress_OpenUnderOpenOnLoopback_NeedsKeyUnderRequireKey(string address)
    {
        await using var local = new TrackerServerFactory(TrackerServerFactory.NewDataFolder()) { RemoteAddress = IPAddress.Parse(address) };
        await using var strict = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            RemoteAddress = IPAddress.Parse(address),
            Settings = new Dictionary<string, string> { ["Security:Reads"] = "RequireKey" },
        };

        Assert.Equal(HttpStatusCode.OK, (await local.CreateAnonymousClient().GetAsync("/api/experiments")).StatusCode);
        var problem = await AssertUnauthorizedProblemAsync(await strict.CreateAnonymousClient().GetAsync("/api/experiments"), "An API key is required.");
        Assert.Contains("Security:Reads is RequireKey", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await strict.CreateClient().GetAsync("/api/experiments")).StatusCode);
    }

    [Fact]
    public async Task Start_ConfiguredKeyNotAHash_Refused()
    {
        await using var misconfigured = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            Settings = new Dictionary<string, string> { ["Security:ApiKeys:1:Name"] = "plain", ["Security:ApiKeys:1:Sha256"] = "trk_APlainKeyIsNotAHash" },
        };

        var error = Assert.Throws<OptionsValidationException>(() => misconfigured.Services);
        Assert.Contains("Security:ApiKeys:1:Sha256 must be the 64 hex digits", error.Message);
    }

    /// <summary>
    /// Every database file under <paramref name="folder"/>, read in one consistent pass. Read shared, since LiteDB's
    /// direct mode may still hold the file briefly after the host stops; and again when a file vanished between the
    /// listing and the read, since closing the store checkpoints the write-ahead log into the database and deletes it.
    /// </summary>
    private static async Task<List<(string File, byte[] Content)>> ReadDatabaseFilesAsync(string folder)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return Directory.GetFiles(folder, "*.db", SearchOption.AllDirectories).Select(file =>
                {
                    using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    return (file, copy.ToArray());
                }).ToList();
            }
            catch (FileNotFoundException) when (attempt < 50)
            {
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }
        }
    }

    [Fact]
    public async Task DashboardKey_DatabaseFilesHoldItsHashAndPrefixOnly()
    {
        string folder = TrackerServerFactory.NewDataFolder();
        CreatedApiKey created;
        await using (var owner = new TrackerServerFactory(folder))
        {
            created = await owner.Services.GetRequiredService<ApiKeyService>().CreateAsync("stored", TrackerRole.Viewer, TestContext.Current.CancellationToken);
            var stored = (await owner.Services.GetRequiredService<IApiKeyStore>().FindApiKeyByHashAsync(ApiKeyService.Hash(created.Key), TestContext.Current.CancellationToken))!;
            Assert.Equal(created.Record, stored);
            Assert.Equal(created.Key[..8], stored.Prefix);
            Assert.DoesNotContain(created.Key[8..], stored.ToString());
        }

        // The bytes of the database and its write-ahead log: the hash is there (so these are the right files), the key is not.
        var bytes = await ReadDatabaseFilesAsync(folder);
        Assert.Contains(bytes, b => b.Content.AsSpan().IndexOf(Encoding.UTF8.GetBytes(created.Record.Sha256)) >= 0);
        byte[] secret = Encoding.UTF8.GetBytes(created.Key[8..]);
        Assert.All(bytes, b => Assert.True(b.Content.AsSpan().IndexOf(secret) < 0, $"{b.File} holds the key"));
    }

    [Theory]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData(TrackerServerFactory.TestKey, "94faa339a0ec7e39d77f58ab1a99b3e6660a597d736b550d8c41d8e6f7eba2e5")]
    public void Hash_IsHexSha256OfUtf8(string key, string expected) => Assert.Equal(expected, ApiKeyService.Hash(key));

    [Fact]
    public void Generate_TrkAnd32UrlSafeRandomCharacters()
    {
        var generated = Enumerable.Range(0, 50).Select(_ => ApiKeyService.Generate()).ToList();

        Assert.All(generated, k => Assert.Matches(new Regex("^trk_[A-Za-z0-9_-]{32}$"), k));
        Assert.Equal(generated.Count, generated.Distinct().Count());
    }
}

/// <summary>The API key rule on PostgreSQL: keys and their uses stored in the database.</summary>
public sealed class PostgresApiKeyTests(ApiKeyTests.PostgresServer server) : ApiKeyTests(server), IClassFixture<ApiKeyTests.PostgresServer>
{
    [Fact]
    public async Task DashboardKey_DatabaseHoldsItsHashAndPrefixOnly()
    {
        var factory = Factory;
        var created = await factory.Services.GetRequiredService<ApiKeyService>().CreateAsync("stored", TrackerRole.Viewer, TestContext.Current.CancellationToken);

        // Every row of every table, as text: the hash is there (so this is the right database), the key is not.
        await using var database = NpgsqlDataSource.Create(factory.Store.PostgresConnectionString!);
        var rows = new List<string>();
        await using (var tables = database.CreateCommand("SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public'"))
        await using (var reader = await tables.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            var names = new List<string>();
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) names.Add(reader.GetString(0));
            foreach (var name in names)
            {
                await using var select = database.CreateCommand($"SELECT t::text FROM {name} t");
                await using var all = await select.ExecuteReaderAsync(TestContext.Current.CancellationToken);
                while (await all.ReadAsync(TestContext.Current.CancellationToken)) rows.Add(all.GetString(0));
            }
        }
        Assert.Contains(rows, r => r.Contains(created.Record.Sha256, StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains(created.Key[..8], StringComparison.Ordinal));
        Assert.All(rows, r => Assert.DoesNotContain(created.Key[8..], r));
    }
}
