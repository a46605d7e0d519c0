using LiteDB;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Storage.LiteDb;

// The bytes of a trial's files live under ArtifactRoot (Core's ArtifactFiles), so MLflow clients and plain tools see
// them; what they are (content type, caption, labels) are small records in the database, keyed by trial and path.
public sealed partial class LiteDbStore
{
    /// <inheritdoc />
    public Task<long> WriteArtifactAsync(string trialId, string path, Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default) =>
        files.WriteAsync(trialId, Relative(path), content, maxBytes, cancellationToken);

    /// <inheritdoc />
    public Task<Stream?> OpenArtifactAsync(string trialId, string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(files.Open(trialId, Relative(path)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ArtifactEntry>> ListArtifactsAsync(string trialId, string folder, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(files.List(trialId, folder));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ArtifactEntry>> ListAllArtifactsAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(files.ListAll(trialId));
    }

    /// <inheritdoc />
    public string ArtifactUri(string trialId) => files.ArtifactUri(trialId);

    /// <inheritdoc />
    public Task SaveArtifactMetadataAsync(ArtifactMetadata metadata, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() => artifacts.Upsert(ToBson(metadata, $"{metadata.TrialId}/{metadata.Path}")));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ArtifactMetadata>> GetArtifactMetadataAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<ArtifactMetadata>>(
            artifacts.Find(Query.EQ("trialId", trialId)).Select(d => FromBson<ArtifactMetadata>(d)!).ToList());
    }

    // ArtifactFiles trims leading slashes, which would turn an absolute path into one inside the trial; the contract
    // refuses absolute paths.
    private static string Relative(string path) =>
        path is null || path.StartsWith('/') || Path.IsPathRooted(path)
            ? throw new ArgumentException($"Invalid artifact path '{path}': it must be relative to the trial's files.", nameof(path))
            : path;
}
