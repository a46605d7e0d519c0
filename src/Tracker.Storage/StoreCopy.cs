using System.Globalization;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage;

/// <summary>
/// Copies everything one store holds into another, empty one, through the store interfaces alone, so any backend can be
/// copied into any other (<c>tracker migrate</c>): experiments, trials (ids, numbers, tags and notes kept), every point of
/// every metric series in its order, reports, predictions with their sample images, artifact files and their records,
/// and API keys as stored (by hash; revoked keys stay revoked, last use kept).
/// </summary>
/// <remarks>
/// Series are read a page at a time and appended in batches of <see cref="MetricBatch"/> points, and artifact files are
/// streamed, so memory does not grow with the size of the store. The copy is not one transaction: when it fails half way,
/// the target holds part of the source, and it refuses a second copy (it is no longer empty); empty it (a new database
/// or file) and copy again. Trial counters: both backends hand out numbers after the highest number a trial of the
/// experiment holds, so new trials in the target continue after the copied ones.
/// </remarks>
/// <param name="metricBatch">The most points one append writes (at least 1).</param>
/// <param name="metricPage">The most points one read of a series returns (at least 1).</param>
public sealed class StoreCopy(int metricBatch = StoreCopy.DefaultMetricBatch, int metricPage = StoreCopy.DefaultMetricPage)
{
    /// <summary>The default of <see cref="MetricBatch"/>.</summary>
    public const int DefaultMetricBatch = 50_000;

    /// <summary>The default of <see cref="MetricPage"/>.</summary>
    public const int DefaultMetricPage = 10_000;

    /// <summary>The most points one append to the target writes.</summary>
    public int MetricBatch { get; } = Math.Max(1, metricBatch);

    /// <summary>The most points one read of a source series returns.</summary>
    public int MetricPage { get; } = Math.Max(1, metricPage);

    /// <summary>
    /// Copies <paramref name="from"/> into <paramref name="to"/>, reporting each step to <paramref name="progress"/>.
    /// Returns what was copied.
    /// </summary>
    /// <exception cref="StoreNotEmptyException">The target already holds experiments or API keys; nothing was written.</exception>
    public async Task<StoreCopyReport> CopyAsync(TrackerStores from, TrackerStores to, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        // A copy is never merged into live data: the target must hold nothing the copy could collide with.
        int targetExperiments = (await to.Experiments.ListExperimentsAsync(cancellationToken)).Count;
        int targetKeys = (await to.ApiKeys.ListApiKeysAsync(cancellationToken)).Count;
        if (targetExperiments > 0 || targetKeys > 0) throw new StoreNotEmptyException(targetExperiments, targetKeys);

        var report = new Counts();
        // Oldest first, so that a partial copy holds the oldest experiments whole.
        var experiments = (await from.Experiments.ListExperimentsAsync(cancellationToken)).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal);
        foreach (var experiment in experiments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await to.Experiments.SaveExperimentAsync(experiment, cancellationToken);
            report.Experiments++;
            var trials = await from.Trials.ListTrialsAsync(experiment.Id, cancellationToken);
            progress?.Report(string.Create(CultureInfo.InvariantCulture, $"experiment {experiment.Id} ({experiment.Spec.Name}): {trials.Count} trial(s)"));
            await CopyTrialsAsync(from, to, trials, report, cancellationToken);
            foreach (var trial in trials)
                await CopyTrialDataAsync(from, to, trial, report, cancellationToken);
        }

