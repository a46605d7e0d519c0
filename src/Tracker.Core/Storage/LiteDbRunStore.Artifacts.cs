using LiteDB;
using Tracker.Core.Tracking;

namespace Tracker.Core.Storage;

// What the artifact files of a trial are (content type, caption, labels): small records keyed by trial and path. The
// files themselves live in the trial's artifact folder, so that MLflow's artifact listing and plain tools see them.
public sealed partial class LiteDbRunStore
{
    private const string ArtifactCollection = "artifacts";

    /// <inheritdoc />
    public void SaveArtifactMetadata(ArtifactMetadata metadata) =>
        db.GetCollection(ArtifactCollection).Upsert(ToBson(metadata, $"{metadata.TrialId}/{metadata.Path}"));

    /// <inheritdoc />
    public IReadOnlyList<ArtifactMetadata> GetArtifactMetadata(string trialId) =>
        db.GetCollection(ArtifactCollection).Find(Query.EQ("trialId", trialId)).Select(d => FromBson<ArtifactMetadata>(d)!).ToList();
}
