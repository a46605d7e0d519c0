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
/// </remarks>
public sealed partial class RunLog(IRunStore store, MetricFeed feed)
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

    // Every write reads, changes and saves whole records; one lock keeps concurrent writers from losing each other's changes.
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> nextNumbers = [];
    private volatile bool defaultReady;

    // ---- Experiments ----

    /// <summary>Creates an experiment; names are unique among logged experiments, deleted ones included.</summary>
    public TrackingResult<Experiment> CreateExperiment(string name, string? artifactLocation = null, IReadOnlyList<KeyValuePair<string, string>>? tags = null)
    {
        EnsureDefaultExperiment();
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
        lock (gate)
        {
            if (FindByName(name) is not null) return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{name}' already exists.");
            return AddExperiment(name, objective.Value!, tagMap, artifactLocation);
        }
    }

    /// <summary>A logged experiment by id, deleted or not.</summary>
    public TrackingResult<Experiment> GetExperiment(string experimentId)
    {
        EnsureDefaultExperiment();
        return FindExperiment(experimentId) is { } e ? e : NoExperiment(experimentId);
    }

    /// <summary>A logged experiment by name; an active one wins over a deleted one.</summary>
    public TrackingResult<Experiment> GetExperimentByName(string name)
    {
        EnsureDefaultExperiment();
        return FindByName(name) is { } e ? e
            : new TrackingError(TrackingErrorKind.NotFound, $"Could not find experiment with name '{name}'");
    }

    /// <summary>Logged experiments that match a search, one page.</summary>
    public TrackingResult<Page<Experiment>> SearchExperiments(ExperimentSearch search)
    {
        EnsureDefaultExperiment();
        if (CheckMaxResults(search.MaxResults, MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Experiments, out var filter, out var why)) return Invalid(why!);
        var parsedOrders = ParseOrder(search.OrderBy, SearchFields.Experiments);
        if (!parsedOrders.Succeeded) return parsedOrders.Error!;
        var orders = parsedOrders.Value!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        var matches = LoggedExperiments()
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
    public TrackingResult<Experiment> RenameExperiment(string experimentId, string newName)
    {
        EnsureDefaultExperiment();
        if (CheckExperimentName(newName) is { } badName) return badName;
        lock (gate)
        {
            if (FindExperiment(experimentId) is not { } experiment) return NoExperiment(experimentId);
            if (experiment.LifecycleStage != LifecycleStage.Active) return Invalid("Cannot rename a non-active experiment.");
            if (FindByName(newName) is { } other && other.Id != experiment.Id)
                return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{newName}' already exists.");
            return SaveExperiment(experiment with { Spec = experiment.Spec with { Name = newName } });
        }
    }

    /// <summary>Marks an experiment and all its runs deleted (the default experiment cannot be).</summary>
    public TrackingResult<Experiment> DeleteExperiment(string experimentId) => SetExperimentStage(experimentId, LifecycleStage.Deleted);

    /// <summary>Restores a deleted experiment and all its runs.</summary>
    public TrackingResult<Experiment> RestoreExperiment(string experimentId) => SetExperimentStage(experimentId, LifecycleStage.Active);

    /// <summary>Sets a tag of an active experiment; <c>tracker.objective</c> and <c>tracker.direction</c> re-rank its runs.</summary>
    public TrackingResult<Experiment> SetExperimentTag(string experimentId, string key, string value)
    {
        EnsureDefaultExperiment();
        if (CheckTag(key, value) is { } badTag) return badTag;
        lock (gate)
        {
            var active = ActiveExperiment(experimentId);
            if (!active.Succeeded) return active.Error!;
            var experiment = active.Value!;
            var tags = new Dictionary<string, string>(experiment.ExperimentTags, StringComparer.Ordinal) { [key] = value };
            return SaveWithTags(experiment, tags);
        }
    }

    /// <summary>Removes a tag of an active experiment.</summary>
    public TrackingResult<Experiment> DeleteExperimentTag(string experimentId, string key)
    {
        EnsureDefaultExperiment();
        lock (gate)
        {
            var active = ActiveExperiment(experimentId);
            if (!active.Succeeded) return active.Error!;
            var experiment = active.Value!;
            if (!experiment.ExperimentTags.ContainsKey(key))
                return new TrackingError(TrackingErrorKind.NotFound, $"No tag with name: {key} in experiment with id {experimentId}");
            var tags = new Dictionary<string, string>(experiment.ExperimentTags, StringComparer.Ordinal);
            tags.Remove(key);
            return SaveWithTags(experiment, tags);
        }
    }

    // ---- Runs ----

    /// <summary>Starts a run (status RUNNING) in an active experiment.</summary>
    public TrackingResult<Trial> CreateRun(RunCreate request)
    {
        EnsureDefaultExperiment();
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
        lock (gate)
        {
            var active = ActiveExperiment(experimentId);
            if (!active.Succeeded) return active.Error!;
            return SaveRun(NewRun(active.Value!, id, DateTimeOffset.FromUnixTimeMilliseconds(start), tags, user));
        }
    }

    /// <summary>A logged run by id, deleted or not.</summary>
    public TrackingResult<Trial> GetRun(string runId) => FindRun(runId) is { } run ? run : NoRun(runId);

    /// <summary>Changes an active run's status, end time and/or name (a <c>null</c> argument leaves that field).</summary>
    public TrackingResult<Trial> UpdateRun(string runId, RunStatus? status, long? endTime, string? runName)
    {
        if (endTime is < 0 || endTime > MaxMillis) return Invalid($"Invalid value {endTime} for parameter 'end_time' supplied: it must be a time in milliseconds since the Unix epoch.");
        if (runName is { Length: > 0 } && CheckTag(RunNameTag, runName) is { } badName) return badName;
        lock (gate)
        {
            var active = ActiveRun(runId);
            if (!active.Succeeded) return active.Error!;
            var run = active.Value!;
            var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
            if (runName is { Length: > 0 }) tags[RunNameTag] = runName;
            return SaveRun(run with
            {
                State = status is { } s ? StateOf(s) : run.State,
                FinishedAt = endTime is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : run.FinishedAt,
                RunTags = tags,
            });
        }
    }

    /// <summary>Marks a run deleted.</summary>
    public TrackingResult<Trial> DeleteRun(string runId) => SetRunStage(runId, LifecycleStage.Deleted);

    /// <summary>Restores a deleted run.</summary>
    public TrackingResult<Trial> RestoreRun(string runId) => SetRunStage(runId, LifecycleStage.Active);

    /// <summary>Runs of logged experiments that match a search, one page.</summary>
    public TrackingResult<Page<Trial>> SearchRuns(RunSearch search)
    {
        if (CheckMaxResults(search.MaxResults, MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Runs, out var filter, out var why)) return Invalid(why!);
        var parsedOrders = ParseOrder(search.OrderBy, SearchFields.Runs);
        if (!parsedOrders.Succeeded) return parsedOrders.Error!;
        var orders = parsedOrders.Value!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        var runs = search.ExperimentIds.Distinct(StringComparer.Ordinal)
            .Select(FindExperiment).OfType<Experiment>()
            .SelectMany(e => store.ListTrials(e.Id))
            .Where(t => t.Logged is not null && InView(t.LifecycleStage, search.ViewType) && filter.Matches((entity, key) => RunField(t, entity, key)))
            .ToList();
        runs.Sort((a, b) =>
        {
            foreach (var order in orders)
            {
                int c = order.Compare(RunField(a, order.Entity, order.Key), RunField(b, order.Entity, order.Key));
                if (c != 0) return c;
            }
            int byStart = StartTime(b).CompareTo(StartTime(a));
            return byStart != 0 ? byStart : string.CompareOrdinal(a.Id, b.Id);
        });
        return PageToken.Slice(runs, offset, search.MaxResults);
    }

    /// <summary>Logs one metric value.</summary>
    public TrackingResult<Trial> LogMetric(string runId, LoggedMetric metric) => LogBatch(runId, [metric], [], []);

    /// <summary>Logs one param; logging it again with another value is refused (params never change).</summary>
    public TrackingResult<Trial> LogParam(string runId, string key, string value) => LogBatch(runId, [], [new(key, value)], []);

    /// <summary>Sets one run tag (a later value replaces an earlier one).</summary>
    public TrackingResult<Trial> SetTag(string runId, string key, string value) => LogBatch(runId, [], [], [new(key, value)]);

    /// <summary>
    /// Logs metrics, params and tags of an active run, all or nothing, in one store transaction. MLflow's limits hold:
    /// at most 1000 metrics, 100 params, 100 tags and 1000 entries in all; keys of at most 250 characters from
    /// letters, digits, _ - . / and space; param values of at most 6000 characters, tag values 5000; no param key twice;
    /// no param whose logged value differs.
    /// </summary>
    public TrackingResult<Trial> LogBatch(string runId, IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<KeyValuePair<string, string>> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags)
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

        return Write(runId, metrics, parameters.Select(p => new ParamWrite(p.Key, p.Value, Typed(p.Value))).ToList(), tags, refuseFinished: false);
    }

    /// <summary>
    /// The write of every logging call, after its checks: under the gate, refuses a run that is not active (or, when
    /// <paramref name="refuseFinished"/> and there are parameters, one that has finished) and params whose value
    /// changes, then saves the run and its points in one transaction and publishes them.
    /// </summary>
    private TrackingResult<Trial> Write(string runId, IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<ParamWrite> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, bool refuseFinished)
    {
        lock (gate)
        {
            var active = ActiveRun(runId);
            if (!active.Succeeded) return active.Error!;
            var run = active.Value!;
            if (refuseFinished && parameters.Count > 0 && run.IsFinished)
                return new TrackingError(TrackingErrorKind.Conflict,
                    $"Run '{runId}' is {run.State.ToString().ToLowerInvariant()}; the parameters of a finished run cannot change.", "parameters");
            var changed = parameters.Where(p => run.Logged!.Params.TryGetValue(p.Key, out var old) && old != p.Text).ToList();
            if (changed.Count > 0)
                return new TrackingError(TrackingErrorKind.Conflict, "Changing param values is not allowed. Params were already logged='["
                    + string.Join(", ", changed.Select(p => $"{{'key': '{p.Key}', 'old_value': '{run.Logged!.Params[p.Key]}', 'new_value': '{p.Text}'}}"))
                    + $"]' for run ID='{runId}'.", $"parameters.{changed[0].Key}");
            var experiment = store.GetExperiment(run.ExperimentId)!;
            var points = new List<MetricPoint>(metrics.Count);
            var updated = Apply(run, experiment.Spec.Objective.Metric, metrics, parameters, tags, points);
            store.SaveTrialWithMetrics(updated, points);
            foreach (var step in points.GroupBy(p => p.Step))
                feed.Publish(new MetricsRecorded(updated.ExperimentId, updated.Id, step.Key,
                    step.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal)));
            feed.Publish(new TrialChanged(updated));
            return updated;
        }
    }

    /// <summary>Removes a tag of an active run.</summary>
    public TrackingResult<Trial> DeleteTag(string runId, string key)
    {
        lock (gate)
        {
            var active = ActiveRun(runId);
            if (!active.Succeeded) return active.Error!;
            var run = active.Value!;
            if (!run.RunTags.ContainsKey(key)) return new TrackingError(TrackingErrorKind.NotFound, $"No tag with name: {key} in run with id {runId}");
            var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
            tags.Remove(key);
            return SaveRun(run with { RunTags = tags });
        }
    }

    /// <summary>
    /// Every value of one metric of a run (deleted or not) by step, then time; pages of at most
    /// <see cref="MaxHistoryResults"/> (also the default size). An unknown key gives no values.
    /// </summary>
    public TrackingResult<Page<MetricPoint>> GetMetricHistory(string runId, string key, int? maxResults = null, string? pageToken = null)
    {
        if (FindRun(runId) is not { } run) return NoRun(runId);
        return History(run, key, maxResults, pageToken);
    }

    private TrackingResult<Page<MetricPoint>> History(Trial run, string key, int? maxResults, string? pageToken)
    {
        int size = maxResults ?? MaxHistoryResults;
        if (CheckMaxResults(size, MaxHistoryResults) is { } badSize) return badSize with { Field = "maxResults" };
        if (!PageToken.TryDecode(pageToken, out int offset, out var badToken)) return Invalid(badToken!) with { Field = "pageToken" };
        var points = store.GetMetrics(run.Id, key).OrderBy(p => p.Step).ThenBy(p => p.Timestamp).ToList();
        return PageToken.Slice(points, offset, size);
    }

    /// <summary>
    /// The files and folders directly under <paramref name="path"/> of a run's artifacts, when they are on this
    /// machine (a file URI); other locations list as empty.
    /// </summary>
    public TrackingResult<ArtifactListing> ListArtifacts(string runId, string? path)
    {
        if (FindRun(runId) is not { } run) return NoRun(runId);
        string relative = (path ?? "").Trim('/');
        if (relative.Contains('\\') || relative.Split('/').Any(part => part is ".." or ".") || Path.IsPathRooted(relative))
            return Invalid($"Invalid path '{path}': it must be a relative path inside the run's artifacts, without '..'.");
        string root = run.Logged!.ArtifactUri;
        if (LocalFolder(root) is not { } folder) return new ArtifactListing(root, []);
        string dir = relative.Length == 0 ? folder : Path.Combine(folder, relative);
        if (!Directory.Exists(dir)) return new ArtifactListing(root, []);
        var files = new DirectoryInfo(dir).EnumerateFileSystemInfos()
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new ArtifactFile(relative.Length == 0 ? f.Name : $"{relative}/{f.Name}", f is DirectoryInfo, f is FileInfo file ? file.Length : null))
            .ToList();
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
    public string ArtifactLocationOf(Experiment experiment) =>
        experiment.ArtifactLocation ?? new Uri(Path.GetDirectoryName(store.ArtifactFolder(experiment.Id))!).AbsoluteUri;

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

    private TrackingResult<Experiment> SetExperimentStage(string experimentId, LifecycleStage stage)
    {
        EnsureDefaultExperiment();
        lock (gate)
        {
            if (FindExperiment(experimentId) is not { } experiment) return NoExperiment(experimentId);
            if (stage == LifecycleStage.Deleted && experiment.Id == DefaultExperimentId)
                return Invalid($"Cannot delete the default experiment '{DefaultExperimentId}'. This is an internally reserved experiment.");
            if (stage == LifecycleStage.Active && experiment.LifecycleStage == LifecycleStage.Active)
                return Invalid("Cannot restore an active experiment.");
            // As MLflow does, the experiment's runs follow it (all of them, also on restore).
            var runs = store.ListTrials(experiment.Id).Where(t => t.Logged is not null && t.LifecycleStage != stage)
                .Select(t => t with { LifecycleStage = stage }).ToList();
            store.SaveTrials(runs);
            foreach (var run in runs) feed.Publish(new TrialChanged(run));
            return SaveExperiment(experiment with { LifecycleStage = stage });
        }
    }

    private TrackingResult<Trial> SetRunStage(string runId, LifecycleStage stage)
    {
        lock (gate)
        {
            if (FindRun(runId) is not { } run) return NoRun(runId);
            return run.LifecycleStage == stage ? run : SaveRun(run with { LifecycleStage = stage });
        }
    }

    // Objective tags change how the runs rank, so the runs' objectives and curves follow.
    private TrackingResult<Experiment> SaveWithTags(Experiment experiment, Dictionary<string, string> tags)
    {
        var objective = ObjectiveFrom(tags);
        if (!objective.Succeeded) return objective.Error!;
        var spec = experiment.Spec with { Objective = objective.Value! };
        var saved = SaveExperiment(experiment with { ExperimentTags = tags, Spec = spec });
        if (spec.Objective != experiment.Spec.Objective) Rescore(saved);
        return saved;
    }

    private void Rescore(Experiment experiment)
    {
        string metric = experiment.Spec.Objective.Metric;
        var runs = store.ListTrials(experiment.Id).Where(t => t.Logged is not null).Select(t => t with
        {
            Objective = t.FinalMetrics.TryGetValue(metric, out var value) ? value : null,
            Intermediate = store.GetMetrics(t.Id, metric).GroupBy(p => p.Step).OrderBy(g => g.Key).Take(MaxIntermediateSteps)
                .Select(g => new IntermediateValue(g.Key, g.MaxBy(p => p.Timestamp)!.Value)).ToList(),
        }).ToList();
        store.SaveTrials(runs);
        foreach (var run in runs) feed.Publish(new TrialChanged(run));
    }

    // Callers hold the gate and have checked that the name is free.
    private Experiment AddExperiment(string name, ObjectiveSpec objective, Dictionary<string, string> tags, string? artifactLocation)
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
        store.SaveExperiment(experiment);
        feed.Publish(new ExperimentChanged(experiment));
        return experiment;
    }

    private Experiment SaveExperiment(Experiment experiment)
    {
        experiment = experiment with { UpdatedAt = DateTimeOffset.UtcNow };
        store.SaveExperiment(experiment);
        feed.Publish(new ExperimentChanged(experiment));
        return experiment;
    }

    private Trial SaveRun(Trial run)
    {
        store.SaveTrial(run);
        feed.Publish(new TrialChanged(run));
        return run;
    }

    // A running trial of a logged experiment; callers hold the gate (for the number) and save it.
    private Trial NewRun(Experiment experiment, string id, DateTimeOffset at, Dictionary<string, string> tags, string user) => new()
    {
        Id = id,
        ExperimentId = experiment.Id,
        Number = NextNumber(experiment.Id),
        Parameters = [],
        Epochs = 0,
        State = TrialState.Running,
        CreatedAt = at,
        StartedAt = at,
        RunTags = tags,
        Logged = new LoggedRunInfo { UserId = user, ArtifactUri = ArtifactUri(experiment, id) },
    };

    // Numbers are handed out under the gate: reading the count on every create would race and cost a full read.
    private int NextNumber(string experimentId)
    {
        if (!nextNumbers.TryGetValue(experimentId, out int next))
            next = store.ListTrials(experimentId).Select(t => t.Number + 1).DefaultIfEmpty(0).Max();
        nextNumbers[experimentId] = next + 1;
        return next;
    }

    private void EnsureDefaultExperiment()
    {
        if (defaultReady) return;
        lock (gate)
        {
            if (store.GetExperiment(DefaultExperimentId) is null)
            {
                var experiment = new Experiment
                {
                    Id = DefaultExperimentId,
                    Spec = LoggedSpec(DefaultExperimentName, new ObjectiveSpec()),
                    CreatedAt = DateTimeOffset.UtcNow,
                };
                store.SaveExperiment(experiment);
                feed.Publish(new ExperimentChanged(experiment));
            }
            defaultReady = true;
        }
    }

    // ---- Reading ----

    private Experiment? FindExperiment(string experimentId) =>
        store.GetExperiment(experimentId) is { Spec.Execution: TrialExecution.Logged } e ? e : null;

    private IEnumerable<Experiment> LoggedExperiments() => store.ListExperiments().Where(e => e.Spec.Execution == TrialExecution.Logged);

    private Experiment? FindByName(string name)
    {
        var named = LoggedExperiments().Where(e => e.Spec.Name == name).ToList();
        return named.FirstOrDefault(e => e.LifecycleStage == LifecycleStage.Active) ?? named.FirstOrDefault();
    }

    private Trial? FindRun(string runId) => store.GetTrial(runId) is { Logged: not null } run ? run : null;

    private TrackingResult<Experiment> ActiveExperiment(string experimentId) =>
        FindExperiment(experimentId) is not { } experiment ? NoExperiment(experimentId)
        : experiment.LifecycleStage != LifecycleStage.Active
            ? Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.")
            : experiment;

    private TrackingResult<Trial> ActiveRun(string runId) =>
        FindRun(runId) is not { } run ? NoRun(runId)
        : run.LifecycleStage != LifecycleStage.Active
            ? Invalid($"The run {runId} must be in the 'active' state. Current state is deleted.")
            : run;

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
            : new Uri(store.ArtifactFolder(runId)).AbsoluteUri;

    private static string? LocalFolder(string uri)
    {
        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile) return parsed.LocalPath;
        return !uri.Contains("://", StringComparison.Ordinal) && Path.IsPathRooted(uri) ? uri : null;
    }

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
