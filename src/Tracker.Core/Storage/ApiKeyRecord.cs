namespace Tracker.Core.Storage;

/// <summary>
/// An API key created in the dashboard, as the store keeps it: the SHA-256 hash of the key and a short prefix to
/// recognise it by, never the key itself, which is shown once when it is created.
/// </summary>
/// <param name="Id">The record's id (not secret; the dashboard revokes keys by it).</param>
/// <param name="Name">What the key is for, e.g. "training box 2".</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the key's UTF-8 bytes.</param>
/// <param name="Prefix">The first characters of the key, e.g. <c>trk_AbCd</c>, for the list of keys.</param>
/// <param name="CreatedAt">When the key was created.</param>
/// <param name="LastUsedAt">When a request last presented the key (updated at most about once a minute).</param>
/// <param name="RevokedAt">When the key was revoked; a revoked key is refused.</param>
/// <param name="Role">
/// What the key may do; <c>null</c> for a key stored before keys had roles (the server decides what such a key may do).
/// </param>
public sealed record ApiKeyRecord(
    string Id,
    string Name,
    string Sha256,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt = null,
    DateTimeOffset? RevokedAt = null,
    TrackerRole? Role = null);
