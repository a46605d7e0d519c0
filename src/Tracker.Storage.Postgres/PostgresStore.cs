using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Tracker.Core;
using Tracker.Core.Storage;

namespace Tracker.Storage.Postgres;

/// <summary>
/// Every store interface on one PostgreSQL database, for teams: several servers and workers may share it. Records are
/// stored as jsonb in Tracker's JSON convention, beside columns for querying; concurrency comes from the database
/// (atomic counters, row locks held from read to write, conditional writes), never from a lock in this process.
/// Artifact bytes are files under the artifact root (shared by every process that shares the database).
/// </summary>
public sealed partial class PostgresStore : IExperimentStore, ITrialStore, IMetricStore, IEvaluationStore, IArtifactStore, IApiKeyStore,
    IAsyncDisposable, IDisposable
{
    // Queries that the runs browser and MLflow's search send can be costly; none may hold a connection for long.
    private const string QueryTimeout = "SET LOCAL statement_timeout = '30s'";

    private readonly NpgsqlDataSource dataSource;
    private readonly ArtifactFiles files;

    /// <summary>
    /// A store over the database of <paramref name="connectionString"/> and the artifact folder
    /// <paramref name="artifactRoot"/>. The schema must be current: use <see cref="OpenAsync"/>, which migrates it.
    /// </summary>
    public PostgresStore(string connectionString, string artifactRoot)
    {
        dataSource = NpgsqlDataSource.Create(connectionString);
        files = new ArtifactFiles(artifactRoot);
    }

    /// <summary>Opens a store and applies the schema migrations it lacks.</summary>
    public static async Task<PostgresStore> OpenAsync(string connectionString, string artifactRoot, CancellationToken cancellationToken = default)
    {
        var store = new PostgresStore(connectionString, artifactRoot);
        try
        {
            await store.MigrateAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>Applies the migrations the database lacks, in order; see <see cref="Migrations"/>.</summary>
    public Task MigrateAsync(CancellationToken cancellationToken = default) => Migrations.ApplyAsync(dataSource, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    /// <inheritdoc />
    public void Dispose() => dataSource.Dispose();

    private static string ToJson<T>(T value) => JsonSerializer.Serialize(value, TrackerJson.Options);

    private static T FromJson<T>(string json) => JsonSerializer.Deserialize<T>(json, TrackerJson.Options)
        ?? throw new InvalidDataException($"A stored {typeof(T).Name} is null.");

    private static string CamelName<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    private static NpgsqlParameter Jsonb(string name, string json) => new(name, NpgsqlDbType.Jsonb) { Value = json };

    // Npgsql writes only UTC values to timestamptz.
    private static object Timestamp(DateTimeOffset? value) => value is { } v ? v.UtcDateTime : DBNull.Value;

    // A command of the data source takes a connection from the pool for each execution (until its reader is disposed).
    private NpgsqlCommand PooledCommand(string sql, NpgsqlParameter[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = PooledCommand(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<List<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> row, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = PooledCommand(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken)) rows.Add(row(reader));
        return rows;
    }

    private async Task<List<T>> ReadDocsAsync<T>(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters) =>
        await ReadAsync(sql, r => FromJson<T>(r.GetString(0)), cancellationToken, parameters);

    private async Task<T?> ReadDocAsync<T>(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters) where T : class =>
        (await ReadDocsAsync<T>(sql, cancellationToken, parameters)).FirstOrDefault();
}

/// <summary>Registers the PostgreSQL backend.</summary>
public static class PostgresStoreRegistration
{
    /// <summary>
    /// Registers <see cref="PostgresStore"/> behind every store interface, opened (and migrated) when first asked for,
    /// with <see cref="StoreOptions.ConnectionString"/> as the Npgsql connection string and
    /// <see cref="StoreOptions.ArtifactRoot"/> (or <c>data/artifacts</c>) as the artifact folder.
    /// </summary>
    public static IServiceCollection AddPostgresStore(this IServiceCollection services) =>
        services.AddStoreBackend(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StoreOptions>>().Value;
            string root = Path.GetFullPath(string.IsNullOrEmpty(options.ArtifactRoot) ? "data/artifacts" : options.ArtifactRoot);
            // A DI factory cannot await; the schema must be current before the first query, so the migration blocks here.
            return PostgresStore.OpenAsync(options.ConnectionString, root).GetAwaiter().GetResult();
        });
}
