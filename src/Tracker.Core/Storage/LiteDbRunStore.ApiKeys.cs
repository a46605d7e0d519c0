using LiteDB;

namespace Tracker.Core.Storage;

// API keys created in the dashboard: one document per key, found by the hash of the key a request presents.
public sealed partial class LiteDbRunStore
{
    private const string ApiKeyCollection = "apiKeys";

    // Revoking and recording a use both read a record and write it back; one lock keeps a late use from undoing a revocation.
    private readonly Lock apiKeyWrites = new();

    private ILiteCollection<BsonDocument> ApiKeys => db.GetCollection(ApiKeyCollection);

    private void EnsureApiKeyIndexes() => ApiKeys.EnsureIndex("sha256", unique: true);

    /// <inheritdoc />
    public void AddApiKey(ApiKeyRecord key)
    {
        lock (apiKeyWrites) ApiKeys.Insert(ToBson(key, key.Id));
    }

    /// <inheritdoc />
    public IReadOnlyList<ApiKeyRecord> ListApiKeys() =>
        ApiKeys.FindAll().Select(d => FromBson<ApiKeyRecord>(d)!).OrderByDescending(k => k.CreatedAt).ToList();

    /// <inheritdoc />
    public ApiKeyRecord? FindApiKeyByHash(string sha256) =>
        FromBson<ApiKeyRecord>(ApiKeys.FindOne(Query.EQ("sha256", sha256.ToLowerInvariant())));

    /// <inheritdoc />
    public ApiKeyRecord? RevokeApiKey(string id, DateTimeOffset revokedAt)
    {
        lock (apiKeyWrites)
        {
            var key = FromBson<ApiKeyRecord>(ApiKeys.FindById(id));
            if (key is null || key.RevokedAt is not null) return key;
            var revoked = key with { RevokedAt = revokedAt };
            ApiKeys.Update(ToBson(revoked, revoked.Id));
            return revoked;
        }
    }

    /// <inheritdoc />
    public void RecordApiKeyUse(string id, DateTimeOffset usedAt)
    {
        lock (apiKeyWrites)
        {
            var key = FromBson<ApiKeyRecord>(ApiKeys.FindById(id));
            if (key is null || key.LastUsedAt >= usedAt) return;
            ApiKeys.Update(ToBson(key with { LastUsedAt = usedAt }, key.Id));
        }
    }
}
