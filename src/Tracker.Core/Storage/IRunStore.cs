using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// Where experiments, trials and metric series live. Implementations are thread-safe; every write is durable
/// when the call returns.
/// </summary>
public interface IRunStore
{
    /// <summary>Inserts or replaces an experiment.</summary>
    void SaveExperiment(Experiment experiment);

    /// <summary>Finds an experiment, or <c>null</c>.</summary>
    Experiment? GetExperiment(string id);

    /// <summary>All experiments, newest first.</summary>
    IReadOnlyList<Experiment> ListExperiments();

    /// <summary>
    /// Inserts or replaces a trial. The tags and notes of a trial already stored are kept: the runner saves whole
    /// records it took before a user annotated them, so only <see cref="UpdateTrialAnnotations"/> changes them.
    /// </summary>
    void SaveTrial(Trial trial);

    /// <summary>Inserts or replaces many trials in batches, with the same rule for tags and notes as <see cref="SaveTrial"/>.</summary>
    void SaveTrials(IEnumerable<Trial> trials);

    /// <summary>
    /// Sets a trial's tags and/or notes (a <c>null</c> argument leaves that field as it is) without touching anything
    /// else; returns the updated trial, or <c>null</c> when there is none. Tags are trimmed, empty ones dropped and
    /// duplicates (ignoring case) removed; empty notes become <c>null</c>.
    /// </summary>
    Trial? UpdateTrialAnnotations(string trialId, IReadOnlyList<string>? tags, string? notes);

    /// <summary>One page of the trials of all experiments, filtered, sorted and paged by the store.</summary>
    TrialQueryResult QueryTrials(TrialQuery query);

    /// <summary>
    /// Every trial that <paramref name="query"/> matches, in its order, ignoring its paging; read lazily in chunks, so
    /// the caller can stream them out.
    /// </summary>
    IEnumerable<TrialRow> ExportTrials(TrialQuery query);

    /// <summary>The parameter and final-metric names that the trials matching <paramref name="query"/> have, on all its pages.</summary>
    TrialFieldNames TrialFields(TrialQuery query);

    /// <summary>Finds a trial, or <c>null</c>.</summary>
    Trial? GetTrial(string id);

    /// <summary>The trials of an experiment in number order.</summary>
    IReadOnlyList<Trial> ListTrials(string experimentId);

    /// <summary>All trials in the given states (e.g. to find those a crash left running).</summary>
    IReadOnlyList<Trial> ListTrialsInState(params Abstractions.TrialState[] states);

    /// <summary>Appends metric points in one transaction.</summary>
    void AppendMetrics(IReadOnlyCollection<MetricPoint> points);

    /// <summary>
    /// Appends metric points and saves a trial (keeping stored tags and notes, as <see cref="SaveTrial"/> does) in one
    /// transaction where the store has them, so that a reader sees the points and the trial's latest values together.
    /// </summary>
    void SaveTrialWithMetrics(Trial trial, IReadOnlyCollection<MetricPoint> points)
    {
        AppendMetrics(points);
        SaveTrial(trial);
    }

    /// <summary>A trial's metric points ordered by key and step; all keys when <paramref name="key"/> is null.</summary>
    IReadOnlyList<MetricPoint> GetMetrics(string trialId, string? key = null);

    /// <summary>Stores a classification report (replacing one for the same trial, split and step).</summary>
    void SaveReport(EvaluationReport report);

    /// <summary>The report of the latest step for <paramref name="split"/> (any split when null), or <c>null</c>.</summary>
    EvaluationReport? GetLatestReport(string trialId, string? split = null);

    /// <summary>Stores a trial's predictions and the PNG thumbnails of its sample images (replacing earlier ones).</summary>
    void SavePredictions(PredictionSet predictions, IReadOnlyDictionary<int, byte[]> sampleImages);

    /// <summary>A trial's predictions, or <c>null</c>.</summary>
    PredictionSet? GetPredictions(string trialId);

    /// <summary>The PNG thumbnail of evaluation image <paramref name="index"/> of a trial, or <c>null</c>.</summary>
    byte[]? GetSampleImage(string trialId, int index);

    /// <summary>The folder for a trial's large artifacts (checkpoints, files a logging client uploads), beside the database file.</summary>
    string ArtifactFolder(string trialId);

    /// <summary>Stores a new dashboard-created API key: its hash and display prefix, never the key.</summary>
    void AddApiKey(ApiKeyRecord key);

    /// <summary>The stored API keys, revoked ones included, newest first.</summary>
    IReadOnlyList<ApiKeyRecord> ListApiKeys();

    /// <summary>The stored key whose SHA-256 hex hash is <paramref name="sha256"/> (revoked or not), or <c>null</c>.</summary>
    ApiKeyRecord? FindApiKeyByHash(string sha256);

    /// <summary>
    /// Marks a key revoked, unless it already is; returns the key as stored afterwards, or <c>null</c> when there is none.
    /// </summary>
    ApiKeyRecord? RevokeApiKey(string id, DateTimeOffset revokedAt);

    /// <summary>Sets a key's last-used time to <paramref name="usedAt"/> when that is later than the stored one.</summary>
    void RecordApiKeyUse(string id, DateTimeOffset usedAt);

    /// <summary>Records what an artifact file of a trial is (replacing an earlier record of the same path); the file itself is on disk.</summary>
    void SaveArtifactMetadata(Tracking.ArtifactMetadata metadata);

    /// <summary>The artifact records of a trial, in no particular order.</summary>
    IReadOnlyList<Tracking.ArtifactMetadata> GetArtifactMetadata(string trialId);
}
