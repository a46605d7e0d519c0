namespace Tracker.Core.Storage;

/// <summary>
/// An online copy of the database into a new file, taken while the store goes on serving: what a store that keeps its
/// database in a file of its own offers (LiteDB). A database server's store does not; its own tools back it up.
/// </summary>
public interface IStoreBackup
{
    /// <summary>
    /// Copies the database, as of one moment between writes, into the new file <paramref name="destination"/> and checks
    /// that the copy opens. Trials' files are not part of it.
    /// </summary>
    /// <exception cref="IOException"><paramref name="destination"/> exists already.</exception>
    /// <exception cref="StoreUnavailableException">The store is refusing writes after an I/O error.</exception>
    Task<StoreBackupResult> BackupAsync(string destination, CancellationToken cancellationToken = default);
}

/// <summary>Where a backup went and how large it is.</summary>
public sealed record StoreBackupResult(string Path, long Bytes, DateTimeOffset TakenAt);
