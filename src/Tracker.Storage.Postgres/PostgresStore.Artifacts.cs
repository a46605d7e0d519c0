using Npgsql;
using Tracker.Core.Tracking;

namespace Tracker.Storage.Postgres;

// The bytes are files under the artifact root (Core's ArtifactFiles, as every backend); what they are is a row here.
public sealed partial class PostgresStore
{
    /// <inheritdoc />
    public Task<long> WriteArtifactAsync(string trialId, string path, Stream content, long maxBytes = long.MaxValue, CancellationToken cancellationToken = default) =>
        files.WriteAsync(trialId, Relative(path), content, maxBytes, cancellationToken);

    /// <inheritdoc />
    public Task<Stream?> OpenArtifactAsync(string trialId, string path, CancellationToken cancellationToken = default) =>
        Synchronously(() => files.Open(trialId, Relative(path)));

    /// <inheritdoc />
    public Task<IReadOnlyList<Core.Storage.ArtifactEntry>> ListArtifactsAsync(string trialId, string folder, CancellationToken cancellationToken = default) =>
        Synchronously(() => files.List(trialId, folder));

    /// <inheritdoc />
    public Task<IReadOnlyList<Core.Storage.ArtifactEntry>> ListAllArtifactsAsync(string trialId, CancellationToken cancellationToken = default) =>
        Synchronously(() => files.ListAll(trialId));

    /// <inheritdoc />
    public string ArtifactUri(string trialId) => files.ArtifactUri(trialId);

    /// <inheritdoc />
    public Task SaveArtifactMetadataAsync(ArtifactMetadata metadata, CancellationToken cancellationToken = default) =>
        ExecuteAsync("""
            INSERT INTO artifact_metadata (trial_id, path, doc) VALUES (@trial, @path, @doc)
            ON CONFLICT (trial_id, path) DO UPDATE SET doc = excluded.doc
            """, cancellationToken,
            new("trial", metadata.TrialId), new("path", metadata.Path), Jsonb("doc", ToJson(metadata)));

    /// <inheritdoc />
    public async Task<IReadOnlyList<ArtifactMetadata>> GetArtifactMetadataAsync(string trialId, CancellationToken cancellationToken = default) =>
        await ReadDocsAsync<ArtifactMetadata>("SELECT doc::text FROM artifact_metadata WHERE trial_id = @trial", cancellationToken,
            new NpgsqlParameter("trial", trialId));

    // ArtifactFiles trims leading slashes, which would make an absolute path one inside the trial; the contract refuses it.
    private static string Relative(string path) =>
        path is null || path.StartsWith('/') || Path.IsPathRooted(path)
            ? throw new ArgumentException($"Invalid artifact path '{path}': it must be relative to the trial's files.", nameof(path))
            : path;

    // File-system calls that have no async form; their exceptions (refused paths) belong in the task, as with async ones.
    private static Task<T> Synchronously<T>(Func<T> call)
    {
        try
        {
            return Task.FromResult(call());
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }
}
