using System.Globalization;
using Npgsql;

namespace Tracker.Storage.Postgres;

/// <summary>
/// The schema's versions: the embedded scripts <c>Migrations/NNNN_name.sql</c>, applied in order, each once, each in
/// its own transaction, and recorded in <c>schema_migrations</c>. A transaction-scoped advisory lock serialises
/// processes that start together, so each script runs once however many start.
/// </summary>
internal static class Migrations
{
    // Any constant that other applications are unlikely to lock; "Tracker" in ASCII.
    private const long LockKey = 0x547261636b6572;

    /// <summary>The embedded scripts by version, in order.</summary>
    internal static IReadOnlyList<(int Version, string Sql)> Scripts { get; } = Load();

    public static async Task ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var (version, sql) in Scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await Run(connection, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
            await Run(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
            await using (var applied = new NpgsqlCommand("SELECT count(*) FROM schema_migrations WHERE version = @v", connection))
            {
                applied.Parameters.AddWithValue("v", version);
                if ((long)(await applied.ExecuteScalarAsync(cancellationToken))! > 0)
                {
                    await transaction.CommitAsync(cancellationToken);
                    continue;
                }
            }
            await Run(connection, sql, cancellationToken);
            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version) VALUES (@v)", connection))
            {
                record.Parameters.AddWithValue("v", version);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private static async Task Run(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<(int, string)> Load()
    {
        var assembly = typeof(Migrations).Assembly;
        var scripts = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            string file = name["Migrations/".Length..];
            int underscore = file.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(file[..underscore], NumberStyles.None, CultureInfo.InvariantCulture, out int version))
                throw new InvalidOperationException($"The migration '{name}' is not named NNNN_description.sql.");
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            scripts.Add((version, reader.ReadToEnd()));
        }
        scripts.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        for (int i = 1; i < scripts.Count; i++)
            if (scripts[i].Item1 == scripts[i - 1].Item1) throw new InvalidOperationException($"Two migrations have version {scripts[i].Item1}.");
        return scripts;
    }
}
