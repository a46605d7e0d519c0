using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using LiteDB;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

/// <summary>
/// The embedded store: one LiteDB file that one process owns, with the trials' files in a folder beside it. Records are
/// converted through Tracker's JSON convention (<see cref="BsonJson"/>) into BSON documents, so what is stored reads
/// like the API's JSON and can be queried by field.
/// </summary>
/// <remarks>
/// The file is exclusive to this process: a sidecar <c>.lock</c> file is held open with <see cref="FileShare.None"/>
/// for the store's lifetime (an advisory <c>flock</c> on Linux, which every .NET process honours) before LiteDB opens
/// the file in Direct mode. So the in-process <see cref="gate"/> is the whole store's write serialisation: trial
/// numbers, read-change-write updates and multi-document transactions need no retry and no cross-process protocol.
/// </remarks>
public sealed partial class LiteDbStore : IExperimentStore, ITrialStore, IMetricStore, IEvaluationStore, IArtifactStore, IApiKeyStore, IDisposable
{
    private readonly FileStream lockFile;
    private readonly ArtifactFiles files;

    // The open LiteDB engine and its collections, swapped as one when the store recovers from an I/O error; null while
    // it is being reopened (see Recover).
    private volatile Engine? engine;

    // Every write goes through this lock. LiteDB's explicit transactions belong to the calling thread, so each one is
    // begun, committed or rolled back inside one synchronous critical section, never across an await.
    private readonly Lock gate = new();

    // Atomic's queue of writes (group commit): the writes waiting for the writer, and whether a caller is writing.
    private readonly Lock queueGate = new();
    private List<QueuedWrite> queued = [];
    private bool writing;

