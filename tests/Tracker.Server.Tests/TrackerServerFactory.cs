using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Core;

namespace Tracker.Server.Tests;

/// <summary>
/// The real server (real store, real plugins from artifacts/plugins, real TorchSharp trials) on an in-memory
/// transport, with its data in a <see cref="ServerStore"/> the test owns so that a second factory can reopen it: a LiteDB
/// file in the data folder, or (see <see cref="ServerBackend"/>) a PostgreSQL database of its own with the artifacts in
/// the data folder. Its configuration holds the hash of <see cref="TestKey"/>, and every client it creates sends that key;
/// <see cref="CreateAnonymousClient"/> makes one that sends none.
/// </summary>
public sealed class TrackerServerFactory(ServerStore store) : WebApplicationFactory<Program>
{
    /// <summary>A server on a LiteDB file in <paramref name="dataFolder"/>.</summary>
    public TrackerServerFactory(string dataFolder)
        : this(new ServerStore(dataFolder))
    {
    }

    /// <summary>The API key every client of the factory sends (as <c>Authorization: Bearer</c>).</summary>
    public const string TestKey = "trk_TestKeyForTrackerServerTests0001";

    /// <summary>The name <see cref="TestKey"/> has in configuration.</summary>
    public const string TestKeyName = "tests";

    // printf %s "trk_TestKeyForTrackerServerTests0001" | sha256sum
    private const string TestKeySha256 = "94faa339a0ec7e39d77f58ab1a99b3e6660a597d736b550d8c41d8e6f7eba2e5";

    /// <summary>Where the server keeps its data.</summary>
    public ServerStore Store { get; } = store;

    public string DataFolder => Store.DataFolder;

    /// <summary>The LiteDB file (unused on PostgreSQL).</summary>
    public string DatabasePath => Path.Combine(DataFolder, "tracker.db");

    /// <summary>Trials' files: beside the LiteDB file (the backend's default), or the same folder set for PostgreSQL.</summary>
    public string ArtifactRoot => Path.Combine(DataFolder, "artifacts");

    /// <summary>
    /// The remote address every request appears to come from; <c>null</c> (the default) leaves it unset, as the
    /// in-memory transport does, which the server treats as local.
    /// </summary>
    public IPAddress? RemoteAddress { get; init; }

    /// <summary>More configuration settings (e.g. <c>Security:Reads</c>), applied after the factory's own.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>A client that sends no API key.</summary>
    public HttpClient CreateAnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKey);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // The server reads the top-level appsettings.json; the factory must agree on where that is.
        builder.UseContentRoot(TrackerPaths.ContentRoot());
        if (Store.PostgresConnectionString is { } connectionString)
        {
            builder.UseSetting("Store:Provider", "postgres");
            builder.UseSetting("Store:ConnectionString", connectionString);
            builder.UseSetting("Store:ArtifactRoot", ArtifactRoot);
        }
        else
        {
            builder.UseSetting("Store:Provider", "litedb");
            builder.UseSetting("Store:ConnectionString", DatabasePath);
        }
        builder.UseSetting("Plugins:DropInFolder", Path.Combine(DataFolder, "plugins"));
        builder.UseSetting("Runner:PollMilliseconds", "100");
        builder.UseSetting("Security:ApiKeys:0:Name", TestKeyName);
        builder.UseSetting("Security:ApiKeys:0:Sha256", TestKeySha256);
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        if (RemoteAddress is { } address)
            builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new RemoteAddressFilter(address)));
    }

    public static string NewDataFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tracker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    // Runs first in the pipeline, so the server's own middleware sees the request as coming from another machine.
    private sealed class RemoteAddressFilter(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
