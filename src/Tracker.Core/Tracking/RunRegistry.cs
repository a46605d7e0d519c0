using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Core.Tracking;

/// <summary>
/// The experiments and runs that clients log themselves (MLflow's tracking model, and the native run API): their
/// lifecycle (create, rename, delete, restore), experiment and run tags, run state and name, and the "Default"
/// experiment. A logged experiment is an experiment with <see cref="TrialExecution.Logged"/> (id "0" is "Default",
/// made on first use); a run is a trial, so logged runs sit in the dashboard beside Tracker's own. Checks names by
/// <see cref="LoggingRules"/>; MLflow's endpoints apply MLflow's stricter rules first. Every change publishes on
/// <see cref="MetricFeed"/>.
/// </summary>
/// <remarks>
/// The experiment's objective metric is <c>val_f1_macro</c> unless the tag <c>tracker.objective</c> names another;
/// <c>tracker.direction</c> = maximize|minimize. Concurrency: a run's changes are atomic read-change-write updates in the
/// store and its number comes from the store's counter, so several server processes on one database neither lose
/// updates nor share numbers.
/// </remarks>
public sealed class RunRegistry(IExperimentStore experiments, ITrialStore trials, IMetricStore metricStore, IArtifactStore artifacts, MetricFeed feed)
{
    /// <summary>The id of the experiment runs go to when none is named.</summary>
    public const string DefaultExperimentId = "0";

    /// <summary>The name of the default experiment.</summary>
    public const string DefaultExperimentName = "Default";

    /// <summary>The run tag that holds a run's name (MLflow's name for it; the native API keeps names there too).</summary>
    public const string RunNameTag = "mlflow.runName";

    /// <summary>The experiment tag that names the metric its runs are ranked by (default <c>val_f1_macro</c>).</summary>
    public const string ObjectiveTag = "tracker.objective";

    /// <summary>The experiment tag that says whether the objective is maximized or minimized (default maximize).</summary>
    public const string DirectionTag = "tracker.direction";

    /// <summary>The states a client may set on a run it logs.</summary>
    public static readonly IReadOnlySet<TrialState> SettableStates =
        new HashSet<TrialState> { TrialState.Running, TrialState.Completed, TrialState.Failed, TrialState.Interrupted };

    // Experiment names are unique among logged experiments. The store enforces it across processes
    // (ExperimentNameTakenException); this process also looks the name up first, one at a time, for the plain answer.
    private readonly SemaphoreSlim experimentGate = new(1, 1);
    private volatile bool defaultReady;

    // ---- Experiments ----

