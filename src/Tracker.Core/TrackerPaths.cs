namespace Tracker.Core;

/// <summary>Finds the folder the server and the command line read <c>appsettings.json</c> (and the server <c>wwwroot/</c>) from.</summary>
public static class TrackerPaths
{
    /// <summary>
    /// The repository root when running from a build (the nearest folder above the binaries that holds
    /// <c>Tracker.sln</c> and <c>appsettings.json</c>), so the server uses the top-level configuration whichever folder
    /// it is started from; otherwise (a published server) the folder of the binaries.
    /// </summary>
    public static string ContentRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tracker.sln")) && File.Exists(Path.Combine(dir.FullName, "appsettings.json")))
                return dir.FullName;
        }
        return AppContext.BaseDirectory;
    }
}
