using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tracker.Core;
using Tracker.Server;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// The real server on a loopback Kestrel port, with its own database and drop-in plugin folder in a temp folder (or,
/// with <see cref="PostgresConnectionString"/>, on a PostgreSQL database with its artifacts in that folder).
/// The built-in plugins still come from artifacts/plugins, which building the server fills.
/// </summary>
public sealed class TrackerServerFactory : WebApplicationFactory<Program>
{
    private readonly DirectoryInfo dataFolder = Directory.CreateTempSubdirectory("tracker-e2e-");

    /// <summary>An API key the server accepts (configured by its hash), for tests that log over the REST API.</summary>
    public const string TestKey = "trk_EndToEndTestKeyForTrackerE2e0001";

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> log = new();

    /// <summary>The server's warnings and errors so far, oldest first, for diagnosing a failed test.</summary>
    public IReadOnlyCollection<string> Log => log;

    /// <summary>More configuration settings (e.g. <c>Security:Dashboard</c>), applied after the factory's own.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A PostgreSQL database (an Npgsql connection string) to run on instead of a LiteDB file: <c>Store:Provider</c>
    /// postgres, with the artifact root in the server's temp folder.
    /// </summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234</c>; set by <see cref="Start"/>.</summary>
    public Uri BaseAddress { get; private set; } = default!;

    /// <summary>Starts Kestrel on a free port and reads back the address it bound.</summary>
    public void Start()
    {
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        BaseAddress = new Uri(addresses.First());
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Program.cs fixes the content root at the repository root; the factory's default (the project folder) would
        // make WebApplicationBuilder fail with "the content root changed".
        builder.UseContentRoot(TrackerPaths.ContentRoot());
        if (PostgresConnectionString is { } connectionString)
        {
            builder.UseSetting("Store:Provider", "postgres");
            builder.UseSetting("Store:ConnectionString", connectionString);
            builder.UseSetting("Store:ArtifactRoot", Path.Combine(dataFolder.FullName, "artifacts"));
        }
        else
        {
            builder.UseSetting("Store:Provider", "litedb");
            builder.UseSetting("Store:ConnectionString", Path.Combine(dataFolder.FullName, "tracker.db"));
        }
        builder.UseSetting("Plugins:DropInFolder", Path.Combine(dataFolder.FullName, "plugins"));
        builder.UseSetting("Runner:PollMilliseconds", "200");
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.UseSetting("Security:ApiKeys:0:Name", "e2e");
        builder.UseSetting("Security:ApiKeys:0:Sha256", Tracker.Server.Security.ApiKeyService.Hash(TestKey));
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.AddProvider(new CollectingLoggerProvider(log)));
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try { dataFolder.Delete(recursive: true); }
        catch (IOException) { } // a file still held open must not fail the run
    }
}

/// <summary>Keeps the server's warnings and errors, with their time and category, in a queue.</summary>
internal sealed class CollectingLoggerProvider(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " — " + exception.GetType().Name + ": " + exception.Message)}");
        }
    }
}