    /// <summary>
    /// Creates an experiment; names are unique among logged experiments, deleted ones included. An artifact location must
    /// lie inside the store's artifact folder (<see cref="ArtifactLocations"/>).
    /// </summary>
    public async Task<TrackingResult<Experiment>> CreateExperimentAsync(string name, string? artifactLocation = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (LoggingRules.CheckExperimentName(name) is { } badName) return badName;
        if (ArtifactLocations.Check(artifactLocation, ArtifactRoot(), out var location) is { } badLocation) return badLocation;
        var tagMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags ?? []) tagMap[key] = value;
        if (LoggingRules.CheckTags(tagMap) is { } badTag) return badTag;
        var objective = ObjectiveFrom(tagMap);
        if (!objective.Succeeded) return objective.Error!;
        await experimentGate.WaitAsync(cancellationToken);
        try
        {
            if (await FindByNameAsync(name, cancellationToken) is not null)
                return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{name}' already exists.");
            return await AddExperimentAsync(name, objective.Value!, tagMap, location, cancellationToken);
        }
        catch (ExperimentNameTakenException taken) // another process took the name since the look-up
        {
            return new TrackingError(TrackingErrorKind.AlreadyExists, taken.Message);
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

    /// <summary>Renames an active experiment.</summary>
    public async Task<TrackingResult<Experiment>> RenameExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (LoggingRules.CheckExperimentName(newName) is { } badName) return badName;
        await experimentGate.WaitAsync(cancellationToken);
        try
        {
            if (await FindExperimentAsync(experimentId, cancellationToken) is not { } experiment) return NoExperiment(experimentId);
            if (experiment.LifecycleStage != LifecycleStage.Active) return Invalid("Cannot rename a non-active experiment.");
            if (await FindByNameAsync(newName, cancellationToken) is { } other && other.Id != experiment.Id)
                return new TrackingError(TrackingErrorKind.AlreadyExists, $"Experiment '{newName}' already exists.");
            return await ChangeExperimentAsync(experiment.Id, e => e with { Spec = e.Spec with { Name = newName } }, cancellationToken);
        }
        catch (ExperimentNameTakenException taken)
        {
            return new TrackingError(TrackingErrorKind.AlreadyExists, taken.Message);
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
        if (LoggingRules.CheckTags(new Dictionary<string, string> { [key] = value }) is { } badTag) return badTag;
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

    /// <summary>Where an experiment's runs keep artifacts: its own location, else the store's artifact folder (a file URI).</summary>
    public string ArtifactLocationOf(Experiment experiment)
    {
        if (experiment.ArtifactLocation is { } location) return location;
        // The store keeps every trial's files in one folder: the folder above a trial's is the experiment's location.
        string uri = artifacts.ArtifactUri(experiment.Id);
        return uri[..uri.LastIndexOf('/')];
    }

    // The store's artifact folder: the one above any trial's folder.
    private string ArtifactRoot() => Path.GetDirectoryName(new Uri(artifacts.ArtifactUri(DefaultExperimentId)).LocalPath)!;

    // ---- Runs ----

    /// <summary>Starts a run (state running) in an active experiment, with resolved fields (see <see cref="RunCreate"/>).</summary>
    public async Task<TrackingResult<Trial>> CreateRunAsync(RunCreate request, CancellationToken cancellationToken = default)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        if (LoggingRules.CheckTags(request.Tags) is { } badTags) return badTags;
        if (request.Name is not null && LoggingRules.CheckRunName(request.Name) is { } badName) return badName;
        string experimentId = string.IsNullOrEmpty(request.ExperimentId) ? DefaultExperimentId : request.ExperimentId;
        var active = await ActiveExperimentAsync(experimentId, cancellationToken);
        if (!active.Succeeded) return active.Error!;
        string id = Guid.NewGuid().ToString("N");
        var tags = new Dictionary<string, string>(request.Tags, StringComparer.Ordinal) { [RunNameTag] = request.Name ?? GeneratedName(id) };
        return await SaveRunAsync(await NewRunAsync(active.Value!, id, request.StartedAt ?? DateTimeOffset.UtcNow, tags, request.UserId, cancellationToken),
            cancellationToken);
    }

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
        if (byName && LoggingRules.CheckExperimentName(request.Experiment!) is { } badExperiment) return badExperiment with { Field = "experiment" };
        if (request.Name is not null && LoggingRules.CheckRunName(request.Name) is { } badName) return badName;
        var parameters = LoggingRules.CheckParameters(request.Parameters);
        if (!parameters.Succeeded) return parameters.Error!;
        if (LoggingRules.CheckTags(request.Tags) is { } badTags) return badTags;

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
        run = RunIngest.Apply(run, experiment.Spec.Objective.Metric, [], parameters.Value!, [.. tags], []);
        return await SaveRunAsync(run, cancellationToken);
    }

    /// <summary>A logged run by id, deleted or not.</summary>
    public async Task<TrackingResult<Trial>> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        await trials.GetTrialAsync(runId, cancellationToken) is { Logged: not null } run ? run : NoRun(runId);

    /// <summary>
    /// Sets an active run's state, end time and/or name exactly as given (a <c>null</c> argument leaves that field),
    /// for clients that time their runs themselves (MLflow's).
    /// </summary>
    public async Task<TrackingResult<Trial>> UpdateRunAsync(string runId, TrialState? state, DateTimeOffset? finishedAt, string? name,
        CancellationToken cancellationToken = default)
    {
        if (name is not null && LoggingRules.CheckRunName(name) is { } badName) return badName;
        return await ChangeActiveRunAsync(runId, run => run with
        {
            State = state ?? run.State,
            FinishedAt = finishedAt ?? run.FinishedAt,
            RunTags = Named(run, name),
        }, cancellationToken);
    }

    /// <summary>
    /// Changes an active run's state (one of <see cref="SettableStates"/>), name and/or error; a <c>null</c>
    /// argument leaves that field. Ending a run stamps its end time; setting it running again clears it.
    /// </summary>
    public async Task<TrackingResult<Trial>> SetRunStateAsync(string runId, TrialState? state, string? name, string? error, CancellationToken cancellationToken = default)
    {
        if (state is { } s && !SettableStates.Contains(s))
            return Invalid($"A run's state can be set to running, completed, failed or interrupted, not {s.ToString().ToLowerInvariant()}.", "state");
        if (name is not null && LoggingRules.CheckRunName(name) is { } badName) return badName;
        if (error is not null && LoggingRules.CheckLength("Error", LoggingRules.MaxTagValueLength, error) is { } badError) return badError with { Field = "error" };
        var now = DateTimeOffset.UtcNow;
        return await ChangeActiveRunAsync(runId, run =>
        {
            var next = state ?? run.State;
            return run with
            {
                State = next,
                FinishedAt = next is TrialState.Running ? null : run.FinishedAt ?? now,
                Error = error ?? (next is TrialState.Running or TrialState.Completed ? null : run.Error),
                RunTags = Named(run, name),
            };
        }, cancellationToken);
    }

