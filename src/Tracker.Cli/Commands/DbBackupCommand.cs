using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Storage;
using Tracker.Storage;
using Tracker.Storage.LiteDb;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker db backup</c>.</summary>
public sealed class DbBackupSettings : CommandSettings
{
    /// <summary>The new file to write the copy to.</summary>
    [CommandArgument(0, "<DEST>")]
    [Description("The new file to write the copy to; it must not exist.")]
    public string Destination { get; set; } = "";

    /// <summary>The LiteDB file to copy; defaults to <c>Store:ConnectionString</c> of the configuration.</summary>
    [CommandOption("--db <PATH>")]
    [Description("The database file to copy. Defaults to Store:ConnectionString of appsettings.json.")]
    public string? Database { get; set; }

    /// <summary>The configuration file that names the database.</summary>
    [CommandOption("--config <PATH>")]
    [Description("The appsettings.json to read Store from. Defaults to the repository's.")]
    public string? Config { get; set; }

    /// <summary>The artifact folder to copy; defaults to the store's (<c>artifacts</c> beside the file, or Store:ArtifactRoot).</summary>
    [CommandOption("--artifacts <DIR>")]
    [Description("The artifact folder to copy. Defaults to the store's: Store:ArtifactRoot, or artifacts beside the database file.")]
    public string? Artifacts { get; set; }

    /// <summary>Where the artifact folder's copy goes; defaults to <c>DEST-name-artifacts</c> beside the copy.</summary>
    [CommandOption("--artifacts-to <DIR>")]
    [Description("Where to copy the artifact folder to; it must not exist. Defaults to <DEST name>-artifacts beside DEST.")]
    public string? ArtifactsTo { get; set; }
}

