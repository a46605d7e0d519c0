using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using LiteDB;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// The LiteDB engine the store works through, and what the store does when the disk fails it.
//
// LiteDB closes its engine for good on some I/O errors and, on others (a commit that ran out of disk), leaves a
// transaction it could not roll back on the calling thread; its page cache and free-page lists may then disagree with
// the file. So after any I/O error in a write the store refuses writes (StoreUnavailableException) and, every
// RecoveryInterval, closes the engine and opens the file again: the log replays exactly the transactions that
// committed, and the trial catalog is rebuilt from them. A write is acknowledged only once LiteDB has written its commit
// to the log.
public sealed partial class LiteDbStore
{
    private const int CheckpointLogPages = 1000; // LiteDB's own default

    // Set by the first I/O error; cleared when the database has been reopened. Guarded by the write lock.
    private volatile StoreUnavailableException? failure;
    private long failedAt; // Environment.TickCount64 of the last I/O error or failed reopen

    // The engine's parts, through the one reference that recovery swaps. Named as the fields they replace.
    private Engine Current => engine ?? throw Unavailable();
    private LiteDatabase db => Current.Database;
    private ILiteCollection<BsonDocument> experiments => Current.Experiments;
    private ILiteCollection<BsonDocument> trials => Current.Trials;
    private ILiteCollection<BsonDocument> counters => Current.Counters;
    private ILiteCollection<BsonDocument> reports => Current.Reports;
    private ILiteCollection<BsonDocument> predictions => Current.Predictions;
    private ILiteCollection<BsonDocument> artifacts => Current.Artifacts;
    private ILiteCollection<BsonDocument> apiKeys => Current.ApiKeys;
    private ILiteCollection<BsonDocument> series => Current.Series;
    private ILiteCollection<BsonDocument> seriesPoints => Current.SeriesPoints;
    private ILiteCollection<BsonDocument> latest => Current.Latest;

    private StoreUnavailableException Unavailable() =>
        damage is { } damaged ? new StoreUnavailableException($"the database {DatabasePath} is damaged: {damaged.Reason}; it is left as it is: stop the server, keep a copy of the file and run `tracker db check`", damaged)
        : failure is { } known ? new StoreUnavailableException(known.Reason, known.InnerException)
        : new StoreUnavailableException("the database is being reopened");

    /// <summary>Whether <paramref name="error"/> (or one it wraps) is the disk's or the file's, not the write's.</summary>
    private static bool IsIoFailure(Exception error) => error switch
    {
        StoreUnavailableException => true,
        StoreInUseException or StoreDamagedException => false,
        // Thrown by the file system or by LiteDB, not by a caller's own data (a stream of points that fails, say).
        IOException or ObjectDisposedException => error.TargetSite?.DeclaringType?.Assembly is { } source
            && (source == typeof(FileStream).Assembly || source == typeof(LiteDatabase).Assembly),
        AggregateException many => many.InnerExceptions.Any(IsIoFailure),
        { InnerException: { } inner } => IsIoFailure(inner),
        _ => false,
    };

    // Under the write lock: refuses writes until ReadyToWrite has reopened the file. The failed engine is closed there,
    // not here, where the failing write's frames still hold it (see Close).
    private void Fail(Exception error)
    {
        if (error is StoreUnavailableException) return; // a refusal, not a new error: the clock to the next reopen runs on
        // The latest cause: a reopen that failed says why the store is still refusing.
        var cause = error is AggregateException many ? many.InnerExceptions.FirstOrDefault(IsIoFailure) ?? error : error;
        failure = new StoreUnavailableException($"an I/O error on {DatabasePath}: {cause.Message}", cause);
        failedAt = Environment.TickCount64;
    }

    // Under the write lock, before a group of writes: true when the store may write, reopening the file when an
    // earlier I/O error closed it and the interval has passed.
    private bool ReadyToWrite()
    {
        if (damage is not null) return false; // never written again by this process
        if (failure is null) return true;
        if (Environment.TickCount64 - failedAt < (long)RecoveryInterval.TotalMilliseconds) return false;
        try
        {
            Close();
            engine = Engine.Open(DatabasePath);
            EnsureSeriesIndexes();
            catalog = null; // rebuilt from what the file holds: a failed commit may or may not have reached it
            failure = null;
            return true;
        }
        catch (Exception error)
        {
            if (!IsIoFailure(error)) throw; // a damaged file is not a disk to wait for
            Fail(error);
            // The engine that failed to open lets go of its files now, not at the next attempt: until then an operator
            // could not, for one, unmount the disk to repair it.
            Close();
            return false;
        }
    }

