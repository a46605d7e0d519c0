using System.Text.Json.Serialization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Tracking;

/// <summary>A run to start through the native API (<c>POST /api/runs</c>).</summary>
public sealed record NativeRunCreate
{
    /// <summary>The name of the experiment; a logged experiment of that name is made when there is none. Defaults to <c>null</c>.</summary>
    public string? Experiment { get; init; }

    /// <summary>The id of an existing logged experiment, instead of <see cref="Experiment"/>. Defaults to <c>null</c>.</summary>
    public string? ExperimentId { get; init; }

    /// <summary>The run's name, or <c>null</c> for a generated one. Defaults to <c>null</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Its first parameters. Defaults to none.</summary>
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; init; } = new Dictionary<string, ParameterValue>();

    /// <summary>Its first tags. Defaults to none.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A run (a trial) as the native API shows it: identity, state, parameters, tags, the latest value of each metric,
/// and the dashboard page that shows it.
/// </summary>
/// <param name="Id">The run's id (a trial id).</param>
/// <param name="ExperimentId">Its experiment's id.</param>
/// <param name="ExperimentName">Its experiment's name.</param>
/// <param name="Number">Its number within the experiment, from 0.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its state.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="Tags">Its key/value tags (the name is not repeated here).</param>
/// <param name="Metrics">The latest value of each metric.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="FinishedAt">When it ended, or <c>null</c> while it runs.</param>
/// <param name="Error">Why it failed, when it did and someone said.</param>
/// <param name="Url">The dashboard page of the run.</param>
public sealed record RunView(
    string Id, string ExperimentId, string ExperimentName, int Number, string Name, TrialState State,
    IReadOnlyDictionary<string, ParameterValue> Parameters, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, double> Metrics,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? FinishedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    string Url)
{
    /// <summary>The view of <paramref name="trial"/>, which belongs to <paramref name="experiment"/> (when it is known).</summary>
    public static RunView Of(Trial trial, Experiment? experiment) => new(
        trial.Id, trial.ExperimentId, experiment?.Spec.Name ?? "", trial.Number,
        RunLog.RunNameOf(trial) is { Length: > 0 } name ? name : $"trial {trial.Number}", trial.State,
        trial.Parameters, trial.RunTags.Where(t => t.Key != RunLog.RunNameTag).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
        trial.FinalMetrics, trial.CreatedAt, trial.FinishedAt, trial.Error, $"/trials/{trial.Id}");
}

// The native run-logging API's operations (Tracker's own REST API under /api/runs, and a .NET client alike): typed
// parameters, tags as a map, large metric batches, states by name. They share the MLflow operations' store writes, so a
// run logged either way reads the same through both; their checks are the native API's (field-named, 409 for conflicts).
public sealed partial class RunLog
{
    /// <summary>The states a client may set on a run it logs.</summary>
    public static readonly IReadOnlySet<TrialState> SettableStates =
        new HashSet<TrialState> { TrialState.Running, TrialState.Completed, TrialState.Failed, TrialState.Interrupted };

