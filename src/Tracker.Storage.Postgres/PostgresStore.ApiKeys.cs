using Npgsql;
using Tracker.Core.Storage;

namespace Tracker.Storage.Postgres;

// A revocation and a recorded use each change one field, with a condition on the row as it is when written, so neither
// can undo the other whatever the interleaving.
public sealed partial class PostgresStore
{
    /// <inheritdoc />
    public Task AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        var stored = key with { Sha256 = key.Sha256.ToLowerInvariant() };
        return ExecuteAsync("""
            INSERT INTO api_keys (id, sha256, created_at, last_used_ticks, revoked_at, doc)
            VALUES (@id, @sha, @created, @used, @revoked, @doc)
            """, cancellationToken,
            new("id", stored.Id), new("sha", stored.Sha256), new("created", Timestamp(stored.CreatedAt)),
            new("used", stored.LastUsedAt is { } used ? used.UtcTicks : DBNull.Value), new("revoked", Timestamp(stored.RevokedAt)),
            Jsonb("doc", ToJson(stored)));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<ApiKeyRecord>("SELECT doc::text FROM api_keys ORDER BY created_at DESC, id", cancellationToken);

    /// <inheritdoc />
    public Task<ApiKeyRecord?> FindApiKeyByHashAsync(string sha256, CancellationToken cancellationToken = default) =>
        ReadDocAsync<ApiKeyRecord>("SELECT doc::text FROM api_keys WHERE sha256 = @sha", cancellationToken,
            new NpgsqlParameter("sha", sha256.ToLowerInvariant()));

    /// <inheritdoc />
    public async Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, DateTimeOffset revokedAt, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync("""
            UPDATE api_keys SET revoked_at = @at, doc = jsonb_set(doc, '{revokedAt}', @atJson)
            WHERE id = @id AND revoked_at IS NULL
            """, cancellationToken,
            new("id", id), new("at", Timestamp(revokedAt)), Jsonb("atJson", ToJson(revokedAt)));
        return await ReadDocAsync<ApiKeyRecord>("SELECT doc::text FROM api_keys WHERE id = @id", cancellationToken, new NpgsqlParameter("id", id));
    }

    /// <inheritdoc />
    public Task RecordApiKeyUseAsync(string id, DateTimeOffset usedAt, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            UPDATE api_keys SET last_used_ticks = @ticks, doc = jsonb_set(doc, '{lastUsedAt}', @atJson)
            WHERE id = @id AND (last_used_ticks IS NULL OR last_used_ticks < @ticks)
            """, cancellationToken,
            new("id", id), new("ticks", usedAt.UtcTicks), Jsonb("atJson", ToJson(usedAt)));
}
