using LiteDB;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// A copy of a database that no process holds (tracker db backup), and one of the open database (the server's backup route).
public sealed partial class LiteDbStore : IStoreBackup
{
    /// <inheritdoc />
    /// <remarks>
    /// Under the write lock no write commits and no checkpoint runs, so the file and its log, which LiteDB writes only then,
    /// are one moment; readers go on meanwhile. The copy's log is then merged into the copy, which is checked as an open
    /// checks a file.
    /// </remarks>
    public Task<StoreBackupResult> BackupAsync(string destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string target = Path.GetFullPath(destination);
        string targetLog = LiteDbFileCheck.LogPath(target);
        if (File.Exists(target) || File.Exists(targetLog)) throw new IOException($"{target} exists already; a backup goes into a new file.");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        DateTimeOffset takenAt;
        lock (gate)
        {
            if (failure is not null) throw Unavailable();
            takenAt = DateTimeOffset.UtcNow;
            CopyShared(DatabasePath, target);
            string log = LiteDbFileCheck.LogPath(DatabasePath);
            if (File.Exists(log)) CopyShared(log, targetLog);
        }
        using (var copy = new LiteDatabase(new ConnectionString { Filename = target, Connection = ConnectionType.Direct }))
            copy.Checkpoint();
        LiteDbFileCheck.Check(target);
        return Task.FromResult(new StoreBackupResult(target, new FileInfo(target).Length, takenAt));
    }

    // The open database's files, shared with the engine that has them open.
    private static void CopyShared(string source, string target)
    {
        using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        from.CopyTo(to, 1 << 20);
        to.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Copies the database at <paramref name="databasePath"/> into the new file <paramref name="destination"/> without
    /// changing it. The copy is taken under the database's lock, so no store can open the file meanwhile: the file and its
    /// log are checked as an open checks them, then copied as they are, and <paramref name="whileHeld"/> runs (e.g. to copy
    /// the artifact folder at the same moment). The copy's log is then merged into the copy (a LiteDB checkpoint applies
    /// its committed transactions), so the copy is one file as of the last commit before the copy.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no database at <paramref name="databasePath"/>.</exception>
    /// <exception cref="StoreInUseException">A store (a running server) holds the database.</exception>
    /// <exception cref="StoreDamagedException">The database or its log is damaged (<see cref="LiteDbFileCheck"/>).</exception>
    /// <exception cref="IOException">
    /// Another program has the file open (LiteDB without Tracker's lock), or <paramref name="destination"/> or its log
    /// exists already.
    /// </exception>
    public static void CopyDatabase(string databasePath, string destination, Action? whileHeld = null)
    {
        string source = Path.GetFullPath(databasePath);
        string target = Path.GetFullPath(destination);
        if (!File.Exists(source)) throw new FileNotFoundException($"There is no database at {source}.", source);
        string targetLog = LiteDbFileCheck.LogPath(target);
        if (File.Exists(targetLog)) throw new IOException($"{targetLog} exists already; LiteDB would take it for the copy's log.");
        using (TakeLock(source))
        {
            LiteDbFileCheck.Check(source);
            CopyExclusive(source, target);
            string log = LiteDbFileCheck.LogPath(source);
            if (File.Exists(log)) CopyExclusive(log, targetLog);
            whileHeld?.Invoke();
        }
        using var copy = new LiteDatabase(new ConnectionString { Filename = target, Connection = ConnectionType.Direct });
        copy.Checkpoint();
    }

    // The source is opened exclusively: a program that has it open (LiteDB on its own shares it) refuses the copy.
    private static void CopyExclusive(string source, string target)
    {
        using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16);
        using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        from.CopyTo(to, 1 << 20);
        to.Flush(flushToDisk: true);
    }
}