    /// <summary>
    /// Starts a run (state running) with its first parameters and tags, in the experiment named by exactly one of
    /// <see cref="NativeRunCreate.Experiment"/> (made when absent) and <see cref="NativeRunCreate.ExperimentId"/>.
    /// </summary>
    public async Task<TrackingResult<Trial>> StartRunAsync(NativeRunCreate request, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        bool byName = !string.IsNullOrEmpty(request.Experiment), byId = !string.IsNullOrEmpty(request.ExperimentId);
        if (byName == byId)
            return Invalid("Name the experiment by exactly one of 'experiment' (a name) and 'experimentId'.", "experiment");
        if (byName && CheckExperimentName(request.Experiment!) is { } badExperiment) return badExperiment with { Field = "experiment" };
        if (request.Name is not null && CheckRunName(request.Name) is { } badName) return badName;
        var parameters = CheckParameters(request.Parameters);
        if (!parameters.Succeeded) return parameters.Error!;
        if (CheckTags(request.Tags) is { } badTags) return badTags;

        string id = Guid.NewGuid().ToString("N");
        var tags = new Dictionary<string, string>(request.Tags, StringComparer.Ordinal)
        {
            [RunNameTag] = request.Name is { Length: > 0 } n ? n : GeneratedName(id),
        };
        Experiment experiment;
        if (byId)
        {
            var active = await ActiveExperimentAsync(request.ExperimentId!, cancellationToken);
            if (!active.Succeeded) return active.Error! with { Field = "experimentId" };
            experiment = active.Value!;
        }
        else
        {
            await experimentGate.WaitAsync(cancellationToken);
            try
            {
                if (await FindByNameAsync(request.Experiment!, cancellationToken) is { } named)
                {
                    if (named.LifecycleStage != LifecycleStage.Active)
                        return Invalid($"The experiment '{named.Spec.Name}' is deleted; restore it or log to another.", "experiment");
                    experiment = named;
                }
                else experiment = await AddExperimentAsync(request.Experiment!, new ObjectiveSpec(), [], null, cancellationToken);
            }
            finally
            {
                experimentGate.Release();
            }
        }

        var run = await NewRunAsync(experiment, id, DateTimeOffset.UtcNow, [], "", cancellationToken);
        run = Apply(run, experiment.Spec.Objective.Metric, [], parameters.Value!, [.. tags], []);
        return await SaveRunAsync(run, cancellationToken);
    }

    /// <summary>
    /// Logs parameters of an active, unfinished run; logging a parameter again with the same value is fine, with
    /// another value it is a conflict (parameters never change).
    /// </summary>
    public async Task<TrackingResult<Trial>> LogParametersAsync(string runId, IReadOnlyDictionary<string, ParameterValue> parameters,
        CancellationToken cancellationToken = default)
    {
        var checkedParameters = CheckParameters(parameters);
        if (!checkedParameters.Succeeded) return checkedParameters.Error!;
        return await WriteAsync(runId, [], checkedParameters.Value!, [], refuseFinished: true, cancellationToken);
    }

    /// <summary>Sets tags of an active run (a later value replaces an earlier one).</summary>
    public async Task<TrackingResult<Trial>> SetTagsAsync(string runId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        CheckTags(tags) ?? await WriteAsync(runId, [], [], [.. tags], refuseFinished: false, cancellationToken);

    /// <summary>
    /// Logs metric points of an active run, any number at once, in one transaction: keys of 1 to
    /// <see cref="MaxKeyLength"/> characters, finite values, 32-bit steps, times in ms since the Unix epoch.
    /// </summary>
    public async Task<TrackingResult<Trial>> LogMetricsAsync(string runId, IReadOnlyList<LoggedMetric> points, CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < points.Count; i++)
        {
            var point = points[i];
            string field = $"points[{i}]";
            if (CheckNativeKey("Metric key", point.Key, $"{field}.key") is { } badKey) return badKey;
            if (!double.IsFinite(point.Value))
                return Invalid($"The value of metric '{point.Key}' must be a finite number (got {point.Value}).", $"{field}.value");
            if (point.Step is < int.MinValue or > int.MaxValue)
                return Invalid($"The step of metric '{point.Key}' must lie between {int.MinValue} and {int.MaxValue} (got {point.Step}).", $"{field}.step");
            if (point.Timestamp < 0 || point.Timestamp > MaxMillis)
                return Invalid($"The timestamp of metric '{point.Key}' must be a time in milliseconds since the Unix epoch (got {point.Timestamp}).", $"{field}.timestamp");
        }
        return await WriteAsync(runId, points, [], [], refuseFinished: false, cancellationToken);
    }