    // Closes the engine and lets go of its files. LiteDB may keep streams of an engine it closed on an error, and the
    // file's advisory lock with them, so the engine is collected before the file is opened again: called where no
    // frame on the stack refers to it.
    private void Close()
    {
        DropEngine();
        // Rounds, because the engine's thread-local transaction slot lets go of its streams only once the slot itself
        // has been finalized; then the streams' finalizers close the files.
        for (int round = 0; round < 3; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    // A frame of its own, so that no local of the caller's keeps the engine reachable.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DropEngine()
    {
        var closing = engine;
        engine = null;
        closing?.Dispose();
    }

    // After a commit: folds the log into the file once it has grown. LiteDB's own checkpoint runs inside the commit,
    // where an I/O error would fail a write that the log already holds; here it fails no write, only later ones.
    private void CheckpointIfDue()
    {
        if (Current.LogPages() <= CheckpointLogPages) return;
        try
        {
            Current.Database.Checkpoint();
        }
        catch (Exception error) when (IsIoFailure(error))
        {
            Fail(error);
        }
        catch (LiteException)
        {
            // Readers held the file past LiteDB's lock timeout: the next commit tries again.
        }
    }

    /// <summary>One open LiteDB engine and the store's collections in it.</summary>
    private sealed class Engine : IDisposable
    {
        private readonly string logPath;

        private Engine(string databasePath, LiteDatabase database)
        {
            logPath = LiteDbFileCheck.LogPath(databasePath);
            Database = database;
            Experiments = database.GetCollection("experiments");
            Trials = database.GetCollection("trials");
            Counters = database.GetCollection("counters");
            Reports = database.GetCollection("reports");
            Predictions = database.GetCollection("predictions");
            Artifacts = database.GetCollection("artifacts");
            ApiKeys = database.GetCollection("apiKeys");
            Series = database.GetCollection(SeriesCollection, BsonAutoId.Int64);
            SeriesPoints = database.GetCollection("seriesPoints");
            Latest = database.GetCollection("latest");
        }

        public LiteDatabase Database { get; }
        public ILiteCollection<BsonDocument> Experiments { get; }
        public ILiteCollection<BsonDocument> Trials { get; }
        public ILiteCollection<BsonDocument> Counters { get; }
        public ILiteCollection<BsonDocument> Reports { get; }
        public ILiteCollection<BsonDocument> Predictions { get; }
        public ILiteCollection<BsonDocument> Artifacts { get; }
        public ILiteCollection<BsonDocument> ApiKeys { get; }
        public ILiteCollection<BsonDocument> Series { get; }
        public ILiteCollection<BsonDocument> SeriesPoints { get; }
        public ILiteCollection<BsonDocument> Latest { get; }

        /// <summary>Opens the file (checked first: LiteDB would reset or rewrite a damaged one) with its indexes.</summary>
        public static Engine Open(string databasePath)
        {
            LiteDbFileCheck.Check(databasePath);
            var database = new LiteDatabase(new ConnectionString { Filename = databasePath, Connection = ConnectionType.Direct });
            try
            {
                // The store checkpoints after commits itself (CheckpointIfDue).
                if (database.CheckpointSize != 0) database.CheckpointSize = 0;
                CreateCollections(database);
                var opened = new Engine(databasePath, database);
                opened.Trials.EnsureIndex("experimentId");
                opened.Trials.EnsureIndex("state");
                opened.Reports.EnsureIndex("trialId");
                opened.Artifacts.EnsureIndex("trialId");
                opened.ApiKeys.EnsureIndex("sha256", unique: true);
                return opened;
            }
            catch
            {
                // An open that failed on a write (the log not writable, say) leaves that transaction on this thread,
                // holding the engine's files, as a failed commit does.
                ForgetThreadTransaction(database);
                Quietly(database.Dispose);
                throw;
            }
        }

        // LiteDB 5 makes a collection on its first write, and a reader that meets a collection while another thread's
        // transaction is making it may read an empty page for it ("page type must be collection page"), after which the
        // engine closes. So every collection the store uses is made when it opens, before anyone reads.
        private static void CreateCollections(LiteDatabase database)
        {
            string[] names = ["experiments", "trials", "counters", "reports", "predictions", "artifacts", "apiKeys", SeriesCollection, "seriesPoints", "latest", "_files", "_chunks"];
            var missing = names.Where(name => !database.CollectionExists(name)).ToList();
            if (missing.Count == 0) return;
            database.BeginTrans();
            foreach (var name in missing)
            {
                var collection = database.GetCollection(name);
                collection.Insert(new BsonDocument { ["_id"] = "collection-made-on-open" });
                collection.Delete("collection-made-on-open");
            }
            database.Commit();
        }

        public long LogPages()
        {
            var log = new FileInfo(logPath);
            return log.Exists ? log.Length / LiteDbFileCheck.PageSize : 0;
        }

        /// <summary>Folds the log into the file if no reader is in the way; a failure leaves the log to the next open.</summary>
        public void TryCheckpoint() => Quietly(() => Database.Checkpoint());

        public void Dispose() => Quietly(Database.Dispose);

        /// <summary>
        /// Drops the transaction that a failed commit and rollback left in this thread's slot. The slot is a
        /// thread-local of LiteDB's, which would otherwise keep the whole engine, and its open files, reachable for as
        /// long as the thread lives, so that the file could not be opened again. LiteDB has no public way to do this.
        /// </summary>
        public void ForgetThreadTransaction() => ForgetThreadTransaction(Database);

        private static void ForgetThreadTransaction(LiteDatabase database)
        {
            if (EngineField?.GetValue(database) is not { } liteEngine) return;
            if (MonitorField?.GetValue(liteEngine) is not { } monitor) return;
            if (SlotField?.GetValue(monitor) is not { } slot || SlotValue?.GetValue(slot) is not { } transaction) return;
            // Its finalizer would discard pages of a cache that the closed engine no longer keeps, and throw on the
            // finalizer thread, which ends the process.
            GC.SuppressFinalize(transaction);
            SlotValue.SetValue(slot, null);
        }

        private static readonly FieldInfo? EngineField = typeof(LiteDatabase).GetField("_engine", BindingFlags.NonPublic | BindingFlags.Instance);
        private static readonly FieldInfo? MonitorField = typeof(LiteDB.Engine.LiteEngine).GetField("_monitor", BindingFlags.NonPublic | BindingFlags.Instance);
        private static readonly FieldInfo? SlotField = MonitorField?.FieldType.GetField("_slot", BindingFlags.NonPublic | BindingFlags.Instance);
        private static readonly PropertyInfo? SlotValue = SlotField?.FieldType.GetProperty("Value");

        private static void Quietly(Action action)
        {
            try
            {
                action();
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException or LiteException or AggregateException)
            {
                Trace.TraceWarning($"LiteDB: {error.Message}");
            }
        }
    }
}
