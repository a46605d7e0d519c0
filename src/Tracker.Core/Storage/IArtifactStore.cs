using Tracker.Core.Tracking;

namespace Tracker.Core.Storage;

/// <summary>
/// The files of a trial (checkpoints, files a logging client uploads, plots), as streams under paths relative to the
/// trial, with '/' between parts; plus the records of what they are. Paths never leave the trial: an absolute path, a
/// '..' part or a backslash is refused with <see cref="ArgumentException"/>. Concurrency: a write becomes visible
/// whole when it completes (never half a file); the last completed write of a path wins.
/// </summary>
public interface IArtifactStore
{
    /// <summary>
    /// Stores <paramref name="content"/> as the file <paramref name="path"/> of a trial, replacing an earlier one, and
    /// returns its size. When more than <paramref name="maxBytes"/> bytes arrive, nothing is kept and
    /// <see cref="ArtifactTooLargeException"/> is thrown. A path that names a folder of the trial is refused with
    /// <see cref="ArtifactPathConflictException"/>.
    /// </summary>
    Task<long> WriteArtifactAsync(string trialId, string path, Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>Opens a trial's file for reading, or <c>null</c> when there is none. The caller disposes the stream.</summary>
    Task<Stream?> OpenArtifactAsync(string trialId, string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// The files and folders directly under <paramref name="folder"/> ("" for the top) of a trial's files, ordered by
    /// name (ordinal); empty when there is no such folder.
    /// </summary>
    Task<IReadOnlyList<ArtifactEntry>> ListArtifactsAsync(string trialId, string folder, CancellationToken cancellationToken = default);

    /// <summary>Every file of a trial, at any depth, ordered by path (for copying a store).</summary>
    Task<IReadOnlyList<ArtifactEntry>> ListAllArtifactsAsync(string trialId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Where a trial's files are, as a URI that an MLflow client understands (a <c>file:</c> URI for files on this
    /// machine's file system).
    /// </summary>
    string ArtifactUri(string trialId);

    /// <summary>Records what a file of a trial is (content type, caption, labels), replacing an earlier record of the same path.</summary>
    Task SaveArtifactMetadataAsync(ArtifactMetadata metadata, CancellationToken cancellationToken = default);

    /// <summary>The records of a trial's files, in no particular order.</summary>
    Task<IReadOnlyList<ArtifactMetadata>> GetArtifactMetadataAsync(string trialId, CancellationToken cancellationToken = default);
}

/// <summary>A file or folder among a trial's files.</summary>
/// <param name="Path">Its path relative to the trial, with '/'.</param>
/// <param name="IsFolder">Whether it is a folder.</param>
/// <param name="Size">A file's size in bytes; <c>null</c> for a folder.</param>
public sealed record ArtifactEntry(string Path, bool IsFolder, long? Size);

/// <summary>An artifact upload was larger than allowed; nothing was kept.</summary>
public sealed class ArtifactTooLargeException(long limit) : Exception($"The artifact is larger than the limit of {limit} bytes.")
{
    /// <summary>The limit in bytes.</summary>
    public long Limit { get; } = limit;
}

/// <summary>An artifact path names a folder (or runs through a file); nothing was kept.</summary>
public sealed class ArtifactPathConflictException(string path) : Exception($"The artifact path '{path}' names a folder, or runs through a file.");
