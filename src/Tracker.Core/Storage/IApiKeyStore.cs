namespace Tracker.Core.Storage;

/// <summary>
/// Dashboard-created API keys, stored by hash. Concurrency: a revocation is never undone by a later recorded use.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key: its hash and display prefix, never the key.</summary>
    Task AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>The stored API keys, revoked ones included, newest first.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>The stored key whose SHA-256 hex hash is <paramref name="sha256"/> (revoked or not), or <c>null</c>.</summary>
    Task<ApiKeyRecord?> FindApiKeyByHashAsync(string sha256, CancellationToken cancellationToken = default);

    /// <summary>Marks a key revoked, unless it already is; returns the key as stored afterwards, or <c>null</c> when there is none.</summary>
    Task<ApiKeyRecord?> RevokeApiKeyAsync(string id, DateTimeOffset revokedAt, CancellationToken cancellationToken = default);

    /// <summary>Sets a key's last-used time to <paramref name="usedAt"/> when that is later than the stored one.</summary>
    Task RecordApiKeyUseAsync(string id, DateTimeOffset usedAt, CancellationToken cancellationToken = default);
}