/// <summary>
/// <c>tracker db backup DEST</c>: copies a LiteDB database that no process holds into the new file DEST, with its
/// artifact folder beside it, then checks the copy as <c>tracker db check</c> does. The source is not changed.
/// </summary>
/// <remarks>
/// The copy is taken under the database's lock (<see cref="LiteDbStore.CopyDatabase"/>), so a server cannot start on the
/// file meanwhile and the database and its artifact files are copied at one moment. A database a server holds is refused
/// with the holder's process id and the server's own backup route (POST /api/admin/backup), which copies the database
/// while it serves. Everything is written
/// into a hidden folder beside DEST first and moved into place only once the copy reads back, so a failed backup leaves
/// nothing at DEST. A PostgreSQL store is backed up with pg_dump, whose command is printed.
/// </remarks>
public sealed class DbBackupCommand(IAnsiConsole console) : AsyncCommand<DbBackupSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, DbBackupSettings settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Destination))
            throw new CliException("Name the new file to write the backup to (e.g. tracker db backup backups/tracker-2025-06-01.db).", TrackerCli.InvalidInput);
        var store = TrackerLocation.Resolve(settings.Config).Store(settings.Database);
        string destination = Path.GetFullPath(settings.Destination);
        if (store.Provider == StoreOptions.Postgres)
            throw new CliException(PostgresAdvice(store, destination), TrackerCli.InvalidInput);

        string source = store.ConnectionString;
        DatabaseFile.EnsureExists(source, "Name the LiteDB file to back up with --db (e.g. --db data/tracker.db).", TrackerCli.InvalidInput);
        string artifactsFrom = Path.GetFullPath(settings.Artifacts ?? store.ArtifactRoot);
        string artifactsTo = Path.GetFullPath(settings.ArtifactsTo
            ?? Path.Combine(Path.GetDirectoryName(destination)!, Path.GetFileNameWithoutExtension(destination) + "-artifacts"));
        RefuseExisting(destination, "DEST");
        RefuseExisting(LiteDbFileCheck.LogPath(destination), "DEST's log file");
        RefuseExisting(artifactsTo, "The artifact copy's folder");
        if (Inside(artifactsTo, artifactsFrom) || Inside(destination, artifactsFrom))
            throw new CliException($"The backup would be written inside the artifact folder {artifactsFrom} it copies; name a place outside it.", TrackerCli.InvalidInput);

        // Everything is made in a hidden folder beside DEST, and moved into place once it has been checked.
        string folder = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(folder);
        string work = Path.Combine(folder, $".{Path.GetFileName(destination)}.backup-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string copy = Path.Combine(work, Path.GetFileName(destination));
            string copiedArtifacts = Path.Combine(work, "artifacts");
            var files = new FileCount();
            bool hasArtifacts = Directory.Exists(artifactsFrom);
            try
            {
                LiteDbStore.CopyDatabase(source, copy, () =>
                {
                    if (hasArtifacts) CopyFolder(artifactsFrom, copiedArtifacts, files, cancellationToken);
                });
            }
            catch (StoreInUseException e)
            {
                throw new CliException($"The database {source} is in use by {e.Holder}, most likely a running Tracker server. "
                    + "A backup needs the file to itself, so that it copies one consistent moment. While the server runs, ask it for one with an admin's key "
                    + "(curl -X POST -H 'Authorization: Bearer KEY' http://HOST/api/admin/backup writes backups/tracker-<time>.db beside the database), "
                    + "or stop the server, run tracker db backup, then start it again. (A plain file copy of a database in use may be inconsistent.)");
            }
            catch (StoreDamagedException e)
            {
                throw new CliException($"{e.Message} Nothing was copied; tracker db check {source} says the same.");
            }
            catch (IOException e) when (e is not FileNotFoundException)
            {
                throw new CliException($"The database {source} cannot be copied: {e.Message} If another program has it open, close it first.");
            }

            StoreCheckResult read;
            try
            {
                read = await StoreCheck.CheckLiteDbAsync(copy, copiedArtifacts, cancellationToken);
            }
            catch (StoreDamagedException e)
            {
                throw new CliException($"The copy does not read back, so it was not kept: {e.Message}");
            }

            File.Move(copy, destination);
            string log = LiteDbFileCheck.LogPath(copy);
            if (File.Exists(log)) File.Move(log, LiteDbFileCheck.LogPath(destination));
            if (Directory.Exists(copiedArtifacts)) Directory.Move(copiedArtifacts, artifactsTo);

            console.MarkupLine($"[green]ok:[/] {Markup.Escape(destination)}: {read.Records:N0} records read back, {read.Experiments:N0} experiments and {read.Trials:N0} trials among them.");
            if (hasArtifacts)
            {
                console.MarkupLine($"    artifacts: {files.Files.ToString("N0", CultureInfo.InvariantCulture)} files ({files.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes) in {Markup.Escape(artifactsTo)}");
                if (files.Links > 0)
                    console.MarkupLine($"[yellow]note:[/] {files.Links:N0} symbolic link(s) in the artifact folder were not copied (the server does not serve them).");
            }
            else
                console.MarkupLine($"[yellow]note:[/] there is no artifact folder at {Markup.Escape(artifactsFrom)}, so no artifact files were copied; name it with --artifacts if it is elsewhere.");
            console.MarkupLine($"Restore: stop the server, put the copy in the database's place and its artifacts in the artifact folder's place (or start the server with --Store:ConnectionString {Markup.Escape(destination)} --Store:ArtifactRoot {Markup.Escape(artifactsTo)}).");
            return TrackerCli.Success;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Left for the user to remove; the backup itself is in place or was refused.
            }
        }
    }

    private static void RefuseExisting(string path, string what)
    {
        if (File.Exists(path) || Directory.Exists(path))
            throw new CliException($"{what} {path} exists already; a backup never overwrites anything. Name a new file.", TrackerCli.InvalidInput);
    }

    private static bool Inside(string path, string folder)
    {
        string relative = Path.GetRelativePath(folder, path);
        return relative == "." || !(relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative));
    }

    /// <summary>Copies a folder's files and subfolders; symbolic links are counted, not followed or copied.</summary>
    private static void CopyFolder(string from, string to, FileCount count, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            cancellationToken.ThrowIfCancellationRequested();
            string target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is not null) count.Links++;
            else if (entry is DirectoryInfo directory) CopyFolder(directory.FullName, target, count, cancellationToken);
            else if (entry is FileInfo file && !file.Name.StartsWith(".upload-", StringComparison.Ordinal)) // uploads in progress are not artifacts yet
            {
                file.CopyTo(target);
                count.Files++;
                count.Bytes += file.Length;
            }
        }
    }

    /// <summary>How to back up a PostgreSQL store: pg_dump's command for the connection string, and the artifact folder.</summary>
    internal static string PostgresAdvice(StoreOptions store, string destination)
    {
        var parts = new DbConnectionStringBuilder { ConnectionString = store.ConnectionString };
        string? Get(params string[] keys) => keys.Select(k => parts.TryGetValue(k, out var v) ? v?.ToString() : null).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        var command = new List<string> { "pg_dump", "--format=custom", "--file", Quote(destination) };
        if (Get("Host", "Server") is { } host) command.AddRange(["--host", Quote(host)]);
        if (Get("Port") is { } port) command.AddRange(["--port", port]);
        if (Get("Username", "User ID", "User", "UserId") is { } user) command.AddRange(["--username", Quote(user)]);
        command.Add(Quote(Get("Database", "DB") ?? "tracker"));
        return "tracker db backup copies LiteDB files; the store is PostgreSQL, which pg_dump backs up while the server runs:\n  "
            + string.Join(' ', command)
            + "\n(the password from PGPASSWORD or ~/.pgpass; restore with pg_restore), and copy its artifact folder "
            + store.ArtifactRoot + " with it.";
    }

    private static string Quote(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':' or '=') ? value : $"'{value.Replace("'", "'\\''")}'";

    private sealed class FileCount
    {
        public long Files, Bytes, Links;
    }
}
