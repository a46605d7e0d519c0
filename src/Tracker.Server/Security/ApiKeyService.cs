using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tracker.Core.Storage;

namespace Tracker.Server.Security;

/// <summary>Where a key comes from.</summary>
public enum ApiKeySource
{
    /// <summary><c>Security:ApiKeys</c> in appsettings.json; removed there, not on the dashboard.</summary>
    Config,

    /// <summary>Created on the dashboard and kept (as a hash) in the store; revocable there.</summary>
    Dashboard,
}

/// <summary>A key as the dashboard lists it; never the key itself.</summary>
/// <param name="Id">The stored record's id; <c>null</c> for a configured key.</param>
/// <param name="Name">What the key is for.</param>
/// <param name="Prefix">The key's first characters; <c>null</c> for a configured key (configuration holds only its hash).</param>
/// <param name="Source">Configuration or dashboard.</param>
/// <param name="CreatedAt">When it was created; <c>null</c> for a configured key.</param>
/// <param name="LastUsedAt">When a request last presented it (for a configured key: since the server started).</param>
/// <param name="RevokedAt">When it was revoked, if it was.</param>
/// <param name="Role">What it may do.</param>
public sealed record ApiKeyView(string? Id, string Name, string? Prefix, ApiKeySource Source,
    DateTimeOffset? CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, TrackerRole Role);

/// <summary>A key just created: <see cref="Key"/> is shown once and then exists only with whoever copied it.</summary>
/// <param name="Record">What the store keeps.</param>
/// <param name="Key">The key itself.</param>
public sealed record CreatedApiKey(ApiKeyRecord Record, string Key);

/// <summary>The holder of a key that a request presented.</summary>
/// <param name="Name">The key's name.</param>
/// <param name="Source">Configuration or dashboard.</param>
/// <param name="Sha256">The lower-case hex SHA-256 of the key, by which a dashboard session refers to it.</param>
/// <param name="Role">What the key may do.</param>
public sealed record ApiKeyHolder(string Name, ApiKeySource Source, string Sha256, TrackerRole Role);

/// <summary>
/// API keys: makes new ones, and tells whether a presented key is one of the configured keys or an unrevoked
/// dashboard key. Only SHA-256 hashes are compared and kept, so neither configuration nor the database file holds a
/// usable key.
/// </summary>
public sealed class ApiKeyService
{
    /// <summary>What every generated key starts with, so that a leaked key is recognisable (e.g. by secret scanners).</summary>
    public const string KeyPrefix = "trk_";

    /// <summary>How many random characters follow <see cref="KeyPrefix"/>: 32 of 64 symbols, 192 bits.</summary>
    public const int RandomLength = 32;

    /// <summary>How many characters of a key the store keeps to show it by: the prefix and four random ones.</summary>
    public const int DisplayPrefixLength = 8;

    /// <summary>The longest name a dashboard key may have.</summary>
    public const int MaxNameLength = 100;

    /// <summary>
    /// The role of a key that has none: one stored before keys had roles, or configured without <c>Role</c>. Such keys
    /// could make every write the API had, so they stay editors and everything they were used for keeps working. They
    /// are not admins: that would give every old key, e.g. one on a training machine, the new power to delete
    /// experiments for good. Keys made from a dashboard session were an admin's doing that an editor now loses; the
    /// admin keeps it on the server's machine (<see cref="SecurityOptions.OpenAccessRole"/>), with a key created
    /// as admin, or with a configured key given <c>"Role": "admin"</c>.
    /// </summary>
    public const TrackerRole UnsetRole = TrackerRole.Editor;

    private const string UrlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    // Recording every use would write to the store on every logged batch; once a minute tells a user as much.
    private static readonly TimeSpan UseResolution = TimeSpan.FromMinutes(1);

    private readonly IApiKeyStore store;
    private readonly TimeProvider time;
    private readonly IReadOnlyList<(ConfiguredApiKey Key, byte[] Hash)> configured;
    private readonly ConcurrentDictionary<ConfiguredApiKey, DateTimeOffset> configuredUses = new();

    /// <summary>Reads the configured keys; a hash that is not 64 hex digits stops the server at start (see <see cref="SecurityOptionsValidation"/>).</summary>
    public ApiKeyService(IApiKeyStore store, IOptions<SecurityOptions> options, TimeProvider time)
    {
        this.store = store;
        this.time = time;
        configured = options.Value.ApiKeys.Select(k => (k, Convert.FromHexString(k.Sha256))).ToList();
    }

    /// <summary>A new random key: <c>trk_</c> and 32 url-safe characters from a cryptographic random generator.</summary>
    public static string Generate() => KeyPrefix + RandomNumberGenerator.GetString(UrlSafeAlphabet, RandomLength);

