using System.Globalization;
using LiteDB;
using Tracker.Core.Experiments;

namespace Tracker.Storage.LiteDb;

// Classification reports, predictions, and the sample thumbnails, which are small enough to live in LiteDB's file
// storage (ids "<trial>/samples/<index>") rather than on disk.
public sealed partial class LiteDbStore
{
    /// <inheritdoc />
    public Task SaveReportAsync(EvaluationReport report, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() => reports.Upsert(ToBson(report, $"{report.TrialId}:{report.Split}:{report.Step}")));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<EvaluationReport?> GetLatestReportAsync(string trialId, string? split = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var report = reports.Find(Query.EQ("trialId", trialId))
            .Where(d => split is null || d["split"].AsString == split)
            .OrderByDescending(d => d["step"].AsInt32)
            .Select(FromBson<EvaluationReport>)
            .FirstOrDefault();
        return Task.FromResult(report);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<EvaluationReport>> ListReportsAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<EvaluationReport> all = reports.Find(Query.EQ("trialId", trialId)).Select(FromBson<EvaluationReport>).OfType<EvaluationReport>()
            .OrderBy(r => r.Split, StringComparer.Ordinal).ThenBy(r => r.Step).ToList();
        return Task.FromResult(all);
    }

    /// <inheritdoc />
    public Task SavePredictionsAsync(PredictionSet predictions, IReadOnlyDictionary<int, byte[]> sampleImages, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() =>
        {
            foreach (var old in db.FileStorage.Find(Query.StartsWith("_id", SamplePrefix(predictions.TrialId))).ToList())
                db.FileStorage.Delete(old.Id);
            foreach (var (index, png) in sampleImages)
            {
                using var stream = new MemoryStream(png, writable: false);
                db.FileStorage.Upload(SamplePrefix(predictions.TrialId) + index.ToString(CultureInfo.InvariantCulture), $"{index}.png", stream);
            }
            this.predictions.Upsert(ToBson(predictions, predictions.TrialId));
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<PredictionSet?> GetPredictionsAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FromBson<PredictionSet>(predictions.FindById(trialId)));
    }

    /// <inheritdoc />
    public Task<byte[]?> GetSampleImageAsync(string trialId, int index, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = db.FileStorage.FindById(SamplePrefix(trialId) + index.ToString(CultureInfo.InvariantCulture));
        return Task.FromResult(file is null ? null : Read(file));
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<int, byte[]>> GetSampleImagesAsync(string trialId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        string prefix = SamplePrefix(trialId);
        var images = new SortedDictionary<int, byte[]>();
        foreach (var file in db.FileStorage.Find(Query.StartsWith("_id", prefix)).ToList())
            if (int.TryParse(file.Id.AsSpan(prefix.Length), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index))
                images[index] = Read(file);
        return Task.FromResult<IReadOnlyDictionary<int, byte[]>>(images);
    }

    private static byte[] Read(LiteFileInfo<string> file)
    {
        using var stream = new MemoryStream();
        file.CopyTo(stream);
        return stream.ToArray();
    }

    private static string SamplePrefix(string trialId) => $"{trialId}/samples/";
}
