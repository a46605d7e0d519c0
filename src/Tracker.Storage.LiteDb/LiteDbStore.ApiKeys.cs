using LiteDB;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// API keys created in the dashboard: one document per key, found by the hash of the key a request presents. Revoking
// and recording a use both read and write back under the write lock, so a late use never undoes a revocation.
public sealed partial class LiteDbStore
{
    /// <inheritdoc />
    public Task AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() => apiKeys.Insert(ToBson(key, key.Id)));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<ApiKeyRecord>>(
            apiKeys.FindAll().Select(d => FromBson<ApiKeyRecord>(d)!).OrderByDescending(k => k.CreatedAt).ToList());
    }

    /// <inheritdoc />
    public Task<ApiKeyRecord?> FindApiKeyByHashAsync(string sha256, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FromBson<ApiKeyRecord>(apiKeys.FindOne(Query.EQ("sha256", sha256.ToLowerInvariant()))));
    }

    /// <inheritdoc />
    public Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, DateTimeOffset revokedAt, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Atomic(() =>
        {
            var key = FromBson<ApiKeyRecord>(apiKeys.FindById(id));
            if (key is null || key.RevokedAt is not null) return key;
            var revoked = key with { RevokedAt = revokedAt };
            apiKeys.Update(ToBson(revoked, revoked.Id));
            return revoked;
        }));
    }

    /// <inheritdoc />
    public Task RecordApiKeyUseAsync(string id, DateTimeOffset usedAt, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() =>
        {
            var key = FromBson<ApiKeyRecord>(apiKeys.FindById(id));
            if (key is not null && !(key.LastUsedAt >= usedAt)) apiKeys.Update(ToBson(key with { LastUsedAt = usedAt }, key.Id));
        });
        return Task.CompletedTask;
    }
}
