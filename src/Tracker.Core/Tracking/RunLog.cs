using System.Globalization;
using System.Text.RegularExpressions;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;

namespace Tracker.Core.Tracking;

/// <summary>
/// Records runs that clients ran themselves — MLflow's tracking model — as Tracker experiments and trials, so that they
/// sit in the dashboard beside Tracker's own and compare on the same metrics. Used by the MLflow-compatible REST API;
/// the dashboard or a .NET client can call it alike. Enforces MLflow's rules and limits (names, batch sizes, params
/// that never change, lifecycle) and answers problems as values.
/// </summary>
/// <remarks>
/// The mapping: an MLflow experiment is an experiment with <see cref="TrialExecution.Logged"/> (id "0" is the
/// "Default" experiment, made on first use); a run is a trial. Params are kept verbatim in
/// <see cref="LoggedRunInfo.Params"/> and copied into <see cref="Trial.Parameters"/>, as numbers where the text is
/// a plain number (so range filters of the runs browser work). Every metric value is a metric point (step, ms
/// timestamp, value); the latest value per key (greatest step, then time, then value) is in
/// <see cref="Trial.FinalMetrics"/>, and the experiment's objective metric (<c>val_f1_macro</c> unless the tag
/// <c>tracker.objective</c> names another; <c>tracker.direction</c> = maximize|minimize) gives the trial's objective
/// and its per-step curve. Statuses RUNNING, SCHEDULED, FINISHED, FAILED, KILLED are the trial states Running,
/// Queued, Completed, Failed, Interrupted. Every write publishes on <see cref="MetricFeed"/>.
/// Concurrency: a run's writes are compare-and-swap updates in the store and its number comes from the store's counter,
/// so several server processes on one database neither lose updates nor share numbers.
/// </remarks>
public sealed partial class RunLog(IExperimentStore experiments, ITrialStore trials, IMetricStore metricStore, IArtifactStore artifacts, MetricFeed feed)
{
    /// <summary>The id of the experiment runs go to when none is named.</summary>
    public const string DefaultExperimentId = "0";

    /// <summary>The name of the default experiment.</summary>
    public const string DefaultExperimentName = "Default";

    /// <summary>The run tag that holds a run's name.</summary>
    public const string RunNameTag = "mlflow.runName";

    /// <summary>The run tag that names the user (used when a run is created without a user id).</summary>
    public const string UserTag = "mlflow.user";

    /// <summary>The experiment tag that names the metric its runs are ranked by (default <c>val_f1_macro</c>).</summary>
    public const string ObjectiveTag = "tracker.objective";

    /// <summary>The experiment tag that says whether the objective is maximized or minimized (default maximize).</summary>
    public const string DirectionTag = "tracker.direction";

    /// <summary>MLflow's limits.</summary>
    public const int MaxMetricsPerBatch = 1000, MaxParamsTagsPerBatch = 100, MaxEntitiesPerBatch = 1000,
        MaxKeyLength = 250, MaxParamValueLength = 6000, MaxTagValueLength = 5000, MaxExperimentNameLength = 500,
        DefaultSearchResults = 1000, MaxSearchResults = 50_000, MaxHistoryResults = 25_000;

    /// <summary>The most steps of a trial's objective curve (<see cref="Trial.Intermediate"/>) kept; every point stays in the metric store.</summary>
    public const int MaxIntermediateSteps = 10_000;

    private static readonly Regex ValidName = new(@"^[/\w.\- ]*$", RegexOptions.CultureInvariant);
    private static readonly long MaxMillis = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    // Experiment names are unique among logged experiments: creating one looks the name up and then adds it, which this
    // process does one at a time.
    private readonly SemaphoreSlim experimentGate = new(1, 1);
    private volatile bool defaultReady;

    // ---- Experiments ----

