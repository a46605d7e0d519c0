using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Tracker.Storage.Postgres;

// Indexes on one final metric or one parameter of the trials, made when a query first sorts or filters by it: the runs
// browser's sort and range expressions (TrialSql) equal the indexes' expressions, so PostgreSQL reads a page in index
// order and a range from the index instead of reading every trial's document. Each index costs every later trial write
// a little, so they are capped. A query never depends on one: without it (cap reached, no right to create indexes, a
// lock not granted in time) it gives the same rows by a scan.
public sealed partial class PostgresStore
{
    /// <summary>The most metric and parameter indexes made on first use (all processes sharing the database together).</summary>
    internal const int MaxValueIndexes = 32;

    /// <summary>The prefix of the names of those indexes, each followed by what it orders and a hash of the name.</summary>
    internal const string ValueIndexPrefix = "trials_v1_";

    // "TrkIndex" in ASCII: not the migrations' lock, so that an index build does not hold up a migration.
    private const long ValueIndexLockKey = 0x54726b496e646578;

    // A build waits for another process's build (the advisory lock) and then for the table's lock, which trial writes
    // queue behind while it waits and then while it builds; if it cannot have either soon, the query goes on without
    // the index. The build itself blocks trial writes (not reads) for as long as it takes, once per index.
    private const string ValueIndexTimeouts = "SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '10min'";

    // How long a query goes on without an index that could not be made before a later query tries again.
    private static readonly TimeSpan ValueIndexRetry = TimeSpan.FromMinutes(5);

    // Indexes known to exist, and those that could not be made with the time of the next try.
    private readonly ConcurrentDictionary<string, bool> valueIndexes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> valueIndexesUnavailable = new(StringComparer.Ordinal);

    /// <summary>One index on the trials: its name and its column list.</summary>
    internal sealed record ValueIndex(string Name, string Columns);

    /// <summary>Indexes that would serve one part of a query: any of them does; the first is made when none exists.</summary>
    internal sealed record ValueIndexNeed(IReadOnlyList<ValueIndex> Choices);

    /// <summary>A stable index name for an index of <paramref name="kind"/> (e.g. <c>md</c>: metric, descending) on <paramref name="name"/>.</summary>
    internal static string ValueIndexName(string kind, string name) =>
        ValueIndexPrefix + kind + "_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 8));

    /// <summary>Makes, where missing and the cap allows, an index for each need; failures leave the query to a scan.</summary>
    internal async Task EnsureValueIndexesAsync(IReadOnlyList<ValueIndexNeed> needs, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var pending = needs.Where(n => !n.Choices.Any(c => valueIndexes.ContainsKey(c.Name))).ToList();
        if (pending.Count == 0) return;
        string[] names = [.. pending.SelectMany(n => n.Choices).Select(c => c.Name).Distinct()];
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // Most needs are met by indexes that an earlier process (or another process, while this one waited for
            // the lock and gave up) made: the catalog says so without any lock.
            var existing = await ExistingValueIndexesAsync(connection, null, names, cancellationToken);
            pending.RemoveAll(n => n.Choices.Any(c => existing.Contains(c.Name))
                || valueIndexesUnavailable.TryGetValue(n.Choices[0].Name, out var retry) && retry > now);
            if (pending.Count == 0) return;

            var made = new List<string>();
            await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
            {
                await using (var timeouts = new NpgsqlCommand(ValueIndexTimeouts, connection, transaction))
                    await timeouts.ExecuteNonQueryAsync(cancellationToken);
                // One process at a time makes indexes, and sees those that another made while it waited.
                await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({ValueIndexLockKey})", connection, transaction))
                    await lockCommand.ExecuteNonQueryAsync(cancellationToken);
                existing = await ExistingValueIndexesAsync(connection, transaction, names, cancellationToken);
                int count = await ValueIndexCountAsync(connection, transaction, cancellationToken);
                foreach (var need in pending)
                {
                    if (need.Choices.Any(c => existing.Contains(c.Name))) continue;
                    var index = need.Choices[0];
                    if (count >= MaxValueIndexes)
                    {
                        valueIndexesUnavailable[index.Name] = now + ValueIndexRetry;
                        continue;
                    }
                    await using var create = new NpgsqlCommand($"CREATE INDEX IF NOT EXISTS {index.Name} ON trials ({index.Columns})", connection, transaction);
                    await create.ExecuteNonQueryAsync(cancellationToken);
                    existing.Add(index.Name);
                    made.Add(index.Name);
                    count++;
                }
                await transaction.CommitAsync(cancellationToken);
            }
            foreach (string name in made) valueIndexes[name] = true;
            // Statistics of the new expressions, so that the planner knows how many trials a range keeps.
            if (made.Count > 0)
            {
                await using var analyze = new NpgsqlCommand("ANALYZE trials", connection);
                analyze.CommandTimeout = 0;
                await analyze.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Made at the same moment by a process that did not take the lock: the next query finds it in the catalog.
        }
        catch (PostgresException) when (!cancellationToken.IsCancellationRequested)
        {
            // No right to create indexes, the table's lock not granted in time, a build that ran too long: the query
            // scans, and a later one tries again.
            foreach (var need in pending) valueIndexesUnavailable[need.Choices[0].Name] = now + ValueIndexRetry;
        }
    }

    private async Task<HashSet<string>> ExistingValueIndexesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string[] names,
        CancellationToken cancellationToken)
    {
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand("""
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'trials'::regclass AND i.indisvalid AND c.relname = ANY(@names)
            """, connection, transaction);
        command.Parameters.AddWithValue("names", names);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            string name = reader.GetString(0);
            existing.Add(name);
            valueIndexes[name] = true;
        }
        return existing;
    }

    private static async Task<int> ValueIndexCountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'trials'::regclass AND starts_with(c.relname, @prefix)
            """, connection, transaction);
        command.Parameters.AddWithValue("prefix", ValueIndexPrefix);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