    /// <summary>
    /// Opens (or creates) the database file at <paramref name="databasePath"/>, with the trials' files under
    /// <paramref name="artifactRoot"/> (<c>artifacts</c> beside the file when <c>null</c> or empty).
    /// </summary>
    /// <exception cref="StoreInUseException">Another store (in this process or another) has the file open.</exception>
    /// <exception cref="StoreDamagedException">The file or its log is damaged, or is not a LiteDB database (<see cref="LiteDbFileCheck"/>).</exception>
    /// <exception cref="IOException">The file or its log cannot be written (opening writes); the message names the file and the reason.</exception>
    public LiteDbStore(string databasePath, string? artifactRoot = null)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        string folder = Path.GetDirectoryName(DatabasePath)!;
        Directory.CreateDirectory(folder);
        ArtifactRoot = Path.GetFullPath(string.IsNullOrEmpty(artifactRoot) ? Path.Combine(folder, "artifacts") : artifactRoot);
        lockFile = TakeLock(DatabasePath);
        try
        {
            engine = Engine.Open(DatabasePath);
            EnsureSeriesIndexes();
            ConvertOldMetrics();
            files = new ArtifactFiles(ArtifactRoot);
            files.SweepOrphanUploads();
        }
        catch (Exception error) when (IsIoFailure(error) && files is null) // the database's steps, not the artifact folder's
        {
            Close(); // the failed engine's files too, so that nothing of the store holds the disk after it refused
            lockFile.Dispose();
            // Opening writes (indexes, the log's replay), so a file or log that cannot be written stops the start.
            throw new IOException($"The database {DatabasePath} cannot be opened for writing: {error.Message}", error);
        }
        catch
        {
            engine?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>Opens the store that <paramref name="options"/> name (<see cref="StoreOptions.ConnectionString"/> is the file).</summary>
    public LiteDbStore(StoreOptions options) : this(options.ConnectionString, options.ArtifactRoot) { }

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The absolute folder of the trials' files.</summary>
    public string ArtifactRoot { get; }

    /// <summary>
    /// How long the store waits after an I/O error before it tries to reopen the database, and between tries; writes
    /// meanwhile are refused at once.
    /// </summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether writes are being refused after an I/O error (see <see cref="StoreUnavailableException"/>).</summary>
    public bool IsRefusingWrites => failure is not null;

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            if (engine is { } open)
            {
                // A clean close folds the log into the file; after an I/O error the log stays, and the next open replays it.
                if (failure is null) open.TryCheckpoint();
                open.Dispose();
            }
            engine = null;
        }
        lockFile.Dispose(); // DeleteOnClose removes the sidecar
    }

    private static FileStream TakeLock(string databasePath)
    {
        string path = databasePath + ".lock";
        FileStream stream;
        try
        {
            // OpenOrCreate, not Create: truncating before the lock is ours would erase the holder's name.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new StoreInUseException(databasePath, Holder(path));
        }
        try
        {
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n{Environment.MachineName}\n"));
            stream.Flush(flushToDisk: true);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static string Holder(string lockPath)
    {
        try
        {
            using var stream = OpenUnlocked(lockPath);
            var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.TrimEntries);
            if (lines.Length >= 2 && lines[0].Length > 0) return $"process {lines[0]} on {lines[1]}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException)
        {
            // Released or unreadable meanwhile: say what is known.
        }
        return "another process";
    }

    // .NET opens every file under a shared flock on Unix, which the holder's exclusive one refuses, so the holder's name
    // is read through a plain open(2). Windows refuses any reader of a FileShare.None file.
    private static FileStream OpenUnlocked(string path)
    {
        if (OperatingSystem.IsWindows()) throw new IOException("The lock file cannot be read while it is held.");
        var handle = new SafeFileHandle(PosixOpen(path, 0 /* O_RDONLY */), ownsHandle: true);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new IOException($"Cannot read {path}.");
        }
        return new FileStream(handle, FileAccess.Read);
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int PosixOpen([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    /// <summary>
    /// Runs <paramref name="write"/> as one LiteDB transaction under the write lock, or in one transaction with the
    /// writes that other threads queued meanwhile (group commit); either way it is all or nothing, and what it returns
    /// or throws is its own.
    /// </summary>
    /// <remarks>
    /// A caller queues its write; when no other caller is writing it becomes the writer and commits every queued write
    /// in one transaction, else it blocks (without spinning) until the writer has committed its write or hands the
    /// writing over to it. Concurrent writers so share one commit and one pass over the pages they touch, and a waiting
    /// request costs no CPU. When a write of a group throws, the group is rolled back and each of its writes runs
    /// again alone, so that only the failing one fails: a write must therefore be safe to run twice (each of the store's
    /// writes reads, changes and writes the database, and keeps nothing of a run that was rolled back).
    /// </remarks>
    private T Atomic<T>(Func<T> write)
    {
        var mine = new QueuedWrite(() => write());
        bool lead;
        lock (queueGate)
        {
            queued.Add(mine);
            lead = !writing;
            if (lead) writing = true;
        }
        while (!lead)
        {
            mine.Signal.Wait();
            if (mine.Completed) return mine.Outcome<T>();
            // The writer handed the writing over to this caller.
            mine.Signal.Reset();
            lead = true;
        }
        List<QueuedWrite> group;
        lock (queueGate)
        {
            group = queued;
            queued = [];
        }
        try
        {
            lock (gate) Commit(group);
        }
        finally
        {
            lock (queueGate)
            {
                if (queued.Count == 0) writing = false;
                else queued[0].Signal.Set(); // the next writer; writing stays true
            }
            foreach (var done in group)
                if (!ReferenceEquals(done, mine)) done.Signal.Set();
        }
        return mine.Outcome<T>();
    }

    // Under the write lock: the group in one transaction, or each of its writes alone when that fails. An I/O error
    // fails the group's writes and every later one until the store has recovered (see Fail).
    private void Commit(List<QueuedWrite> group)
    {
        if (group.Count > 1 && ReadyToWrite())
        {
            try
            {
                Transaction(() =>
                {
                    foreach (var write in group) write.Result = write.Write();
                    return true;
                });
                foreach (var write in group) write.Completed = true;
                return;
            }
            catch (Exception error) when (IsIoFailure(error))
            {
                Fail(error);
            }
            catch (Exception)
            {
                // Rolled back: each write again on its own, so that the error reaches only the write that throws it.
            }
        }
        foreach (var write in group)
        {
            try
            {
                write.Result = ReadyToWrite() ? Transaction(write.Write) : throw Unavailable();
            }
            catch (Exception error) when (IsIoFailure(error))
            {
                Fail(error);
                write.Error = Unavailable();
            }
            catch (Exception error)
            {
                write.Error = error;
            }
            write.Completed = true;
        }
    }

    /// <summary>Runs <paramref name="write"/> as one LiteDB transaction; called under the write lock.</summary>
    private T Transaction<T>(Func<T> write)
    {
        CatalogRolledBack();
        var database = db;
        if (!database.BeginTrans())
        {
            // A transaction that a failed rollback left on this thread: discard it rather than join it.
            database.Rollback();
            database.BeginTrans();
        }
        T result;
        try
        {
            result = write();
            database.Commit();
        }
        catch (Exception error)
        {
            CatalogRolledBack();
            try
            {
                database.Rollback();
            }
            catch (Exception rollbackError)
            {
                // The transaction may still be open on this thread: the next transaction on it discards it (see above),
                // and after an I/O error the thread lets go of it, so that the engine can be closed and opened again.
                if (IsIoFailure(rollbackError)) Current.ForgetThreadTransaction();
                throw new AggregateException(error, rollbackError);
            }
            throw;
        }
        CatalogCommitted(); // the trial catalog learns a write only once it is stored
        CheckpointIfDue();
        return result;
    }

    /// <summary>A write waiting for <see cref="Atomic{T}"/>'s writer, and its outcome.</summary>
    private sealed class QueuedWrite(Func<object?> write)
    {
        public Func<object?> Write { get; } = write;

        // Set when the write has run (Completed) or when its caller is to take over the writing.
        public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

        public bool Completed { get; set; }

        public object? Result { get; set; }

        public Exception? Error { get; set; }

        public T Outcome<T>()
        {
            Signal.Dispose();
            if (Error is not null) ExceptionDispatchInfo.Throw(Error);
            return (T)Result!;
        }
    }

    private void Atomic(Action write) => Atomic(() =>
    {
        write();
        return true;
    });

    private static BsonDocument ToBson<T>(T value, string id)
    {
        var doc = BsonJson.ToDocument(value);
        doc["_id"] = id;
        return doc;
    }

    private static T? FromBson<T>(BsonDocument? doc) where T : class
    {
        if (doc is null) return null;
        var copy = new BsonDocument(doc);
        // _id and the denormalised query fields of trials written by earlier versions (_created, _text, ...) are not the record's.
        foreach (var key in copy.Keys.Where(k => k.StartsWith('_')).ToList()) copy.Remove(key);
        return BsonJson.FromDocument<T>(copy);
    }
}