    /// <summary>The lower-case hex SHA-256 of the key's UTF-8 bytes: what configuration and the store hold.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// Who holds <paramref name="key"/>: a configured key, or a dashboard key that is not revoked; <c>null</c> for
    /// any other value. Records the use.
    /// </summary>
    public Task<ApiKeyHolder?> AuthenticateAsync(string key, CancellationToken cancellationToken = default) =>
        FindAsync(SHA256.HashData(Encoding.UTF8.GetBytes(key)), recordUse: true, cancellationToken);

    /// <summary>
    /// Who holds the key whose hex SHA-256 is <paramref name="sha256"/>, as <see cref="Authenticate"/> answers, without
    /// recording a use: a dashboard session checks with it on every request that its key has not been revoked since.
    /// </summary>
    public async Task<ApiKeyHolder?> RecheckAsync(string sha256, CancellationToken cancellationToken = default)
    {
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit)) return null;
        return await FindAsync(Convert.FromHexString(sha256), recordUse: false, cancellationToken);
    }

    private async Task<ApiKeyHolder?> FindAsync(byte[] hash, bool recordUse, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        string hex = Convert.ToHexStringLower(hash);

        // Every configured hash is compared, in constant time, so the answer's timing says nothing about which one matched.
        ConfiguredApiKey? match = null;
        foreach (var (candidate, candidateHash) in configured)
            if (CryptographicOperations.FixedTimeEquals(hash, candidateHash)) match ??= candidate;
        if (match is not null)
        {
            if (recordUse) configuredUses[match] = now;
            return new ApiKeyHolder(match.Name, ApiKeySource.Config, hex, match.Role ?? UnsetRole);
        }

        // The store is searched by the hash, which is all an attacker could learn anything about from timing.
        var stored = await store.FindApiKeyByHashAsync(hex, cancellationToken);
        if (stored is null || stored.RevokedAt is not null) return null;
        if (recordUse && (stored.LastUsedAt is not { } last || now - last >= UseResolution)) await store.RecordApiKeyUseAsync(stored.Id, now, cancellationToken);
        return new ApiKeyHolder(stored.Name, ApiKeySource.Dashboard, hex, stored.Role ?? UnsetRole);
    }

    /// <summary>
    /// Makes a key named <paramref name="name"/> (trimmed; 1 to <see cref="MaxNameLength"/> characters) that may do
    /// what <paramref name="role"/> may, and stores its hash, display prefix and role.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or too long, or the role is not one.</exception>
    public async Task<CreatedApiKey> CreateAsync(string name, TrackerRole role, CancellationToken cancellationToken = default)
    {
        if (NameProblem(name) is { } problem) throw new ArgumentException(problem, nameof(name));
        if (!Enum.IsDefined(role)) throw new ArgumentException($"A key's role is one of {TrackerRoles.All}.", nameof(role));
        string key = Generate();
        var record = new ApiKeyRecord(Guid.NewGuid().ToString("N"), name.Trim(), Hash(key), key[..DisplayPrefixLength], time.GetUtcNow(), Role: role);
        await store.AddApiKeyAsync(record, cancellationToken);
        return new CreatedApiKey(record, key);
    }

    /// <summary>What is wrong with <paramref name="name"/> as the name of a new key, or <c>null</c> when nothing is.</summary>
    public static string? NameProblem(string? name) => name?.Trim().Length switch
    {
        null or 0 => "A key needs a name, e.g. the machine or job that will use it.",
        > MaxNameLength => $"A key's name has at most {MaxNameLength} characters.",
        _ => null,
    };

    /// <summary>Revokes a dashboard key; <c>false</c> when there is none with that id.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken = default) =>
        await store.RevokeApiKeyAsync(id, time.GetUtcNow(), cancellationToken) is not null;

    /// <summary>Configured keys first (in configuration order), then dashboard keys, newest first, revoked ones included.</summary>
    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(CancellationToken cancellationToken = default) =>
    [
        .. configured.Select(c => new ApiKeyView(null, c.Key.Name, null, ApiKeySource.Config, null,
            configuredUses.TryGetValue(c.Key, out var used) ? used : (DateTimeOffset?)null, null, c.Key.Role ?? UnsetRole)),
        .. (await store.ListApiKeysAsync(cancellationToken)).Select(k => new ApiKeyView(k.Id, k.Name, k.Prefix, ApiKeySource.Dashboard,
            k.CreatedAt, k.LastUsedAt, k.RevokedAt, k.Role ?? UnsetRole)),
    ];
}
