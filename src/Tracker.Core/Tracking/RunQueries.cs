using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Core.Tracking;

/// <summary>
/// Reads of logged runs and experiments: runs searched through the store's <see cref="TrialQuery"/>, experiments
/// searched here, metric histories by step cursor, artifact listings and the native <see cref="RunView"/>. The
/// callers parse their own search syntax (MLflow's endpoints parse MLflow's) into the query and comparisons.
/// </summary>
public sealed class RunQueries(RunRegistry registry, IExperimentStore experiments, ITrialStore trials, IMetricStore metricStore, IArtifactStore artifacts)
{
    /// <summary>
    /// Runs of logged experiments that match <paramref name="query"/>, <paramref name="maxResults"/> from
    /// <paramref name="offset"/>: the store filters, sorts and pages them; experiments that are not logged ones give no
    /// runs.
    /// </summary>
    public async Task<Page<Trial>> SearchRunsAsync(TrialQuery query, int offset, int maxResults, CancellationToken cancellationToken = default)
    {
        var experimentIds = new List<string>();
        foreach (var id in query.ExperimentIds.Distinct(StringComparer.Ordinal))
            if (await registry.FindExperimentAsync(id, cancellationToken) is not null) experimentIds.Add(id);
        if (experimentIds.Count == 0) return new Page<Trial>([], null);
        query = query with { ExperimentIds = experimentIds, LoggedOnly = true };

        // The store pages by a fixed size; the caller's offset and page size are laid over its pages.
        int size = TrialQuery.MaxPageSize, page = offset / size, skip = offset % size;
        var runs = new List<Trial>(Math.Min(maxResults, 1000));
        int total = 0;
        while (runs.Count < maxResults)
        {
            var result = await trials.QueryTrialsAsync(query with { Page = page, PageSize = size }, cancellationToken);
            total = result.Total;
            runs.AddRange(result.Items.Skip(skip).Take(maxResults - runs.Count).Select(r => r.Trial));
            if ((long)(page + 1) * size >= total) break;
            page++;
            skip = 0;
        }
        int next = offset + runs.Count;
        return new Page<Trial>(runs, next < total ? PageToken.Encode(next) : null);
    }

    /// <summary>
    /// Logged experiments in <paramref name="view"/> that <paramref name="match"/>, sorted by <paramref name="order"/>
    /// (then creation time, newest first, then id), <paramref name="maxResults"/> from <paramref name="offset"/>.
    /// </summary>
    public async Task<Page<Experiment>> SearchExperimentsAsync(ViewType view, Func<Experiment, bool> match, Comparison<Experiment>? order,
        int offset, int maxResults, CancellationToken cancellationToken = default)
    {
        // Experiments are few (tens to thousands) against runs (millions): they are filtered here, runs in the store.
        var matches = (await registry.ListExperimentsAsync(cancellationToken)).Where(e => InView(e.LifecycleStage, view) && match(e)).ToList();
        matches.Sort((a, b) =>
        {
            int c = order?.Invoke(a, b) ?? 0;
            if (c != 0) return c;
            int byTime = b.CreatedAt.CompareTo(a.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return PageToken.Slice(matches, offset, maxResults);
    }

    /// <summary>
    /// Every value of one metric of a logged run (deleted or not) by step, then time; pages of at most
    /// <see cref="LoggingRules.MaxHistoryResults"/> (also the default size). An unknown key gives no values.
    /// </summary>
    public async Task<TrackingResult<Page<MetricPoint>>> GetMetricHistoryAsync(string runId, string key, int? maxResults = null, string? pageToken = null,
        CancellationToken cancellationToken = default)
    {
        var run = await registry.GetRunAsync(runId, cancellationToken);
        return run.Succeeded ? await HistoryAsync(run.Value!, key, maxResults, pageToken, cancellationToken) : run.Error!;
    }

    /// <summary>As <see cref="GetMetricHistoryAsync"/>, of any trial (logged or not).</summary>
    public async Task<TrackingResult<Page<MetricPoint>>> GetHistoryAsync(string runId, string key, int? maxResults = null, string? pageToken = null,
        CancellationToken cancellationToken = default) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { } trial ? await HistoryAsync(trial, key, maxResults, pageToken, cancellationToken) : NoRun(runId);

    /// <summary>
    /// The files and folders directly under <paramref name="path"/> of a run's artifacts, when they are on this
    /// machine (a file URI); other locations list as empty.
    /// </summary>
    public async Task<TrackingResult<ArtifactListing>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken = default)
    {
        var found = await registry.GetRunAsync(runId, cancellationToken);
        if (!found.Succeeded) return found.Error!;
        var run = found.Value!;
        string root = run.Logged!.ArtifactUri;
        string folder;
        try
        {
            folder = ArtifactFiles.Normalise(path, allowEmpty: true);
        }
        catch (ArgumentException)
        {
            return Invalid($"Invalid path '{path}': it must be a relative path inside the run's artifacts, without '..'.");
        }
        // Only the store's own artifacts are listed: a location elsewhere (an experiment's artifact_location) is the client's.
        if (root != artifacts.ArtifactUri(run.Id)) return new ArtifactListing(root, []);
        var files = (await artifacts.ListArtifactsAsync(run.Id, folder, cancellationToken))
            .Select(f => new ArtifactFile(f.Path, f.IsFolder, f.Size)).ToList();
        return new ArtifactListing(root, files);
    }

    /// <summary>The native view of any trial (logged or not).</summary>
    public async Task<TrackingResult<RunView>> ViewRunAsync(string runId, CancellationToken cancellationToken = default) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { } trial ? await ViewAsync(trial, cancellationToken) : NoRun(runId);

    /// <summary>The native view of a trial.</summary>
    public async Task<RunView> ViewAsync(Trial trial, CancellationToken cancellationToken = default) =>
        RunView.Of(trial, await experiments.GetExperimentAsync(trial.ExperimentId, cancellationToken));

    // A page is read by step range from the store, and its token is the step (and position within it) to go on from.
    private async Task<TrackingResult<Page<MetricPoint>>> HistoryAsync(Trial run, string key, int? maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        int size = maxResults ?? LoggingRules.MaxHistoryResults;
        if (LoggingRules.CheckMaxResults(size, LoggingRules.MaxHistoryResults) is { } badSize) return badSize with { Field = "maxResults" };
        if (!MetricCursor.TryParse(pageToken, out var cursor))
            return Invalid($"Invalid page token '{pageToken}': it must be a token this server gave.", "pageToken");
        var page = await metricStore.ReadMetricsAsync(run.Id, key, cursor, size, cancellationToken);
        return new Page<MetricPoint>(page.Points, page.Next?.ToToken());
    }

    private static bool InView(LifecycleStage stage, ViewType view) => view switch
    {
        ViewType.ActiveOnly => stage == LifecycleStage.Active,
        ViewType.DeletedOnly => stage == LifecycleStage.Deleted,
        _ => true,
    };
}