    /// <summary>Marks a run deleted.</summary>
    public Task<TrackingResult<Trial>> DeleteRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SetRunStageAsync(runId, LifecycleStage.Deleted, cancellationToken);

    /// <summary>Restores a deleted run.</summary>
    public Task<TrackingResult<Trial>> RestoreRunAsync(string runId, CancellationToken cancellationToken = default) =>
        SetRunStageAsync(runId, LifecycleStage.Active, cancellationToken);

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

    /// <summary>A run's name (its <see cref="RunNameTag"/> tag; "" when it has none).</summary>
    public static string RunNameOf(Trial run) => run.RunTags.GetValueOrDefault(RunNameTag, "");

    /// <summary>The refusal of a write to a deleted run.</summary>
    internal static TrackingError NotActive(string runId) => Invalid($"The run {runId} must be in the 'active' state. Current state is deleted.");

    // ---- Reading, for the queries too ----

    /// <summary>Every logged experiment, the default one made first when it is missing.</summary>
    internal async Task<IEnumerable<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken)
    {
        await EnsureDefaultExperimentAsync(cancellationToken);
        return await LoggedExperimentsAsync(cancellationToken);
    }

    /// <summary>A logged experiment by id, or <c>null</c>.</summary>
    internal async Task<Experiment?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        await experiments.GetExperimentAsync(experimentId, cancellationToken) is { Spec.Execution: TrialExecution.Logged } e ? e : null;

    private async Task<IEnumerable<Experiment>> LoggedExperimentsAsync(CancellationToken cancellationToken) =>
        (await experiments.ListExperimentsAsync(cancellationToken)).Where(e => e.Spec.Execution == TrialExecution.Logged);

    private async Task<Experiment?> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        var named = (await LoggedExperimentsAsync(cancellationToken)).Where(e => e.Spec.Name == name).ToList();
        return named.FirstOrDefault(e => e.LifecycleStage == LifecycleStage.Active) ?? named.FirstOrDefault();
    }

    private async Task<TrackingResult<Experiment>> ActiveExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        await FindExperimentAsync(experimentId, cancellationToken) is not { } experiment ? NoExperiment(experimentId)
        : experiment.LifecycleStage != LifecycleStage.Active
            ? Invalid($"The experiment {experimentId} must be in the 'active' state. Current state is deleted.")
            : experiment;

    // ---- Writing ----

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

    // Changes an active logged run as one atomic update in the store; the change returns null to write nothing.
    private async Task<TrackingResult<Trial>> ChangeActiveRunAsync(string runId, Func<Trial, Trial?> change, CancellationToken cancellationToken)
    {
        TrackingError? refused = null;
        bool changed = false;
        var run = await trials.UpdateTrialAsync(runId, t =>
        {
            refused = t.Logged is null ? NoRun(runId) : t.LifecycleStage != LifecycleStage.Active ? NotActive(runId) : null;
            var next = refused is null ? change(t) : null;
            changed = next is not null;
            return next is null ? null : new TrialWrite(next);
        }, cancellationToken);
        if (refused is not null) return refused;
        if (run is null) return NoRun(runId);
        if (changed) feed.Publish(new TrialChanged(run));
        return run;
    }

    // The run's tags with its name replaced, when a name is given.
    private static Dictionary<string, string> Named(Trial run, string? name)
    {
        var tags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
        if (name is not null) tags[RunNameTag] = name;
        return tags;
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
        var found = await GetRunAsync(runId, cancellationToken);
        if (!found.Succeeded) return found;
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
            while (curve.Count < RunIngest.MaxIntermediateSteps)
            {
                var page = await metricStore.ReadMetricsAsync(run.Id, metric, cursor, LoggingRules.MaxHistoryResults, cancellationToken);
                // The latest point of a step (by time) is its value on the curve.
                foreach (var step in page.Points.GroupBy(p => p.Step))
                {
                    var value = step.MaxBy(p => p.Timestamp)!.Value;
                    if (curve.Count > 0 && curve[^1].Step == step.Key) curve[^1] = new IntermediateValue(step.Key, value);
                    else if (curve.Count < RunIngest.MaxIntermediateSteps) curve.Add(new IntermediateValue(step.Key, value));
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
}