    /// <summary>Creates an experiment; names are unique among logged experiments, deleted ones included.</summary>
    public async Task<TrackingResult<Experiment>> CreateExperimentAsync(string name, string? artifactLocation = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (CheckExperimentName(name) is { } badName) return badName;
        if (artifactLocation is not null && artifactLocation.StartsWith("runs:", StringComparison.Ordinal))
            return Invalid($"Artifact location cannot be a runs:/ URI. Given: '{artifactLocation}'");
        var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags ?? [])
        {
            if (CheckTag(key, value) is { } badTag) return badTag;
            tagMap[key] = value;
        }
        var objective = ObjectiveFrom(tagMap);
        if (!objective.Succeeded) return objective.Error!;
        await experimentGate.WaitAsync(cancellationToken);
        try
        {
            if (await FindByNameAsync(name, cancellationToken) is not null)
                return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{name}' already exists.");
            return await AddExperimentAsync(name, objective.Value!, tagMap, artifactLocation, cancellationToken);
        }
        finally
        {
            experimentGate.Release();
        }
    }

    /// <summary>A logged experiment by id, deleted or not.</summary>
    public async Task<TrackingResult<Experiment>> GetExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        return await FindExperimentAsync(experimentId, cancellationToken) is { } e ? e : NoExperiment(experimentId);
    }

    /// <summary>A logged experiment by name; an active one wins over a deleted one.</summary>
    public async Task<TrackingResult<Experiment>> GetExperimentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        return await FindByNameAsync(name, cancellationToken) is { } e ? e
            : new TrackingError(TrackingErrorKind.NotFound, $"Could not find experiment with name '{name}'");
    }

    /// <summary>Logged experiments that match a search, one page.</summary>
    public async Task<TrackingResult<Page<Experiment>>> SearchExperimentsAsync(ExperimentSearch search, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (CheckMaxResults(search.MaxResults, MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Experiments, out var filter, out var why)) return Invalid(why!);
        var parsedOrders = ParseOrder(search.OrderBy, SearchFields.Experiments);
        if (!parsedOrders.Succeeded) return parsedOrders.Error!;
        var orders = parsedOrders.Value!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        // Experiments are few (tens to thousands) against runs (millions): they are filtered here, runs in the store.
        var matches = (await LoggedExperimentsAsync(cancellationToken))
            .Where(e => InView(e.LifecycleStage, search.ViewType) && filter.Matches((entity, key) => ExperimentField(e, entity, key)))
            .ToList();
        matches.Sort((a, b) =>
        {
            foreach (var order in orders)
            {
                int c = order.Compare(ExperimentField(a, order.Entity, order.Key), ExperimentField(b, order.Entity, order.Key));
                if (c != 0) return c;
            }
            int byTime = b.CreatedAt.CompareTo(a.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return PageToken.Slice(matches, offset, search.MaxResults);
    }

    /// <summary>Renames an active experiment.</summary>
    public async Task<TrackingResult<Experiment>> RenameExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (CheckExperimentName(newName) is { } badName) return badName;
        await experimentGate.WaitAsync(cancellationToken);
        try
        {
            if (await FindExperimentAsync(experimentId, cancellationToken) is not { } experiment) return NoExperiment(experimentId);
            if (experiment.LifecycleStage != LifecycleStage.Active) return Invalid("Cannot rename a non-active experiment.");
            if (await FindByNameAsync(newName, cancellationToken) is { } other && other.Id != experiment.Id)
                return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{newName}' already exists.");
            return await ChangeExperimentAsync(experiment.Id, e => e with { Spec = e.Spec with { Name = newName } }, cancellationToken);
        }
        finally
        {
            experimentGate.Release();
        }
    }

    /// <summary>Marks an experiment and all its runs deleted (the default experiment cannot be).</summary>
    public Task<TrackingResult<Experiment>> DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken = default) =>
        SetExperimentStageAsync(experimentId, LifecycleStage.Deleted, cancellationToken);

    /// <summary>Restores a deleted experiment and all its runs.</summary>
    public Task<TrackingResult<Experiment>> RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken = default) =>
        SetExperimentStageAsync(experimentId, LifecycleStage.Active, cancellationToken);

    /// <summary>Sets a tag of an active experiment; <c>tracker.objective</c> and <c>tracker.direction</c> re-rank its runs.</summary>
    public async Task<TrackingResult<Experiment>> SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (CheckTag(key, value) is { } badTag) return badTag;
        return await ChangeTagsAsync(experimentId, tags =>
        {
            tags[key] = value;
            return null;
        }, cancellationToken);
    }

    /// <summary>Removes a tag of an active experiment.</summary>
    public async Task<TrackingResult<Experiment>> DeleteExperimentTagAsync(string experimentId, string key, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        return await ChangeTagsAsync(experimentId, tags => tags.Remove(key) ? null
            : new TrackingError(TrackingErrorKind.NotFound, $"No tag with name: {key} in experiment with id {experimentId}"), cancellationToken);
    }

    // ---- Runs ----

    /// <summary>Starts a run (status RUNNING) in an active experiment.</summary>
    public async Task<TrackingResult<Trial>> CreateRunAsync(RunCreate request, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        string experimentId = string.IsNullOrEmpty(request.ExperimentId) ? DefaultExperimentId : request.ExperimentId;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Tags)
        {
            if (CheckTag(key, value) is { } badTag) return badTag;
            tags[key] = value;
        }
        if (request.RunName is { Length: > 0 } given && tags.TryGetValue(RunNameTag, out var tagged) && tagged != given)
            return Invalid($"Both 'run_name' argument and '{RunNameTag}' tag are specified, but with different values (run_name='{given}', {RunNameTag}='{tagged}').");
        long start = request.StartTime ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (start < 0 || start > MaxMillis) return Invalid($"Invalid value {start} for parameter 'start_time' supplied: it must be a time in milliseconds since the Unix epoch.");
        string id = Guid.NewGuid().ToString("N");
        string name = request.RunName is { Length: > 0 } n ? n : tags.TryGetValue(RunNameTag, out var t) && t.Length > 0 ? t : GeneratedName(id);
        if (CheckTag(RunNameTag, name) is { } badName) return badName;
        tags[RunNameTag] = name;
        string user = request.UserId is { Length: > 0 } u ? u : tags.GetValueOrDefault(UserTag, "");
        var active = await ActiveExperimentAsync(experimentId, cancellationToken);
        if (!active.Succeeded) return active.Error!;
        return await SaveRunAsync(await NewRunAsync(active.Value!, id, DateTimeOffset.FromUnixTimeMilliseconds(start), tags, user, cancellationToken), cancellationToken);
    }

    /// <summary>A logged run by id, deleted or not.</summary>
    public async Task<TrackingResult<Trial>> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        await FindRunAsync(runId, cancellationToken) is { } run ? run : NoRun(runId);

    /// <summary>Changes an active run's status, end time and/or name (a <c>null</c> argument leaves that field).</summary>
    public async Task<TrackingResult<Trial>> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken = default)
    {
        if (endTime is < 0 || endTime > MaxMillis) return Invalid($"Invalid value {endTime} for parameter 'end_time' supplied: it must be a time in milliseconds since the Unix epoch.");
        if (runName is { Length: > 0 } && CheckTag(RunNameTag, runName) is { } badName) return badName;
        return await ChangeActiveRunAsync(runId, run =>
        {
            var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
            if (runName is { Length: > 0 }) tags[RunNameTag] = runName;
            return run with
            {
                State = status is { } s ? StateOf(s) : run.State,
                FinishedAt = endTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : run.FinishedAt,
                RunTags = tags,
            };
        }, cancellationToken);
    }

    /// <summary>Marks a run deleted.</summary>
    public Task<TrackingResult<Trial>> DeleteRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SetRunStageAsync(runId, LifecycleStage.Deleted, cancellationToken);

    /// <summary>Restores a deleted run.</summary>
    public Task<TrackingResult<Trial>> RestoreRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SetRunStageAsync(runId, LifecycleStage.Active, cancellationToken);

    /// <summary>Runs of logged experiments that match a search, one page; the store filters, sorts and pages them.</summary>
    public async Task<TrackingResult<Page<Trial>>> SearchRunsAsync(RunSearch search, CancellationToken cancellationToken = default)
    {
        if (CheckMaxResults(search.MaxResults, MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Runs, out var filter, out var why)) return Invalid(why!);
        var parsedOrders = ParseOrder(search.OrderBy, SearchFields.Runs);
        if (!parsedOrders.Succeeded) return parsedOrders.Error!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        var experimentIds = new List<string>();
        foreach (var id in search.ExperimentIds.Distinct(StringComparer.Ordinal))
            if (await FindExperimentAsync(id, cancellationToken) is not null) experimentIds.Add(id);
        if (experimentIds.Count == 0 || RunSearchQuery.From(filter, parsedOrders.Value!, experimentIds, search.ViewType) is not { } query)
            return new Page<Trial>([], null);

        var orders = parsedOrders.Value!;
        if (orders.Any(o => o.Entity == SearchEntity.Attribute && o.Key == "status"))
            return await SearchRunsByStatusAsync(query, orders, offset, search.MaxResults, cancellationToken);

        // The store pages by a fixed size; MLflow's offset and page size are laid over its pages.
        int size = TrialQuery.MaxPageSize, page = offset / size, skip = offset % size;
        var runs = new List<Trial>(Math.Min(search.MaxResults, 1000));
        int total = 0;
        while (runs.Count < search.MaxResults)
        {
            var result = await trials.QueryTrialsAsync(query with { Page = page, PageSize = size }, cancellationToken);
            total = result.Total;
            runs.AddRange(result.Items.Skip(skip).Take(search.MaxResults - runs.Count).Select(r => r.Trial));
            if ((long)(page + 1) * size >= total) break;
            page++;
            skip = 0;
        }
        int next = offset + runs.Count;
        return new Page<Trial>(runs, next < total ? PageToken.Encode(next) : null);
    }

    // The store orders a trial's state by its name (completed, failed, ...), which does not sort as MLflow's statuses
    // (FINISHED, FAILED, ...) do, and splits the states that share a status: an order by status is applied here, over
    // every match, with the store's ties (start time newest first, then id).
    private async Task<TrackingResult<Page<Trial>>> SearchRunsByStatusAsync(TrialQuery query, IReadOnlyList<SearchOrder> orders, int offset, int maxResults,
        CancellationToken cancellationToken)
    {
        var all = new List<Trial>();
        for (int page = 0; ; page++)
        {
            var result = await trials.QueryTrialsAsync(query with { OrderBy = [], Page = page, PageSize = TrialQuery.MaxPageSize }, cancellationToken);
            all.AddRange(result.Items.Select(r => r.Trial));
            if (result.Items.Count == 0 || (long)(page + 1) * TrialQuery.MaxPageSize >= result.Total) break;
        }
        all.Sort((a, b) =>
        {
            foreach (var order in orders)
            {
                int c = order.Compare(RunField(a, order.Entity, order.Key), RunField(b, order.Entity, order.Key));
                if (c != 0) return c;
            }
            int byTime = StartTime(b).CompareTo(StartTime(a));
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        var runs = all.Skip(offset).Take(maxResults).ToList();
        int next = offset + runs.Count;
        return new Page<Trial>(runs, next < all.Count ? PageToken.Encode(next) : null);
    }

    /// <summary>Logs one metric value.</summary>
    public Task<TrackingResult<Trial>> LogMetricAsync(string runId, LoggedMetric metric, CancellationToken cancellationToken = default) =>
        LogBatchAsync(runId, [metric], [], [], cancellationToken);

    /// <summary>Logs one param; logging it again with another value is refused (params never change).</summary>
    public Task<TrackingResult<Trial>> LogParamAsync(string runId, string key, string value, CancellationToken cancellationToken = default) =>
        LogBatchAsync(runId, [], [new(key, value)], [], cancellationToken);

    /// <summary>Sets one run tag (a later value replaces an earlier one).</summary>
    public Task<TrackingResult<Trial>> SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default) =>
        LogBatchAsync(runId, [], [], [new(key, value)], cancellationToken);

    /// <summary>
    /// Logs metrics, params and tags of an active run, all or nothing, in one store transaction. MLflow's limits hold:
    /// at most 1000 metrics, 100 params, 100 tags and 1000 entries in all; keys of at most 250 characters from
    /// letters, digits, _ - . / and space; param values of at most 6000 characters, tag values 5000; no param key twice;
    /// no param whose logged value differs.
    /// </summary>
    public async Task<TrackingResult<Trial>> LogBatchAsync(string runId, IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken = default)
    {
        var tooMany = BatchLimit("metrics", MaxMetricsPerBatch, metrics.Count) ?? BatchLimit("params", MaxParamsTagsPerBatch, parameters.Count)
            ?? BatchLimit("tags", MaxParamsTagsPerBatch, tags.Count)
            ?? BatchLimit("metrics, params, and tags", MaxEntitiesPerBatch, metrics.Count + parameters.Count + tags.Count);
        if (tooMany is not null) return tooMany;
        foreach (var metric in metrics)
            if (CheckMetric(metric) is { } bad) return bad;
        foreach (var (key, value) in parameters)
            if (CheckParam(key, value) is { } bad) return bad;
        var duplicates = parameters.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            return Invalid($"Duplicate parameter keys have been submitted: [{string.Join(", ", duplicates.Select(d => $"'{d}'"))}]. Please ensure the request contains only one param value per param key.");
        foreach (var (key, value) in tags)
            if (CheckTag(key, value) is { } bad) return bad;

        return await WriteAsync(runId, metrics, parameters.Select(p => new ParamWrite(p.Key, p.Value, Typed(p.Value))).ToList(), tags, refuseFinished: false, cancellationToken);
    }

    /// <summary>
    /// The write of every logging call, after its checks: refuses a run that is not active (or, when
    /// <paramref name="refuseFinished"/> and there are parameters, one that has finished) and params whose value
    /// changes, then saves the run and its points in one store transaction, as a compare-and-swap on the run, and
    /// publishes them.
    /// </summary>
    private async Task<TrackingResult<Trial>> WriteAsync(string runId, IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<ParamWrite> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, bool refuseFinished, CancellationToken cancellationToken)
    {
        if (await FindRunAsync(runId, cancellationToken) is not { } found) return NoRun(runId);
        var experiment = await experiments.GetExperimentAsync(found.ExperimentId, cancellationToken);
        string objectiveMetric = experiment?.Spec.Objective.Metric ?? new ObjectiveSpec().Metric;
        TrackingError? refused = null;
        List<MetricPoint> points = [];
        var updated = await trials.UpdateTrialAsync(runId, run =>
        {
            refused = Refusal(run, runId, parameters, refuseFinished);
            if (refused is not null) return null;
            points = new List<MetricPoint>(metrics.Count);
            var next = Apply(run, objectiveMetric, metrics, parameters, tags, points);
            return new TrialWrite(next, points);
        }, cancellationToken);
        if (refused is not null) return refused;
        if (updated is null) return NoRun(runId);
        foreach (var step in points.GroupBy(p => p.Step))
            feed.Publish(new MetricsRecorded(updated.ExperimentId, updated.Id, step.Key,
                step.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal)));
        feed.Publish(new TrialChanged(updated));
        return updated;
    }

    private static TrackingError? Refusal(Trial run, string runId, IReadOnlyList<ParamWrite> parameters, bool refuseFinished)
    {
        if (run.Logged is null) return NoRun(runId);
        if (run.LifecycleStage != LifecycleStage.Active) return Invalid($"The run {runId} must be in the 'active' state. Current state is deleted.");
        if (refuseFinished && parameters.Count > 0 && run.IsFinished)
            return new TrackingError(TrackingErrorKind.Conflict,
                $"Run '{runId}' is {run.State.ToString().ToLowerInvariant()}; the parameters of a finished run cannot change.", "parameters");
        var changed = parameters.Where(p => run.Logged.Params.TryGetValue(p.Key, out var old) && old != p.Text).ToList();
        if (changed.Count > 0)
            return new TrackingError(TrackingErrorKind.Conflict, "Changing param values is not allowed. Params were already logged='["
                + string.Join(", ", changed.Select(p => $"{{'key': '{p.Key}', 'old_value': '{run.Logged.Params[p.Key]}', 'new_value': '{p.Text}'}}"))
                + $"]' for run ID='{runId}'.", $"parameters.{changed[0].Key}");
        return null;
    }

    /// <summary>Removes a tag of an active run.</summary>
    public async Task<TrackingResult<Trial>> DeleteTagAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        TrackingError? missing = null;
        var result = await ChangeActiveRunAsync(runId, run =>
        {
            missing = run.RunTags.ContainsKey(key) ? null : new TrackingError(TrackingErrorKind.NotFound, $"No tag with name: {key} in run with id {runId}");
            if (missing is not null) return null;
            var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
            tags.Remove(key);
            return run with { RunTags = tags };
        }, cancellationToken);
        return missing ?? result;
    }

    /// <summary>
    /// Every value of one metric of a run (deleted or not) by step, then time; pages of at most
    /// <see cref="MaxHistoryResults"/> (also the default size). An unknown key gives no values.
    /// </summary>
    public async Task<TrackingResult<Page<MetricPoint>>> GetMetricHistoryAsync(string runId, string key, int? maxResults = null, string? pageToken = null,
        CancellationToken cancellationToken = default)
    {
        if (await FindRunAsync(runId, cancellationToken) is not { } run) return NoRun(runId);
        return await HistoryAsync(run, key, maxResults, pageToken, cancellationToken);
    }

    // A page is read by step range from the store, and its token is the step (and position within it) to go on from.
    private async Task<TrackingResult<Page<MetricPoint>>> HistoryAsync(Trial run, string key, int? maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        int size = maxResults ?? MaxHistoryResults;
        if (CheckMaxResults(size, MaxHistoryResults) is { } badSize) return badSize with { Field = "maxResults" };
        if (!MetricCursor.TryParse(pageToken, out var cursor))
            return Invalid($"Invalid page token '{pageToken}': it must be a token this server gave.") with { Field = "pageToken" };
        var page = await metricStore.ReadMetricsAsync(run.Id, key, cursor, size, cancellationToken);
        return new Page<MetricPoint>(page.Points, page.Next?.ToToken());
    }

    /// <summary>
    /// The files and folders directly under <paramref name="path"/> of a run's artifacts, when they are on this
    /// machine (a file URI); other locations list as empty.
    /// </summary>
    public async Task<TrackingResult<ArtifactListing>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken = default)
    {
        if (await FindRunAsync(runId, cancellationToken) is not { } run) return NoRun(runId);
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

    // ---- Views shared by the API ----

    /// <summary>A run's name (its <c>mlflow.runName</c> tag).</summary>
    public static string RunNameOf(Trial run) => run.RunTags.GetValueOrDefault(RunNameTag, "");

    /// <summary>The status of a trial in MLflow's terms (a pruned trial is KILLED).</summary>
    public static RunStatus StatusOf(TrialState state) => state switch
    {
        TrialState.Queued => RunStatus.Scheduled,
        TrialState.Running => RunStatus.Running,
        TrialState.Completed => RunStatus.Finished,
        TrialState.Failed => RunStatus.Failed,
        _ => RunStatus.Killed,
    };

    /// <summary>The trial state of a status.</summary>
    public static TrialState StateOf(RunStatus status) => status switch
    {
        RunStatus.Scheduled => TrialState.Queued,
        RunStatus.Running => TrialState.Running,
        RunStatus.Finished => TrialState.Completed,
        RunStatus.Failed => TrialState.Failed,
        _ => TrialState.Interrupted,
    };

    /// <summary>Where an experiment's runs keep artifacts: its own location, else the store's artifact folder (a file URI).</summary>
    public string ArtifactLocationOf(Experiment experiment)
    {
        if (experiment.ArtifactLocation is { } location) return location;
        // The store keeps every trial's files in one folder: the folder above a trial's is the experiment's location.
        string uri = artifacts.ArtifactUri(experiment.Id);
        return uri[..uri.LastIndexOf('/')];
    }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public static long Millis(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    // ---- Writing ----

    private static Trial Apply(Trial run, string objectiveMetric, IReadOnlyList<LoggedMetric> metrics,
        IReadOnlyList<ParamWrite> parameters, IReadOnlyList<KeyValuePair<string, string>> tags, List<MetricPoint> points)
    {
        var logged = run.Logged!;
        var texts = new Dictionary<string, string>(logged.Params, StringComparer.Ordinal);
        var values = new Dictionary<string, ParameterValue>(run.Parameters, StringComparer.Ordinal);
        foreach (var (key, text, value) in parameters)
        {
            texts[key] = text;
            values[key] = value;
        }
        var runTags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
        foreach (var (key, value) in tags) runTags[key] = value;

        var final = new Dictionary<string, double>(run.FinalMetrics, StringComparer.Ordinal);
        var latest = new Dictionary<string, MetricStamp>(logged.Latest, StringComparer.Ordinal);
        var curve = run.Intermediate.ToDictionary(v => v.Step, v => v.Value);
        int steps = run.EpochsDone;
        foreach (var metric in metrics)
        {
            int step = (int)metric.Step;
            var stamp = new MetricStamp(step, DateTimeOffset.FromUnixTimeMilliseconds(metric.Timestamp));
            points.Add(new MetricPoint(run.Id, metric.Key, step, metric.Value, stamp.Timestamp));
            if (!latest.TryGetValue(metric.Key, out var held) || IsNewer(stamp, metric.Value, held, final.GetValueOrDefault(metric.Key, double.NaN)))
            {
                latest[metric.Key] = stamp;
                final[metric.Key] = metric.Value;
            }
            steps = Math.Max(steps, step);
            if (metric.Key == objectiveMetric && (curve.Count < MaxIntermediateSteps || curve.ContainsKey(step))) curve[step] = metric.Value;
        }
        return run with
        {
            Parameters = values,
            ResolvedParameters = new Dictionary<string, ParameterValue>(values, StringComparer.Ordinal),
            RunTags = runTags,
            FinalMetrics = final,
            Objective = final.TryGetValue(objectiveMetric, out var objective) ? objective : null,
            Intermediate = curve.OrderBy(c => c.Key).Select(c => new IntermediateValue(c.Key, c.Value)).ToList(),
            EpochsDone = steps,
            Epochs = steps,
            Logged = logged with { Params = texts, Latest = latest },
        };
    }

    // A param to write: its text as logged (kept verbatim; compared when it is logged again) and its typed value.
    private readonly record struct ParamWrite(string Key, string Text, ParameterValue Value);

    // MLflow's rule for the latest value of a metric: the greatest step, then the latest time, then the greatest value.
    private static bool IsNewer(MetricStamp stamp, double value, MetricStamp held, double heldValue) =>
        stamp.Step != held.Step ? stamp.Step > held.Step
        : stamp.Timestamp != held.Timestamp ? stamp.Timestamp > held.Timestamp
        : value > heldValue;

    /// <summary>A param's value for <see cref="Trial.Parameters"/>: a number when the text is a plain finite number, else the text.</summary>
    public static ParameterValue Typed(string text) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number)
        && double.IsFinite(number) ? number : text;

    private async Task<TrackingResult<Experiment>> SetExperimentStageAsync(string experimentId, LifecycleStage stage, CancellationToken cancellationToken)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (await FindExperimentAsync(experimentId, cancellationToken) is not { } experiment) return NoExperiment(experimentId);
        if (stage == LifecycleStage.Deleted && experiment.Id == DefaultExperimentId)
            return Invalid($"Cannot delete the default experiment '{DefaultExperimentId}'. This is an internally reserved experiment.");
        if (stage == LifecycleStage.Active && experiment.LifecycleStage == LifecycleStage.Active)
            return Invalid("Cannot restore an active experiment.");
        // As MLflow does, the experiment's runs follow it (all of them, also on restore).
        foreach (var run in await trials.ListTrialsAsync(experiment.Id, cancellationToken))
        {
            if (run.Logged is null || run.LifecycleStage == stage) continue;
            var moved = await trials.UpdateTrialAsync(run.Id, t => t.LifecycleStage == stage ? null : new TrialWrite(t with { LifecycleStage = stage }), cancellationToken);
            if (moved is not null) feed.Publish(new TrialChanged(moved));
        }
        return await ChangeExperimentAsync(experiment.Id, e => e with { LifecycleStage = stage }, cancellationToken);
    }

    private async Task<TrackingResult<Trial>> SetRunStageAsync(string runId, LifecycleStage stage, CancellationToken cancellationToken)
    {
        if (await FindRunAsync(runId, cancellationToken) is null) return NoRun(runId);
        var run = await trials.UpdateTrialAsync(runId, t => t.LifecycleStage == stage ? null : new TrialWrite(t with { LifecycleStage = stage }), cancellationToken);
        if (run is null) return NoRun(runId);
        feed.Publish(new TrialChanged(run));
        return run;
    }

    // Changes the tags of an active experiment; objective tags change how the runs rank, so the runs' objectives and
    // curves follow. The change returns an error to refuse.
    private async Task<TrackingResult<Experiment>> ChangeTagsAsync(string experimentId, Func<Dictionary<string, string>, TrackingError?> change,
        CancellationToken cancellationToken)
    {
        var active = await ActiveExperimentAsync(experimentId, cancellationToken);
        if (!active.Succeeded) return active.Error!;
        TrackingError? refused = null;
        ObjectiveSpec? before = null;
        var saved = await ChangeExperimentAsync(experimentId, e =>
        {
            var tags = new Dictionary<string, string>(e.ExperimentTags, StringComparer.Ordinal);
            refused = change(tags);
            var objective = refused is null ? ObjectiveFrom(tags) : null;
            refused ??= objective!.Error;
            if (refused is not null) return null;
            before = e.Spec.Objective;
            return e with { ExperimentTags = tags, Spec = e.Spec with { Objective = objective!.Value! } };
        }, cancellationToken);
        if (refused is not null) return refused;
        if (saved.Succeeded && before is not null && saved.Value!.Spec.Objective != before) await RescoreAsync(saved.Value!, cancellationToken);
        return saved;
    }

    private async Task RescoreAsync(Experiment experiment, CancellationToken cancellationToken)
    {
        string metric = experiment.Spec.Objective.Metric;
        foreach (var run in (await trials.ListTrialsAsync(experiment.Id, cancellationToken)).Where(t => t.Logged is not null))
        {
            var curve = new List<IntermediateValue>();
            var cursor = MetricCursor.Start;
            while (curve.Count < MaxIntermediateSteps)
            {
                var page = await metricStore.ReadMetricsAsync(run.Id, metric, cursor, MaxHistoryResults, cancellationToken);
                // The latest point of a step (by time) is its value on the curve.
                foreach (var step in page.Points.GroupBy(p => p.Step))
                {
                    var value = step.MaxBy(p => p.Timestamp)!.Value;
                    if (curve.Count > 0 && curve[^1].Step == step.Key) curve[^1] = new IntermediateValue(step.Key, value);
                    else if (curve.Count < MaxIntermediateSteps) curve.Add(new IntermediateValue(step.Key, value));
                }
                if (page.Next is not { } next) break;
                cursor = next;
            }
            var rescored = await trials.UpdateTrialAsync(run.Id, t => new TrialWrite(t with
            {
                Objective = t.FinalMetrics.TryGetValue(metric, out var value) ? value : null,
                Intermediate = curve,
            }), cancellationToken);
            if (rescored is not null) feed.Publish(new TrialChanged(rescored));
        }
    }

    // Callers hold the experiment gate and have checked that the name is free.
    private async Task<Experiment> AddExperimentAsync(string name, ObjectiveSpec objective, Dictionary<string, string> tags, string? artifactLocation,
        CancellationToken cancellationToken)
    {
        var experiment = new Experiment
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Spec = LoggedSpec(name, objective),
            State = ExperimentState.Running,
            CreatedAt = DateTimeOffset.UtcNow,
            ExperimentTags = tags,
            ArtifactLocation = string.IsNullOrEmpty(artifactLocation) ? null : artifactLocation,
        };
        await experiments.SaveExperimentAsync(experiment, cancellationToken);
        feed.Publish(new ExperimentChanged(experiment));
        return experiment;
    }

    private async Task<TrackingResult<Experiment>> ChangeExperimentAsync(string experimentId, Func<Experiment, Experiment?> change, CancellationToken cancellationToken)
    {
        bool changed = false;
        var now = DateTimeOffset.UtcNow;
        var experiment = await experiments.UpdateExperimentAsync(experimentId, e =>
        {
            var next = change(e);
            changed = next is not null;
            return next is null ? null : next with { UpdatedAt = now };
        }, cancellationToken);
        if (experiment is null) return NoExperiment(experimentId);
        if (changed) feed.Publish(new ExperimentChanged(experiment));
        return experiment;
    }

    // Changes an active logged run as a compare-and-swap in the store; the change returns null to write nothing.
    private async Task<TrackingResult<Trial>> ChangeActiveRunAsync(string runId, Func<Trial, Trial?> change, CancellationToken cancellationToken)
    {
        TrackingError? refused = null;
        bool changed = false;
        var run = await trials.UpdateTrialAsync(runId, t =>
        {
            refused = t.Logged is null ? NoRun(runId)
                : t.LifecycleStage != LifecycleStage.Active ? Invalid($"The run {runId} must be in the 'active' state. Current state is deleted.")
                : null;
            var next = refused is null ? change(t) : null;
            changed = next is not null;
            return next is null ? null : new TrialWrite(next);
        }, cancellationToken);
        if (refused is not null) return refused;
        if (run is null) return NoRun(runId);
        if (changed) feed.Publish(new TrialChanged(run));
        return run;
    }

    private async Task<Trial> SaveRunAsync(Trial run, CancellationToken cancellationToken)
    {
        await trials.SaveTrialAsync(run, cancellationToken: cancellationToken);
        feed.Publish(new TrialChanged(run));
        return run;
    }

    // A running trial of a logged experiment, numbered by the store's counter.
    private async Task<Trial> NewRunAsync(Experiment experiment, string id, DateTimeOffset at, Dictionary<string, string> tags, string user,
        CancellationToken cancellationToken) => new()
    {
        Id = id,
        ExperimentId = experiment.Id,
        Number = await trials.NextTrialNumberAsync(experiment.Id, cancellationToken),
        Parameters = [],
        Epochs = 0,
        State = TrialState.Running,
        CreatedAt = at,
        StartedAt = at,
        RunTags = tags,
        Logged = new LoggedRunInfo { UserId = user, ArtifactUri = ArtifactUri(experiment, id) },
    };

    private async Task EnsureDefaultExperimentAsync(CancellationToken cancellationToken)
    {
        if (defaultReady) return;
        await experimentGate.WaitAsync(cancellationToken);
        try
        {
            if (await experiments.GetExperimentAsync(DefaultExperimentId, cancellationToken) is null)
            {
                var experiment = new Experiment
                {
                    Id = DefaultExperimentId,
                    Spec = LoggedSpec(DefaultExperimentName, new ObjectiveSpec()),
                    CreatedAt = DateTimeOffset.UtcNow,
                };
                await experiments.SaveExperimentAsync(experiment, cancellationToken);
                feed.Publish(new ExperimentChanged(experiment));
            }
            defaultReady = true;
        }
        finally
        {
            experimentGate.Release();
        }
    }

    // ---- Reading ----

    private async Task<Experiment?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        await experiments.GetExperimentAsync(experimentId, cancellationToken) is { Spec.Execution: TrialExecution.Logged } e ? e : null;

    private async Task<IEnumerable<Experiment>> LoggedExperimentsAsync(CancellationToken cancellationToken) =>
        (await experiments.ListExperimentsAsync(cancellationToken)).Where(e => e.Spec.Execution == TrialExecution.Logged);

    private async Task<Experiment?> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        var named = (await LoggedExperimentsAsync(cancellationToken)).Where(e => e.Spec.Name == name).ToList();
        return named.FirstOrDefault(e => e.LifecycleStage == LifecycleStage.Active) ?? named.FirstOrDefault();
    }

    private async Task<Trial?> FindRunAsync(string runId, CancellationToken cancellationToken) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { Logged: not null } run ? run : null;

    private async Task<TrackingResult<Experiment>> ActiveExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        await FindExperimentAsync(experimentId, cancellationToken) is not { } experiment ? NoExperiment(experimentId)
        : experiment.LifecycleStage != LifecycleStage.Active
            ? Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.")
            : experiment;

    private static bool InView(LifecycleStage stage, ViewType view) => view switch
    {
        ViewType.ActiveOnly => stage == LifecycleStage.Active,
        ViewType.DeletedOnly => stage == LifecycleStage.Deleted,
        _ => true,
    };

    private static object? ExperimentField(Experiment e, SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Tag => e.ExperimentTags.TryGetValue(key, out var tag) ? tag : null,
        SearchEntity.Attribute => key switch
        {
            "name" => e.Spec.Name,
            "experiment_id" => e.Id,
            "creation_time" => Millis(e.CreatedAt),
            "last_update_time" => Millis(e.UpdatedAt ?? e.CreatedAt),
            _ => null,
        },
        _ => null,
    };

    private static object? RunField(Trial t, SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Metric => t.FinalMetrics.TryGetValue(key, out var value) ? value : null,
        SearchEntity.Param => t.Logged!.Params.TryGetValue(key, out var param) ? param : null,
        SearchEntity.Tag => t.RunTags.TryGetValue(key, out var tag) ? tag : null,
        _ => key switch
        {
            "status" => StatusOf(t.State).ToString().ToUpperInvariant(),
            "run_name" => RunNameOf(t),
            "run_id" => t.Id,
            "user_id" => t.Logged!.UserId,
            "artifact_uri" => t.Logged!.ArtifactUri,
            "experiment_id" => t.ExperimentId,
            "lifecycle_stage" => t.LifecycleStage.ToString().ToLowerInvariant(),
            "start_time" => StartTime(t),
            "end_time" => t.FinishedAt is { } end ? Millis(end) : null,
            _ => null,
        },
    };

    private static long StartTime(Trial t) => Millis(t.StartedAt ?? t.CreatedAt);

    private string ArtifactUri(Experiment experiment, string runId) =>
        experiment.ArtifactLocation is { Length: > 0 } location
            ? $"{location.TrimEnd('/')}/{runId}/artifacts"
            : artifacts.ArtifactUri(runId);

    private static ExperimentSpec LoggedSpec(string name, ObjectiveSpec objective) => new()
    {
        Name = name,
        Execution = TrialExecution.Logged,
        Strategy = "",
        Dataset = new DatasetSpec { Name = "" },
        Objective = objective,
        MaxTrials = 0,
        Epochs = 0,
    };

    // A readable default name (MLflow makes one up too), derived from the id so that it needs no random source.
    private static string GeneratedName(string id)
    {
        string[] adjectives = ["amber", "brave", "calm", "deft", "eager", "fair", "gentle", "keen", "lucid", "merry", "nimble", "quiet", "rapid", "sunny", "tidy", "vivid"];
        string[] animals = ["owl", "fox", "lynx", "otter", "heron", "wren", "bison", "koala", "panda", "seal", "hare", "crane", "finch", "moth", "yak", "newt"];
        int a = Convert.ToInt32(id[..1], 16), b = Convert.ToInt32(id[1..2], 16), n = Convert.ToInt32(id[2..5], 16) % 1000;
        return $"{adjectives[a]}-{animals[b]}-{n}";
    }

    // ---- Validation (MLflow's rules and messages) ----

    private static TrackingResult<ObjectiveSpec> ObjectiveFrom(IReadOnlyDictionary<string, string> tags)
    {
        var objective = new ObjectiveSpec();
        if (tags.TryGetValue(ObjectiveTag, out var metric))
        {
            if (string.IsNullOrWhiteSpace(metric)) return Invalid($"The tag {ObjectiveTag} must name a metric.");
            objective = objective with { Metric = metric };
        }
        if (tags.TryGetValue(DirectionTag, out var direction))
        {
            if (!Enum.TryParse<ObjectiveDirection>(direction, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(direction, out _))
                return Invalid($"The tag {DirectionTag} must be 'maximize' or 'minimize' (got '{direction}').");
            objective = objective with { Direction = parsed };
        }
        return objective;
    }

    private static TrackingResult<List<SearchOrder>> ParseOrder(IReadOnlyList<string> clauses, SearchFields fields)
    {
        var orders = new List<SearchOrder>();
        foreach (var clause in clauses)
        {
            if (!SearchOrder.TryParse(clause, fields, out var order, out var why)) return Invalid(why!);
            orders.Add(order);
        }
        return orders;
    }

    private static TrackingError? CheckExperimentName(string name) =>
        string.IsNullOrEmpty(name) ? Invalid($"Invalid experiment name: '{name}'")
        : name.Length > MaxExperimentNameLength ? Invalid($"Experiment name exceeds the maximum length of {MaxExperimentNameLength} characters")
        : null;

    private static TrackingError? CheckMaxResults(int value, int limit) =>
        value < 1 ? Invalid($"Invalid value {value} for parameter 'max_results' supplied. It must be a positive integer.")
        : value > limit ? Invalid($"Invalid value {value} for parameter 'max_results' supplied. It must be at most {limit}, but got value {value}.")
        : null;

    private static TrackingError? BatchLimit(string entities, int limit, int count) =>
        count <= limit ? null
        : Invalid($"A batch logging request can contain at most {limit} {entities}. Got {count} {entities}. Please split up {entities} across multiple requests and try again.");

    private static TrackingError? CheckMetric(LoggedMetric metric)
    {
        if (CheckKey("metric", "Metric name", metric.Key) is { } bad) return bad;
        string value = metric.Value.ToString("R", CultureInfo.InvariantCulture);
        if (metric.Timestamp < 0 || metric.Timestamp > MaxMillis)
            return Invalid($"Got invalid timestamp {metric.Timestamp} for metric '{metric.Key}' (value={value}). Timestamp must be a nonnegative long (64-bit integer) of milliseconds since the Unix epoch.");
        if (metric.Step is < int.MinValue or > int.MaxValue)
            return Invalid($"Got invalid step {metric.Step} for metric '{metric.Key}' (value={value}). Steps must lie between {int.MinValue} and {int.MaxValue} on this server.");
        return null;
    }

    private static TrackingError? CheckParam(string key, string value) =>
        CheckKey("parameter", "Param key", key) ?? CheckLength("Param value", MaxParamValueLength, value);

    private static TrackingError? CheckTag(string key, string value) =>
        CheckKey("tag", "Tag key", key) ?? CheckLength("Tag value", MaxTagValueLength, value);

    private static TrackingError? CheckKey(string kind, string lengthName, string? key)
    {
        if (key is null) return Invalid($"{char.ToUpperInvariant(kind[0])}{kind[1..]} name cannot be None. A key name must be provided.");
        if (!ValidName.IsMatch(key))
            return Invalid($"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).");
        string normal = NormalPath(key);
        if (normal != key || normal == "." || normal.StartsWith("..", StringComparison.Ordinal) || normal.StartsWith('/'))
            return Invalid($"Invalid {kind} name: '{key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{normal}'");
        return CheckLength(lengthName, MaxKeyLength, key);
    }

    private static TrackingError? CheckLength(string what, int limit, string? value) =>
        value is null || value.Length <= limit ? null
        : Invalid($"{what} '{value[..Math.Min(value.Length, 250)]}' had length {value.Length}, which exceeded length limit of {limit}");

    // Python's posixpath.normpath: MLflow refuses keys that would name another file than themselves.
    private static string NormalPath(string path)
    {
        if (path.Length == 0) return ".";
        bool absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == ".." && (!absolute && parts.Count == 0 || parts.Count > 0 && parts[^1] == "..")) parts.Add(part);
            else if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); }
            else parts.Add(part);
        }
        string joined = (absolute ? "/" : "") + string.Join('/', parts);
        return joined.Length == 0 ? "." : joined;
    }

    private static TrackingError Invalid(string message) => new(TrackingErrorKind.InvalidParameter, message);

    private static TrackingError NoExperiment(string experimentId) => new(TrackingErrorKind.NotFound, $"No Experiment with id={experimentId} exists");

    private static TrackingError NoRun(string runId) => new(TrackingErrorKind.NotFound, $"Run with id={runId} not found");
}
