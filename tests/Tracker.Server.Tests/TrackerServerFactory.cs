using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Tracker.Core;

namespace Tracker.Server.Tests;

/// <summary>
/// The real server (real LiteDB file, real plugins from artifacts/plugins, real TorchSharp trials) on an in-memory
/// transport, with its database in a folder the test owns so that a second factory can reopen it.
/// </summary>
public sealed class TrackerServerFactory(string dataFolder) : WebApplicationFactory<Program>
{
    public string DataFolder { get; } = dataFolder;

    public string DatabasePath => Path.Combine(DataFolder, "tracker.db");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // The server reads the top-level appsettings.json; the factory must agree on where that is.
        builder.UseContentRoot(TrackerPaths.ContentRoot());
        builder.UseSetting("Store:DatabasePath", DatabasePath);
        builder.UseSetting("Plugins:DropInFolder", Path.Combine(DataFolder, "plugins"));
        builder.UseSetting("Runner:PollMilliseconds", "100");
    }

    public static string NewDataFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tracker-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
