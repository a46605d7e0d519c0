using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>Classification reports, predictions and the thumbnails of sample images. Each call is atomic.</summary>
public interface IEvaluationStore
{
    /// <summary>Stores a classification report, replacing one for the same trial, split and step.</summary>
    Task SaveReportAsync(EvaluationReport report, CancellationToken cancellationToken = default);

    /// <summary>The report of the latest step for <paramref name="split"/> (any split when null), or <c>null</c>.</summary>
    Task<EvaluationReport?> GetLatestReportAsync(string trialId, string? split = null, CancellationToken cancellationToken = default);

    /// <summary>Every report of a trial, ordered by split (ordinal) and then step (for copying a store).</summary>
    Task<IReadOnlyList<EvaluationReport>> ListReportsAsync(string trialId, CancellationToken cancellationToken = default);

    /// <summary>Stores a trial's predictions and the PNG thumbnails of its sample images, replacing earlier ones.</summary>
    Task SavePredictionsAsync(PredictionSet predictions, IReadOnlyDictionary<int, byte[]> sampleImages, CancellationToken cancellationToken = default);

    /// <summary>A trial's predictions, or <c>null</c>.</summary>
    Task<PredictionSet?> GetPredictionsAsync(string trialId, CancellationToken cancellationToken = default);

    /// <summary>The PNG thumbnail of evaluation image <paramref name="index"/> of a trial, or <c>null</c>.</summary>
    Task<byte[]?> GetSampleImageAsync(string trialId, int index, CancellationToken cancellationToken = default);

    /// <summary>Every stored thumbnail of a trial by image index (for copying a store).</summary>
    Task<IReadOnlyDictionary<int, byte[]>> GetSampleImagesAsync(string trialId, CancellationToken cancellationToken = default);
}
