using LiteDB;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// Reading every record back. The open check (LiteDbFileCheck) reads each page's header only, so that start-up stays
// fast; garbage inside a page shows only when its records are decoded. LiteDB 5 keeps no checksums, so values whose
// bytes are still well-formed (a double inside a series chunk) cannot be told from damage by anyone.
public sealed partial class LiteDbStore : IStoreVerification
{
    // Set when a record did not read back: writes are refused from then on (ReadyToWrite), for as long as the process runs.
    private volatile StoreDamagedException? damage;

    /// <summary>Whether a verification found damage; the store then refuses every write.</summary>
    public bool IsDamaged => damage is not null;

    /// <inheritdoc />
    public StoreDamagedException? Damage => damage;

    /// <inheritdoc />
    /// <remarks>
    /// Reads through an engine of its own, opened read-only: LiteDB's engine closes itself on some decoding errors and
    /// then marks the file for a rebuild (byte 191 of its header), a write this store never lets happen to a file it
    /// found damaged. The file is read under the write lock, so that no commit or checkpoint changes it meanwhile;
    /// reads go on, writes wait (2 to 3 ms a MiB: 376 to 593 ms for 191 MiB, 16,301 records).
    /// </remarks>
    public Task<long> VerifyAsync(CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        long records = 0;
        string reading = "the list of collections";
        lock (gate)
        {
            try
            {
                using var reader = new LiteDatabase(new ConnectionString { Filename = DatabasePath, Connection = ConnectionType.Direct, ReadOnly = true });
                foreach (string name in reader.GetCollectionNames().Order(StringComparer.Ordinal))
                {
                    reading = $"a record of '{name}'";
                    foreach (var _ in reader.GetCollection(name).FindAll())
                    {
                        records++;
                        if ((records & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                    }
                }
            }
            catch (Exception error) when (IsDecodingFailure(error))
            {
                var found = new StoreDamagedException(DatabasePath, $"{reading} does not read back ({error.GetType().Name}: {error.Message})");
                damage ??= found;
                throw found;
            }
        }
        return records;
    }, cancellationToken);

    // What LiteDB throws on bytes that are not a well-formed page or document, as opposed to a disk's error, a closed
    // engine or a cancellation.
    private static bool IsDecodingFailure(Exception error) => error switch
    {
        OperationCanceledException or ObjectDisposedException => false,
        _ when IsIoFailure(error) => false,
        LiteException or ArgumentException or FormatException or InvalidCastException or IndexOutOfRangeException
            or OverflowException or System.Text.DecoderFallbackException or InvalidOperationException => true,
        _ => false,
    };
}
