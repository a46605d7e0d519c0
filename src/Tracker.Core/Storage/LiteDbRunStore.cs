using System.Text.Json;
using LiteDB;
using Microsoft.Extensions.Options;
using Tracker.Core.Experiments;
using TrialState = Tracker.Abstractions.TrialState;

namespace Tracker.Core.Storage;

/// <summary>
/// The LiteDB store: one file, one <see cref="LiteDatabase"/> per process. Records are converted through Tracker's
/// JSON convention into BSON documents, so what is stored reads like the API's JSON and can be queried by field.
/// </summary>
public sealed partial class LiteDbRunStore : IRunStore, IDisposable
{
    private readonly LiteDatabase db;
    private readonly ILiteCollection<BsonDocument> experiments, trials, metrics, reports, predictions;

    /// <summary>Opens (or creates) the database file at <paramref name="path"/>.</summary>
    public LiteDbRunStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        // Direct mode keeps the file open exclusively: one process owns the store (see ARCHITECTURE "Storage").
        db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct });
        experiments = db.GetCollection("experiments");
        trials = db.GetCollection("trials");
        metrics = db.GetCollection("metrics");
        reports = db.GetCollection("reports");
        predictions = db.GetCollection("predictions");
        trials.EnsureIndex("experimentId");
        trials.EnsureIndex("state");
        EnsureQueryIndexes();
        metrics.EnsureIndex("trialId");
        reports.EnsureIndex("trialId");
        EnsureApiKeyIndexes();
        db.GetCollection(ArtifactCollection).EnsureIndex("trialId");
    }

    /// <summary>Opens the file named by the options.</summary>
    public LiteDbRunStore(IOptions<StoreOptions> options) : this(options.Value.ConnectionString) { }

    /// <summary>The absolute path of the database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void SaveExperiment(Experiment experiment) => experiments.Upsert(ToBson(experiment, experiment.Id));

    /// <inheritdoc />
    public Experiment? GetExperiment(string id) => FromBson<Experiment>(experiments.FindById(id));

    /// <inheritdoc />
    public IReadOnlyList<Experiment> ListExperiments() =>
        experiments.FindAll().Select(d => FromBson<Experiment>(d)!).OrderByDescending(e => e.CreatedAt).ToList();

    /// <inheritdoc />
    public void SaveTrial(Trial trial) => SaveTrials([trial]);

    /// <inheritdoc />
    public Trial? GetTrial(string id) => FromBson<Trial>(trials.FindById(id));

    /// <inheritdoc />
    public IReadOnlyList<Trial> ListTrials(string experimentId) =>
        trials.Find(Query.EQ("experimentId", experimentId)).Select(d => FromBson<Trial>(d)!).OrderBy(t => t.Number).ToList();

    /// <inheritdoc />
    public IReadOnlyList<Trial> ListTrialsInState(params TrialState[] states) =>
        trials.Find(Query.In("state", states.Select(s => new BsonValue(JsonNamingPolicy.CamelCase.ConvertName(s.ToString()))).ToArray()))
            .Select(d => FromBson<Trial>(d)!).ToList();

    /// <summary>The most points one series chunk holds (about 25 KB): bigger batches are stored in several chunks.</summary>
    internal const int MaxPointsPerChunk = 1000;

    /// <inheritdoc />
    /// <remarks>
    /// Each series (trial and key) in a call is stored as chunks of up to <see cref="MaxPointsPerChunk"/> points, one
    /// document each, with the steps, values and times in parallel arrays. A document per point capped ingestion at
    /// about 20,000 points a second, most of it spent on per-document overhead and index entries; a batch of 10,000
    /// points is now ten documents. Points are never rewritten, so an append costs no read.
    /// </remarks>
    public void AppendMetrics(IReadOnlyCollection<MetricPoint> points)
    {
        if (points.Count == 0) return;
        metrics.InsertBulk(points.GroupBy(p => (p.TrialId, p.Key)).SelectMany(series => series.Chunk(MaxPointsPerChunk)).Select(chunk => new BsonDocument
        {
            ["trialId"] = chunk[0].TrialId,
            ["key"] = chunk[0].Key,
            ["steps"] = new BsonArray(chunk.Select(p => new BsonValue(p.Step))),
            ["values"] = new BsonArray(chunk.Select(p => new BsonValue(p.Value))),
            ["times"] = new BsonArray(chunk.Select(p => new BsonValue(p.Timestamp.ToUnixTimeMilliseconds()))),
        }));
    }

    /// <inheritdoc />
    public IReadOnlyList<MetricPoint> GetMetrics(string trialId, string? key = null) =>
        metrics.Find(Query.EQ("trialId", trialId))
            .Where(d => key is null || d["key"].AsString == key)
            .OrderBy(d => d["_id"]) // insertion order, which keeps points of one step in the order they were logged
            .SelectMany(d => ReadChunk(trialId, d))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Step)
            .ToList();

    private static IEnumerable<MetricPoint> ReadChunk(string trialId, BsonDocument d)
    {
        string key = d["key"].AsString;
        if (!d["steps"].IsArray)
        {
            // Databases written before series were chunked hold one document per point.
            yield return new MetricPoint(trialId, key, d["step"].AsInt32, d["value"].AsDouble,
                new DateTimeOffset(DateTime.SpecifyKind(d["time"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)));
            yield break;
        }
        BsonArray steps = d["steps"].AsArray, values = d["values"].AsArray, times = d["times"].AsArray;
        for (int i = 0; i < steps.Count; i++)
            yield return new MetricPoint(trialId, key, steps[i].AsInt32, values[i].AsDouble, DateTimeOffset.FromUnixTimeMilliseconds(times[i].AsInt64));
    }

    /// <inheritdoc />
    public void SaveReport(EvaluationReport report) =>
        reports.Upsert(ToBson(report, $"{report.TrialId}:{report.Split}:{report.Step}"));

    /// <inheritdoc />
    public EvaluationReport? GetLatestReport(string trialId, string? split = null) =>
        reports.Find(Query.EQ("trialId", trialId))
            .Where(d => split is null || d["split"].AsString == split)
            .OrderByDescending(d => d["step"].AsInt32)
            .Select(d => FromBson<EvaluationReport>(d))
            .FirstOrDefault();

    /// <inheritdoc />
    public void SavePredictions(PredictionSet predictions, IReadOnlyDictionary<int, byte[]> sampleImages)
    {
        // Thumbnails are small, so they live in LiteDB's file storage rather than on disk.
        foreach (var old in db.FileStorage.Find(Query.StartsWith("_id", $"{predictions.TrialId}/")).ToList())
            db.FileStorage.Delete(old.Id);
        foreach (var (index, png) in sampleImages)
        {
            using var stream = new MemoryStream(png);
            db.FileStorage.Upload(SampleId(predictions.TrialId, index), $"{index}.png", stream);
        }
        this.predictions.Upsert(ToBson(predictions, predictions.TrialId));
    }

    /// <inheritdoc />
    public PredictionSet? GetPredictions(string trialId) => FromBson<PredictionSet>(predictions.FindById(trialId));

    /// <inheritdoc />
    public byte[]? GetSampleImage(string trialId, int index)
    {
        var file = db.FileStorage.FindById(SampleId(trialId, index));
        if (file is null) return null;
        using var stream = new MemoryStream();
        file.CopyTo(stream);
        return stream.ToArray();
    }

    /// <inheritdoc />
    public string ArtifactFolder(string trialId) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "artifacts", trialId);

    private static string SampleId(string trialId, int index) => $"{trialId}/samples/{index}";

    /// <inheritdoc />
    public void Dispose() => db.Dispose();

    // The conversion goes through System.Text.Json's element tree rather than through LiteDB's JSON text: LiteDB writes a
    // double with at most nine decimals ("0.0########"), so learning rates such as 1.2345678e-4 or 3e-12 came back
    // rounded or as 0 after a save.
    private static BsonDocument ToBson<T>(T value, string id)
    {
        var doc = BsonJson.ToDocument(value);
        doc["_id"] = id;
        return doc;
    }

    private static T? FromBson<T>(BsonDocument? doc) where T : class
    {
        if (doc is null) return null;
        var copy = new BsonDocument(doc);
        // _id and the trials' denormalised query fields (_created, _text, ...) are the store's, not the record's.
        foreach (var key in copy.Keys.Where(k => k.StartsWith('_')).ToList()) copy.Remove(key);
        return BsonJson.FromDocument<T>(copy);
    }
}
