namespace Tracker.Cli;

/// <summary>Checks on a LiteDB file before the command line opens it.</summary>
public static class DatabaseFile
{
    /// <summary>
    /// Throws a <see cref="CliException"/> that suggests <c>--server</c> when another process (a running server) has
    /// <paramref name="path"/> open. LiteDB's direct mode asks for the file exclusively on Windows but only for a shared
    /// lock on Linux and macOS, where a second writer would not be refused and would corrupt the file; asking for an
    /// exclusive lock here is refused on every system while any store holds the file. <paramref name="advice"/> replaces
    /// the suggestion for commands that have no <c>--server</c>.
    /// </summary>
    public static void EnsureNotInUse(string path, string? advice = null)
    {
        if (!File.Exists(path)) return;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
        }
        catch (IOException)
        {
            throw new CliException($"The database {path} is in use by another process, most likely a running Tracker server. " +
                (advice ?? "Stop it, or read through it with --server (e.g. --server http://127.0.0.1:5000)."));
        }
    }

    /// <summary>
    /// Throws a <see cref="CliException"/> when there is no database at <paramref name="path"/> (opening one would create
    /// it). <paramref name="advice"/> replaces the suggestion, and <paramref name="exitCode"/> the exit code.
    /// </summary>
    public static void EnsureExists(string path, string? advice = null, int exitCode = TrackerCli.Failure)
    {
        if (!File.Exists(path))
            throw new CliException($"There is no database at {path}. " + (advice ?? "Name one with --db, or read a running server with --server."), exitCode);
    }
}
