using Tracker.Core.Experiments;
using Microsoft.Extensions.DependencyInjection;

namespace Tracker.Core.Storage;

/// <summary>
/// The narrow store interfaces of one backend, together: for whoever needs several at once (copying one store into
/// another, a command that opens a store for its lifetime). Everyone else asks for the one interface they use.
/// </summary>
public sealed record TrackerStores(
    IExperimentStore Experiments,
    ITrialStore Trials,
    IMetricStore Metrics,
    IEvaluationStore Evaluations,
    IArtifactStore Artifacts,
    IApiKeyStore ApiKeys);

/// <summary>Options of the store, bound to <c>Store</c> in appsettings.json.</summary>
public sealed class StoreOptions
{
    /// <summary>The embedded LiteDB backend's name.</summary>
    public const string LiteDb = "litedb";

    /// <summary>The PostgreSQL backend's name.</summary>
    public const string Postgres = "postgres";

    /// <summary>Which backend: <c>litedb</c> (one file, one process; the default) or <c>postgres</c> (teams, several processes).</summary>
    public string Provider { get; set; } = LiteDb;

    /// <summary>
    /// For <c>litedb</c>, the database file (relative paths resolve against the content root); for <c>postgres</c>, an
    /// Npgsql connection string. Defaults to <c>data/tracker.db</c>.
    /// </summary>
    public string ConnectionString { get; set; } = "data/tracker.db";

    /// <summary>
    /// The folder that holds trials' files (checkpoints, uploaded artifacts), one sub-folder per trial; relative paths
    /// resolve against the content root. Empty means an <c>artifacts</c> folder beside a LiteDB file, or
    /// <c>data/artifacts</c> for PostgreSQL. Servers and workers sharing a PostgreSQL database share this folder too.
    /// </summary>
    public string ArtifactRoot { get; set; } = "";
}

/// <summary>The database is held by another process; nothing was read or written.</summary>
public sealed class StoreInUseException(string path, string holder)
    : IOException($"The database {path} is in use by {holder}. One process owns a LiteDB file: stop it, or go through it (e.g. --server).")
{
    /// <summary>The database file.</summary>
    public string DatabasePath { get; } = path;

    /// <summary>Who holds it, e.g. <c>process 4242 on build-box</c>.</summary>
    public string Holder { get; } = holder;
}

/// <summary>The database is damaged or is not a Tracker database; nothing was written to it.</summary>
public sealed class StoreDamagedException(string path, string reason)
    : IOException($"The database {path} cannot be opened: {reason}")
{
    /// <summary>The database file.</summary>
    public string DatabasePath { get; } = path;

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// The store could not keep a write because of an I/O error (a full disk, a file it may no longer write, a lost
/// connection to the database server). Nothing of the refused write was kept, and the store refuses further writes until
/// it has recovered, so that it never acknowledges what it did not keep. Servers answer 503 with <c>Retry-After</c>.
/// </summary>
public sealed class StoreUnavailableException(string reason, Exception? cause = null)
    : IOException($"The store cannot keep writes now: {reason}. Writes are refused until it recovers; nothing of this one was kept.", cause)
{
    /// <summary>What failed, in a few words.</summary>
    public string Reason { get; } = reason;

    /// <summary>
    /// The refusal in <paramref name="exception"/>, if it is one or wraps one, else <c>null</c>. A database server's
    /// own refusal counts too, read through ADO.NET's <see cref="System.Data.Common.DbException.SqlState"/> so that no
    /// driver is named here: a full disk or another lack of resources (SQLSTATE class 53), an I/O or system error (58),
    /// a lost connection (08), or a server shutting down or starting (57P01 to 57P03). A database server keeps nothing
    /// of a transaction it did not commit, so these are refusals in the same sense.
    /// </summary>
    public static StoreUnavailableException? Recognise(Exception? exception) => exception switch
    {
        StoreUnavailableException unavailable => unavailable,
        System.Data.Common.DbException { SqlState: { } state } database when IsUnavailable(state) =>
            new StoreUnavailableException($"the database server answered SQLSTATE {state}: {database.Message}", database),
        AggregateException many => many.InnerExceptions.Select(Recognise).FirstOrDefault(e => e is not null),
        null => null,
        _ => Recognise(exception.InnerException),
    };

    private static bool IsUnavailable(string sqlState) =>
        sqlState.StartsWith("53", StringComparison.Ordinal) || sqlState.StartsWith("58", StringComparison.Ordinal)
        || sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState is "57P01" or "57P02" or "57P03";
}

/// <summary>
/// A save or update would give a logged experiment (<see cref="TrialExecution.Logged"/>) the name of another logged
/// experiment, deleted or not; nothing was written. The store enforces this across processes, as MLflow's clients expect
/// an experiment name to find one experiment.
/// </summary>
public sealed class ExperimentNameTakenException(string name)
    : InvalidOperationException($"Experiment '{name}' already exists.")
{
    /// <summary>The name.</summary>
    public string Name { get; } = name;
}

/// <summary>Registers one backend object under every store interface it implements.</summary>
public static class StoreRegistration
{
    /// <summary>
    /// Registers <typeparamref name="TBackend"/> (built by <paramref name="create"/>, once) as the singleton behind each
    /// store interface, and <see cref="TrackerStores"/> over them.
    /// </summary>
    public static IServiceCollection AddStoreBackend<TBackend>(this IServiceCollection services, Func<IServiceProvider, TBackend> create)
        where TBackend : class, IExperimentStore, ITrialStore, IMetricStore, IEvaluationStore, IArtifactStore, IApiKeyStore
    {
        services.AddSingleton(create);
        services.AddSingleton<IExperimentStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton<ITrialStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton<IMetricStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton<IEvaluationStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton<IArtifactStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<TBackend>());
        services.AddSingleton(sp => new TrackerStores(
            sp.GetRequiredService<IExperimentStore>(), sp.GetRequiredService<ITrialStore>(), sp.GetRequiredService<IMetricStore>(),
            sp.GetRequiredService<IEvaluationStore>(), sp.GetRequiredService<IArtifactStore>(), sp.GetRequiredService<IApiKeyStore>()));
        return services;
    }
}