    /// <summary>
    /// Changes an active run's state (one of <see cref="SettableStates"/>), name and/or error; a <c>null</c>
    /// argument leaves that field. Ending a run stamps its end time; setting it running again clears it.
    /// </summary>
    public async Task<TrackingResult<Trial>> SetRunStateAsync(string runId, TrialState? state, string? name, string? error, CancellationToken cancellationToken = default)
    {
        if (state is { } s && !SettableStates.Contains(s))
            return Invalid($"A run's state can be set to running, completed, failed or interrupted, not {s.ToString().ToLowerInvariant()}.", "state");
        if (name is not null && CheckRunName(name) is { } badName) return badName;
        if (error is not null && CheckLength("Error", MaxTagValueLength, error) is { } badError) return badError with { Field = "error" };
        var now = DateTimeOffset.UtcNow;
        return await ChangeActiveRunAsync(runId, run =>
        {
            var next = state ?? run.State;
            var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
            if (name is not null) tags[RunNameTag] = name;
            return run with
            {
                State = next,
                FinishedAt = next is TrialState.Running ? null : run.FinishedAt ?? now,
                Error = error ?? (next is TrialState.Running or TrialState.Completed ? null : run.Error),
                RunTags = tags,
            };
        }, cancellationToken);
    }

    /// <summary>The native view of any trial (logged or not).</summary>
    public async Task<TrackingResult<RunView>> ViewRunAsync(string runId, CancellationToken cancellationToken = default) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { } trial ? await ViewAsync(trial, cancellationToken) : NoRun(runId);

    /// <summary>The native view of a trial.</summary>
    public async Task<RunView> ViewAsync(Trial trial, CancellationToken cancellationToken = default) =>
        RunView.Of(trial, await experiments.GetExperimentAsync(trial.ExperimentId, cancellationToken));

    /// <summary>
    /// Every value of one metric of any trial (logged or not) by step, then time, in pages of at most
    /// <see cref="MaxHistoryResults"/> (also the default size).
    /// </summary>
    public async Task<TrackingResult<Page<MetricPoint>>> GetHistoryAsync(string runId, string key, int? maxResults = null, string? pageToken = null,
        CancellationToken cancellationToken = default) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { } trial ? await HistoryAsync(trial, key, maxResults, pageToken, cancellationToken) : NoRun(runId);

    private static TrackingResult<List<ParamWrite>> CheckParameters(IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        var writes = new List<ParamWrite>(parameters.Count);
        foreach (var (key, value) in parameters)
        {
            if (CheckNativeKey("Parameter name", key, "parameters") is { } badKey) return badKey;
            string text = value.AsString();
            if (CheckLength("Parameter value", MaxParamValueLength, text) is { } badValue) return badValue with { Field = $"parameters.{key}" };
            writes.Add(new ParamWrite(key, text, value));
        }
        return writes;
    }

    private static TrackingError? CheckTags(IReadOnlyDictionary<string, string> tags)
    {
        foreach (var (key, value) in tags)
        {
            if (CheckNativeKey("Tag key", key, "tags") is { } badKey) return badKey;
            if (value is null) return Invalid($"Tag '{key}' needs a value.", $"tags.{key}");
            if (CheckLength("Tag value", MaxTagValueLength, value) is { } badValue) return badValue with { Field = $"tags.{key}" };
        }
        return null;
    }

    private static TrackingError? CheckRunName(string name) =>
        name.Length == 0 ? Invalid("A run's name must not be empty.", "name")
        : CheckLength("Run name", MaxTagValueLength, name) is { } tooLong ? tooLong with { Field = "name" }
        : null;

    // The native API's rule for names of metrics, parameters and tags: 1 to MaxKeyLength characters, anything printable.
    private static TrackingError? CheckNativeKey(string what, string? key, string field) =>
        string.IsNullOrEmpty(key) ? Invalid($"{what} must not be empty.", field)
        : key.Length > MaxKeyLength ? Invalid($"{what} '{key[..50]}…' has {key.Length} characters; at most {MaxKeyLength} are allowed.", field)
        : key.Any(char.IsControl) ? Invalid($"{what} '{key}' contains a control character.", field)
        : null;

    private static TrackingError Invalid(string message, string field) => new(TrackingErrorKind.InvalidParameter, message, field);
}
