using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;
using Tracker.Core.Training;

namespace Tracker.Core.Experiments;

/// <summary>The outcome of <see cref="ExperimentService.CreateAsync"/>: the experiment, or the problems by field.</summary>
public sealed record CreateResult(Experiment? Experiment, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>Whether the spec was accepted.</summary>
    public bool Succeeded => Experiment is not null;
}

/// <summary>What <see cref="ExperimentService.DeleteAsync"/> did.</summary>
public enum ExperimentDeletionOutcome
{
    /// <summary>The experiment and everything of its trials are gone.</summary>
    Deleted,

    /// <summary>There is no such experiment.</summary>
    NotFound,

    /// <summary>The experiment is running or paused; nothing was deleted.</summary>
    StillRunning,

    /// <summary>Some of its trials are queued or still running; nothing was deleted.</summary>
    TrialsStillRunning,
}

/// <summary>The outcome of <see cref="ExperimentService.DeleteAsync"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Experiment">The experiment as it was, unless there was none.</param>
/// <param name="Deleted">What was deleted, when it was.</param>
public sealed record ExperimentDeletion(ExperimentDeletionOutcome Outcome, Experiment? Experiment, DeletedExperiment? Deleted);

/// <summary>
/// The entry point for creating and controlling experiments, used by the dashboard and the API alike: validates a
/// spec against the loaded plugins, data sets and its own search space, stores it, and wakes the runner.
/// </summary>
public sealed class ExperimentService(IExperimentStore experiments, ITrialStore trials, PluginCatalog plugins, DatasetCatalog datasets, TrialRunnerService runner,
    StudyCoordinator coordinator, MetricFeed feed, WeightsLibrary weights)
{
    /// <summary>The largest trial budget accepted.</summary>
    public const int MaxTrialsLimit = 10_000;

    /// <summary>The largest epoch budget accepted.</summary>
    public const int MaxEpochsLimit = 10_000;

    /// <summary>Every hyperparameter an experiment on <paramref name="model"/> can set: the trainer's, then the model's.</summary>
    public static IReadOnlyList<ParameterSpec> HyperparametersOf(IModelPlugin model) =>
        [.. TrainerHyperparameters.All, .. model.Hyperparameters.Where(p => TrainerHyperparameters.All.All(t => t.Name != p.Name))];

    /// <summary>A trial's full parameters: declared defaults, overridden by the spec's fixed values, then by the point.</summary>
    public static Dictionary<string, ParameterValue> Resolve(ExperimentSpec spec, IModelPlugin model, IReadOnlyDictionary<string, ParameterValue> point)
    {
        var values = HyperparametersOf(model).Where(p => p.Default is not null).ToDictionary(p => p.Name, p => p.Default!.Value);
        foreach (var (k, v) in spec.Fixed) values[k] = v;
        foreach (var (k, v) in point) values[k] = v;
        return values;
    }

    /// <summary>Lists every problem with <paramref name="spec"/>, keyed by the JSON path of the field at fault.</summary>
    public IReadOnlyDictionary<string, string[]> Validate(ExperimentSpec? spec)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message) => (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);
        if (spec is null)
        {
            Add("spec", "the request body must be an experiment spec.");
            return Freeze(errors);
        }

        // A field sent as null, or an enum given as a number it has no name for, is refused here: stored, it would break
        // every page and loop that reads the experiment later.
        if (!CheckShape(spec, Add)) return Freeze(errors);

        if (string.IsNullOrWhiteSpace(spec.Name)) Add("name", "must not be empty.");
        else if (spec.Name.Length > 200) Add("name", "must be at most 200 characters.");
        else if (spec.Name.Any(char.IsControl)) Add("name", "must not contain control characters.");

        bool builtin = spec.Execution == TrialExecution.Builtin;
        // Logged runs were chosen and run by their clients: there is no strategy to ask and no budget to keep.
        bool logged = spec.Execution == TrialExecution.Logged;
        var model = builtin ? plugins.FindModel(spec.Model ?? "") : null;
        if (builtin && model is null)
            Add("model", $"no active model plugin named '{spec.Model}' (available: {string.Join(", ", plugins.Models.Select(m => m.Name).Order())}).");
        var strategy = plugins.FindStrategy(spec.Strategy ?? "");
        if (spec.Strategy == SensitivityStudy.StrategyName)
        {
            if (spec.Sensitivity is null) Add("strategy", "'sensitivity' is chosen by starting a sensitivity study, not in a spec.");
        }
        else if (strategy is null && !logged)
            Add("strategy", $"no active strategy plugin named '{spec.Strategy}' (available: {string.Join(", ", plugins.Strategies.Select(s => s.Name).Order())}).");
        else if (strategy is not null)
            CheckValues("strategyOptions", spec.StrategyOptions ?? [], strategy.Options, Add);
        if (spec.Pruner is { Length: > 0 } prunerName)
        {
            if (plugins.FindPruner(prunerName) is not { } pruner)
                Add("pruner", $"no active pruner plugin named '{prunerName}' (available: {string.Join(", ", plugins.Pruners.Select(p => p.Name).Order())}).");
            else
                CheckValues("prunerOptions", spec.PrunerOptions ?? [], pruner.Options, Add);
        }

        if (builtin)
        {
            var dataset = datasets.Find(spec.Dataset?.Name ?? "");
            if (dataset is null)
                Add("dataset.name", $"no data set named '{spec.Dataset?.Name}' (available: {string.Join(", ", datasets.Providers.Select(p => p.Name))}).");
            else
                CheckValues("dataset.options", spec.Dataset!.Options ?? [], dataset.Options, Add);
        }

        var space = spec.SearchSpace ?? SearchSpace.Empty;
        foreach (var problem in space.Validate())
        {
            var name = problem.Split(':')[0];
            Add(space[name] is not null ? $"searchSpace.{name}" : "searchSpace", problem);
        }
        if (model is not null)
        {
            var known = HyperparametersOf(model);
            foreach (var p in space.Parameters.Where(p => p is not null && known.All(k => k.Name != p.Name)))
                Add($"searchSpace.{p.Name}", $"{p.Name}: not a hyperparameter of model '{model.Name}' or of the trainer (known: {string.Join(", ", known.Select(k => k.Name))}).");
            CheckValues("fixed", spec.Fixed ?? [], known, Add);
        }

        if (spec.InitialWeights is not null)
        {
            if (!builtin) Add("initialWeights", "only built-in trials load weights.");
            else if (weights.Check(spec.InitialWeights) is { } problem) Add("initialWeights", problem);
            else if (model is not null and not IHasClassifierHead)
                Add("initialWeights", $"model '{model.Name}' does not name its classifier head, so its head cannot be replaced for new classes.");
        }

        if (spec.Objective is null || string.IsNullOrWhiteSpace(spec.Objective.Metric))
            Add("objective.metric", "must name a metric.");
        else if (builtin && !MetricNames.Epoch.Contains(spec.Objective.Metric))
            Add("objective.metric", $"must be one of {string.Join(", ", MetricNames.Epoch)}.");
        if (!logged && (spec.MaxTrials <= 0 || spec.MaxTrials > MaxTrialsLimit))
            Add("maxTrials", $"must be between 1 and {MaxTrialsLimit} (got {spec.MaxTrials}).");
        if (!logged && (spec.Epochs <= 0 || spec.Epochs > MaxEpochsLimit))
            Add("epochs", $"must be between 1 and {MaxEpochsLimit} (got {spec.Epochs}).");
        if (!logged && spec.MaxConcurrentTrials <= 0)
            Add("maxConcurrentTrials", $"must be positive (got {spec.MaxConcurrentTrials}).");
        return Freeze(errors);
    }

    // Nulls where the spec needs a value, undefined enum numbers, control characters in names; false when the spec is
    // too broken for the other checks to run.
    private static bool CheckShape(ExperimentSpec spec, Action<string, string> add)
    {
        int problems = 0;
        void Add(string field, string message) { problems++; add(field, message); }
        if (spec.Name is null) Add("name", "must not be null.");
        if (!Enum.IsDefined(spec.Execution)) Add("execution", $"must be one of {string.Join(", ", Enum.GetNames<TrialExecution>().Select(JsonNamingPolicy.CamelCase.ConvertName))} (got {(int)spec.Execution}).");
        if (spec.StrategyOptions is null) Add("strategyOptions", "must not be null (send {} or leave it out).");
        if (spec.PrunerOptions is null) Add("prunerOptions", "must not be null (send {} or leave it out).");
        if (spec.Fixed is null) Add("fixed", "must not be null (send {} or leave it out).");
        if (spec.Dataset is null) Add("dataset", "must not be null.");
        else if (spec.Dataset.Options is null) Add("dataset.options", "must not be null (send {} or leave it out).");
        if (spec.Objective is null) Add("objective", "must not be null.");
        else if (!Enum.IsDefined(spec.Objective.Direction)) Add("objective.direction", "must be maximize or minimize.");
        if (spec.SearchSpace is null) Add("searchSpace", "must not be null (send {\"parameters\": []} or leave it out).");
        else if (spec.SearchSpace.Parameters is null) Add("searchSpace.parameters", "must not be null.");
        else if (spec.SearchSpace.Parameters.Any(p => p is null)) Add("searchSpace.parameters", "must not contain null.");
        else if (spec.SearchSpace.Parameters.FirstOrDefault(p => string.IsNullOrWhiteSpace(p.Name) || p.Name.Any(char.IsControl)) is { } unnamed)
            Add("searchSpace.parameters", $"every parameter needs a name without control characters (got '{unnamed.Name}').");
        foreach (var (field, values) in new[] { ("fixed", spec.Fixed), ("strategyOptions", spec.StrategyOptions), ("prunerOptions", spec.PrunerOptions) })
            if (values?.Keys.FirstOrDefault(k => k.Length == 0 || k.Any(char.IsControl)) is { } badKey)
                Add(field, $"names must be non-empty and without control characters (got '{badKey}').");
        if (spec.InitialWeights is { } weights && (weights.Length == 0 || weights.Any(char.IsControl)))
            Add("initialWeights", "must be a file name without control characters.");
        if (spec.Seed < 0) Add("seed", $"must not be negative (got {spec.Seed}).");
        return problems == 0;
    }

    /// <summary>Validates and stores a new experiment, then wakes the runner.</summary>
    public async Task<CreateResult> CreateAsync(ExperimentSpec? spec, CancellationToken cancellationToken = default)
    {
        var errors = Validate(spec);
        if (errors.Count > 0) return new CreateResult(null, errors);
        var experiment = new Experiment
        {
            Id = Guid.NewGuid().ToString("N")[..12],
            Spec = spec!,
            State = ExperimentState.Running,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        await experiments.SaveExperimentAsync(experiment, cancellationToken);
        feed.Publish(new ExperimentChanged(experiment));
        runner.Wake();
        return new CreateResult(experiment, errors);
    }

    /// <summary>
    /// Starts a sensitivity study from the best completed trial of <paramref name="experimentId"/>: the same training
    /// with <paramref name="parameter"/> multiplied by each factor, <paramref name="seeds"/> times each.
    /// </summary>
    public async Task<CreateResult> StartSensitivityStudyAsync(string experimentId, string parameter, IReadOnlyList<double>? factors, int seeds,
        CancellationToken cancellationToken = default)
    {
        static CreateResult Problem(string field, string message) => new(null, new Dictionary<string, string[]> { [field] = [message] });
        if (await experiments.GetExperimentAsync(experimentId, cancellationToken) is not { } source) return Problem("experiment", $"there is no experiment '{experimentId}'.");
        var best = ExperimentSummary.Best(source.Spec.Objective.Direction, await trials.ListTrialsAsync(experimentId, cancellationToken));
        if (best is null) return Problem("experiment", "the experiment has no completed trial yet.");
        var model = plugins.FindModel(source.Spec.Model);
        if (model is null) return Problem("experiment", $"the model plugin '{source.Spec.Model}' is not loaded.");
        var (spec, problem) = SensitivityStudy.Build(source, best, parameter, factors ?? SensitivityStudy.DefaultFactors, seeds, HyperparametersOf(model));
        return spec is null ? Problem("parameter", problem!) : await CreateAsync(spec, cancellationToken);
    }

    /// <summary>Cancels a running experiment and its running trials. Returns the experiment, or <c>null</c> if unknown.</summary>
    public async Task<Experiment?> CancelAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var experiment = await experiments.GetExperimentAsync(experimentId, cancellationToken);
        if (experiment is null) return null;
        if (experiment.State is ExperimentState.Running or ExperimentState.Paused)
            experiment = await coordinator.EndExperimentAsync(experiment, ExperimentState.Cancelled, "cancelled by user", cancellationToken);
        foreach (var trial in (await trials.ListTrialsAsync(experimentId, cancellationToken)).Where(t => !t.IsFinished))
        {
            // Built-in trials stop at their next batch; external ones are closed here, their workers learn it on report.
            if (!runner.Cancel(trial.Id, "the experiment was cancelled by user"))
                await coordinator.FinishAsync(trial with { State = TrialState.Interrupted, Error = "the experiment was cancelled by user" }, cancellationToken);
        }
        return experiment;
    }

    /// <summary>
    /// Pauses a running experiment: the runner stops asking its strategy for trials, and trials already running
    /// finish. Returns the experiment as it now is (unchanged unless it was running), or <c>null</c> if unknown.
    /// </summary>
    public Task<Experiment?> PauseAsync(string experimentId, CancellationToken cancellationToken = default) =>
        SetStateAsync(experimentId, ExperimentState.Running, ExperimentState.Paused, "paused by user", cancellationToken);

    /// <summary>
    /// Resumes a paused experiment and wakes the runner, which asks for trials again where the search left off.
    /// Returns the experiment as it now is (unchanged unless it was paused), or <c>null</c> if unknown.
    /// </summary>
    public async Task<Experiment?> ResumeAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        var experiment = await SetStateAsync(experimentId, ExperimentState.Paused, ExperimentState.Running, null, cancellationToken);
        if (experiment?.State == ExperimentState.Running) runner.Wake();
        return experiment;
    }

    // Through the coordinator, under its lock: an Ask that is deciding at that moment sees one state or the other.
    private Task<Experiment?> SetStateAsync(string experimentId, ExperimentState from, ExperimentState to, string? message, CancellationToken cancellationToken) =>
        coordinator.TransitionAsync(experimentId, from, to, message, cancellationToken);

    /// <summary>
    /// Deletes an experiment for good, with its trials and everything they kept (<see cref="IExperimentStore.DeleteExperimentAsync"/>).
    /// Only an experiment that nothing writes to any more: one running or paused is refused (cancel it first), and so is
    /// one whose trials have not all ended yet (a cancelled trial stops at its next batch).
    /// </summary>
    public async Task<ExperimentDeletion> DeleteAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        if (await experiments.GetExperimentAsync(experimentId, cancellationToken) is not { } experiment)
            return new ExperimentDeletion(ExperimentDeletionOutcome.NotFound, null, null);
        // A running or paused experiment may start trials; an ended one never changes state again, so this check holds.
        if (experiment.State is ExperimentState.Running or ExperimentState.Paused)
            return new ExperimentDeletion(ExperimentDeletionOutcome.StillRunning, experiment, null);
        if ((await trials.ListTrialsAsync(experimentId, cancellationToken)).Any(t => !t.IsFinished))
            return new ExperimentDeletion(ExperimentDeletionOutcome.TrialsStillRunning, experiment, null);
        var deleted = await experiments.DeleteExperimentAsync(experimentId, cancellationToken);
        return deleted is null
            ? new ExperimentDeletion(ExperimentDeletionOutcome.NotFound, null, null)
            : new ExperimentDeletion(ExperimentDeletionOutcome.Deleted, experiment, deleted);
    }

    /// <summary>Cancels one running trial (the experiment goes on). Returns false if it is unknown or not running.</summary>
    public bool CancelTrial(string trialId) => runner.Cancel(trialId, "cancelled by user");

    private static void CheckValues(string field, IReadOnlyDictionary<string, ParameterValue> values, IReadOnlyList<ParameterSpec> declared, Action<string, string> add)
    {
        foreach (var (name, value) in values)
        {
            var spec = declared.FirstOrDefault(d => d.Name == name);
            if (spec is null) add($"{field}.{name}", $"unknown option (known: {string.Join(", ", declared.Select(d => d.Name))}).");
            else if (spec.Check(value) is { } why) add($"{field}.{name}", why);
        }
    }

    private static Dictionary<string, string[]> Freeze(Dictionary<string, List<string>> errors) =>
        errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