        var keys = await from.ApiKeys.ListApiKeysAsync(cancellationToken);
        foreach (var key in keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal))
        {
            await to.ApiKeys.AddApiKeyAsync(key, cancellationToken);
            report.ApiKeys++;
        }
        if (keys.Count > 0) progress?.Report(string.Create(CultureInfo.InvariantCulture, $"{keys.Count} API key(s)"));
        return report.ToReport();
    }

    private static async Task CopyTrialsAsync(TrackerStores from, TrackerStores to, IReadOnlyList<Trial> trials, Counts report, CancellationToken cancellationToken)
    {
        // A logged run records where its files are; when that is the source store's own folder, it becomes the target's.
        await to.Trials.SaveTrialsAsync(trials.Select(t => Relocated(from, to, t)), cancellationToken);
        // A save keeps the annotations a target already stores for a trial; they are set explicitly, whatever the backend.
        foreach (var trial in trials.Where(t => t.Tags.Count > 0 || t.Notes is not null))
            await to.Trials.UpdateTrialAnnotationsAsync(trial.Id, trial.Tags, trial.Notes, cancellationToken);
        report.Trials += trials.Count;
    }

    /// <summary>The trial as the target stores it: a logged run's artifact URI follows its files to the target's folder.</summary>
    internal static Trial Relocated(TrackerStores from, TrackerStores to, Trial trial)
    {
        if (trial.Logged is not { } logged || logged.ArtifactUri != from.Artifacts.ArtifactUri(trial.Id)) return trial;
        return trial with { Logged = logged with { ArtifactUri = to.Artifacts.ArtifactUri(trial.Id) } };
    }

    private async Task CopyTrialDataAsync(TrackerStores from, TrackerStores to, Trial trial, Counts report, CancellationToken cancellationToken)
    {
        await CopySeriesAsync(from, to, trial.Id, report, cancellationToken);

        foreach (var evaluation in await from.Evaluations.ListReportsAsync(trial.Id, cancellationToken))
        {
            await to.Evaluations.SaveReportAsync(evaluation, cancellationToken);
            report.Reports++;
        }

        if (await from.Evaluations.GetPredictionsAsync(trial.Id, cancellationToken) is { } predictions)
        {
            var images = await from.Evaluations.GetSampleImagesAsync(trial.Id, cancellationToken);
            await to.Evaluations.SavePredictionsAsync(predictions, images, cancellationToken);
            report.Predictions++;
            report.SampleImages += images.Count;
        }

        await CopyArtifactsAsync(from, to, trial.Id, report, cancellationToken);
    }

    // Every series of the trial, a page at a time; the points go out in batches (of any keys), in the order they were read,
    // so points of one step keep their logged order in the target too.
    private async Task CopySeriesAsync(TrackerStores from, TrackerStores to, string trialId, Counts report, CancellationToken cancellationToken)
    {
        var batch = new List<MetricPoint>(Math.Min(MetricBatch, 4 * MetricPage));
        foreach (var latest in await from.Metrics.LatestMetricsAsync(trialId, cancellationToken))
        {
            MetricCursor? cursor = MetricCursor.Start;
            while (cursor is { } at)
            {
                var page = await from.Metrics.ReadMetricsAsync(trialId, latest.Key, at, MetricPage, cancellationToken);
                foreach (var point in page.Points)
                {
                    batch.Add(point);
                    if (batch.Count >= MetricBatch) await FlushAsync();
                }
                cursor = page.Next;
            }
            report.Series++;
        }
        await FlushAsync();

        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            await to.Metrics.AppendMetricsAsync(batch, cancellationToken);
            report.Points += batch.Count;
            batch.Clear();
        }
    }

    private static async Task CopyArtifactsAsync(TrackerStores from, TrackerStores to, string trialId, Counts report, CancellationToken cancellationToken)
    {
        // Two stores on one artifact folder (a LiteDB file in data/ and PostgreSQL's default data/artifacts): the files
        // are already where the target looks for them, and copying a file onto itself would only risk it.
        bool sameFolder = from.Artifacts.ArtifactUri(trialId) == to.Artifacts.ArtifactUri(trialId);
        foreach (var file in await from.Artifacts.ListAllArtifactsAsync(trialId, cancellationToken))
        {
            if (sameFolder)
            {
                report.ArtifactFilesInPlace++;
                continue;
            }
            await using var content = await from.Artifacts.OpenArtifactAsync(trialId, file.Path, cancellationToken);
            if (content is null) continue; // deleted meanwhile
            report.ArtifactBytes += await to.Artifacts.WriteArtifactAsync(trialId, file.Path, content, cancellationToken: cancellationToken);
            report.ArtifactFiles++;
        }
        foreach (var metadata in await from.Artifacts.GetArtifactMetadataAsync(trialId, cancellationToken))
        {
            await to.Artifacts.SaveArtifactMetadataAsync(metadata, cancellationToken);
            report.ArtifactRecords++;
        }
    }

    private sealed class Counts
    {
        public int Experiments, Trials, Series, Reports, Predictions, SampleImages, ArtifactFiles, ArtifactFilesInPlace, ArtifactRecords, ApiKeys;
        public long Points, ArtifactBytes;

        public StoreCopyReport ToReport() => new(Experiments, Trials, Series, Points, Reports, Predictions, SampleImages,
            ArtifactFiles, ArtifactBytes, ArtifactFilesInPlace, ArtifactRecords, ApiKeys);
    }
}

/// <summary>What <see cref="StoreCopy.CopyAsync"/> copied.</summary>
/// <param name="Experiments">Experiments.</param>
/// <param name="Trials">Trials.</param>
/// <param name="Series">Metric series (one per trial and key).</param>
/// <param name="Points">Metric points, over all series.</param>
/// <param name="Reports">Classification reports.</param>
/// <param name="Predictions">Trials' prediction sets.</param>
/// <param name="SampleImages">Thumbnails of sample images.</param>
/// <param name="ArtifactFiles">Artifact files written to the target's folder.</param>
/// <param name="ArtifactBytes">Their bytes.</param>
/// <param name="ArtifactFilesInPlace">Artifact files left where they were, the two stores sharing one artifact folder.</param>
/// <param name="ArtifactRecords">Records of what artifact files are (content type, caption, labels).</param>
/// <param name="ApiKeys">API keys, revoked ones included.</param>
public sealed record StoreCopyReport(
    int Experiments, int Trials, int Series, long Points, int Reports, int Predictions, int SampleImages,
    int ArtifactFiles, long ArtifactBytes, int ArtifactFilesInPlace, int ArtifactRecords, int ApiKeys);

/// <summary>The target of a copy already holds data; nothing was written.</summary>
public sealed class StoreNotEmptyException(int experiments, int apiKeys) : InvalidOperationException(
    $"The target store is not empty: it holds {experiments} experiment(s) and {apiKeys} API key(s). A migration is never merged " +
    "into a store in use: name a new, empty database (a new LiteDB file, or a database made with createdb).")
{
    /// <summary>The experiments the target holds.</summary>
    public int Experiments { get; } = experiments;

    /// <summary>The API keys the target holds.</summary>
    public int ApiKeys { get; } = apiKeys;
}
