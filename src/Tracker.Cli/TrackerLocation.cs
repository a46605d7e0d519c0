using Microsoft.Extensions.Configuration;
using Tracker.Core;
using Tracker.Core.Storage;

namespace Tracker.Cli;

/// <summary>
/// Where the command line finds its configuration, and so the database and plugins that relative paths in it name:
/// the folder of <c>--config</c> when given; else the repository the binaries were built in (as the server does, see
/// <see cref="TrackerPaths"/>); else, for an installed tool, the current folder.
/// </summary>
/// <param name="ContentRoot">The folder relative paths resolve against.</param>
/// <param name="ConfigFile">The configuration file (it may be missing: then every setting takes its default).</param>
public sealed record TrackerLocation(string ContentRoot, string ConfigFile)
{
    /// <summary>The configuration file's usual name.</summary>
    public const string ConfigFileName = "appsettings.json";

    /// <summary>Resolves the location for an optional <c>--config</c> path.</summary>
    public static TrackerLocation Resolve(string? configFile)
    {
        if (!string.IsNullOrWhiteSpace(configFile))
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full)) throw new CliException($"There is no configuration file at {full}.", TrackerCli.InvalidInput);
            return new TrackerLocation(Path.GetDirectoryName(full)!, full);
        }
        var root = TrackerPaths.ContentRoot();
        if (File.Exists(Path.Combine(root, ConfigFileName))) return new TrackerLocation(root, Path.Combine(root, ConfigFileName));
        var here = Directory.GetCurrentDirectory();
        return new TrackerLocation(here, Path.Combine(here, ConfigFileName));
    }

    /// <summary>The configuration as the server would read it: the file, then environment variables.</summary>
    public IConfiguration Configuration() =>
        new ConfigurationBuilder().AddJsonFile(ConfigFile, optional: true).AddEnvironmentVariables().Build();

    /// <summary>
    /// The store to open: a LiteDB file <paramref name="database"/> when given, else the configured <c>Store</c>
    /// (a relative LiteDB file or artifact root resolves against <see cref="ContentRoot"/>, as the server resolves it).
    /// </summary>
    public StoreOptions Store(string? database)
    {
        var configured = Configuration().GetSection("Store");
        string provider = database is null && configured["Provider"] is { Length: > 0 } p ? p : StoreOptions.LiteDb;
        string connection = provider == StoreOptions.LiteDb ? DatabasePath(database) : configured["ConnectionString"] ?? "";
        string root = configured["ArtifactRoot"] is { Length: > 0 } r && database is null ? Path.GetFullPath(Path.Combine(ContentRoot, r))
            : provider == StoreOptions.LiteDb ? Path.Combine(Path.GetDirectoryName(connection)!, "artifacts")
            : Path.GetFullPath(Path.Combine(ContentRoot, "data/artifacts"));
        return new StoreOptions { Provider = provider, ConnectionString = connection, ArtifactRoot = root };
    }

    /// <summary>The absolute path of the database: <paramref name="database"/> when given, else <c>Store:ConnectionString</c>.</summary>
    public string DatabasePath(string? database)
    {
        if (!string.IsNullOrWhiteSpace(database)) return Path.GetFullPath(database);
        var configured = Configuration()["Store:ConnectionString"];
        return Path.GetFullPath(Path.Combine(ContentRoot, string.IsNullOrWhiteSpace(configured) ? new StoreOptions().ConnectionString : configured));
    }
}
