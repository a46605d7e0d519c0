using Tracker.Abstractions;
using Tracker.Core.Tracking;

namespace Tracker.Core.Experiments;

/// <summary>The life-cycle state of an experiment.</summary>
public enum ExperimentState
{
    /// <summary>Trials are being asked for and run.</summary>
    Running,

    /// <summary>The strategy is done and every trial has ended.</summary>
    Completed,

    /// <summary>Cancelled by a user.</summary>
    Cancelled,

    /// <summary>Could not go on (e.g. the strategy threw); <see cref="Experiment.Message"/> says why.</summary>
    Failed,

    /// <summary>
    /// Paused by a user: no new trials are asked for (external workers are told to wait); trials already running
    /// finish. Resuming makes it <see cref="Running"/> again.
    /// </summary>
    Paused,
}

/// <summary>A stored experiment.</summary>
public sealed record Experiment
{
    /// <summary>The unique id.</summary>
    public required string Id { get; init; }

    /// <summary>The spec it was created with.</summary>
    public required ExperimentSpec Spec { get; init; }

    /// <summary>The state.</summary>
    public ExperimentState State { get; init; } = ExperimentState.Running;

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it ended, or <c>null</c>.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why it ended (or failed), or <c>null</c>.</summary>
    public string? Message { get; init; }

    /// <summary>Key/value tags (MLflow's experiment tags). Defaults to none.</summary>
    public Dictionary<string, string> ExperimentTags { get; init; } = [];

    /// <summary>Active, or deleted (kept, hidden from searches, restorable). Defaults to active.</summary>
    public LifecycleStage LifecycleStage { get; init; }

    /// <summary>Where logging clients put the runs' artifacts (a URI), or <c>null</c> for the store's artifact folder.</summary>
    public string? ArtifactLocation { get; init; }

    /// <summary>When its name, tags or lifecycle last changed, or <c>null</c> when never since it was created.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>A stored trial: a <see cref="TrialRecord"/> plus what the engine and the dashboard need.</summary>
public sealed record Trial
{
    /// <summary>The unique id.</summary>
    public required string Id { get; init; }

    /// <summary>The experiment it belongs to.</summary>
    public required string ExperimentId { get; init; }

    /// <summary>The number within the experiment, from 0.</summary>
    public required int Number { get; init; }

    /// <summary>The point of the search space the strategy chose.</summary>
    public required Dictionary<string, ParameterValue> Parameters { get; init; }

    /// <summary>Every hyperparameter the trial ran with: the point, fixed values and defaults.</summary>
    public Dictionary<string, ParameterValue> ResolvedParameters { get; init; } = [];

    /// <summary>The state.</summary>
    public TrialState State { get; init; } = TrialState.Queued;

    /// <summary>The epoch budget.</summary>
    public required int Epochs { get; init; }

    /// <summary>Epochs finished so far.</summary>
    public int EpochsDone { get; init; }

    /// <summary>The objective after each epoch.</summary>
    public List<IntermediateValue> Intermediate { get; init; } = [];

    /// <summary>The final objective, or <c>null</c>.</summary>
    public double? Objective { get; init; }

    /// <summary>The last epoch's metrics (e.g. <c>val_f1_macro</c>).</summary>
    public Dictionary<string, double> FinalMetrics { get; init; } = [];

    /// <summary>The trial whose checkpoint this one continued from, or <c>null</c>.</summary>
    public string? ResumedFrom { get; init; }

    /// <summary>Why it failed or was interrupted, or <c>null</c>.</summary>
    public string? Error { get; init; }

    /// <summary>Problems that did not stop the trial (e.g. corrupt images skipped while loading the data).</summary>
    public List<string> Warnings { get; init; } = [];

    /// <summary>
    /// How many times the server has started the trial: 1 for a trial that ran once, more when a server stop cut it off
    /// and it was run again (see <see cref="Running.RunnerOptions.MaxTrialAttempts"/>); 0 for a trial that never started
    /// here (logged runs, suggestions refused before they started) and for records written before attempts were counted.
    /// </summary>
    public int Attempts { get; init; }

    /// <summary>When the strategy asked for it.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it started training.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Labels a user gave the trial (e.g. <c>baseline</c>); see <see cref="Storage.ITrialStore.UpdateTrialAnnotationsAsync"/>.</summary>
    public List<string> Tags { get; init; } = [];

    /// <summary>A user's notes on the trial, or <c>null</c>.</summary>
    public string? Notes { get; init; }

    /// <summary>
    /// Key/value tags set by whoever logs the trial (MLflow's run tags, e.g. <c>mlflow.runName</c>); unlike
    /// <see cref="Tags"/>, which are a user's labels. Defaults to none.
    /// </summary>
    public Dictionary<string, string> RunTags { get; init; } = [];

    /// <summary>Active, or deleted (kept, hidden from searches, restorable). Defaults to active.</summary>
    public LifecycleStage LifecycleStage { get; init; }

    /// <summary>
    /// What a logging client recorded beyond the fields above (see <see cref="TrialExecution.Logged"/>), or
    /// <c>null</c> for trials the server or an ask/tell worker ran.
    /// </summary>
    public LoggedRunInfo? Logged { get; init; }

    /// <summary>Whether the trial has reached a final state.</summary>
    public bool IsFinished => State is not (TrialState.Queued or TrialState.Running);

    /// <summary>The strategy's view of this trial.</summary>
    public TrialRecord ToRecord() => new()
    {
        Id = Id,
        Number = Number,
        Parameters = Parameters,
        State = State,
        Epochs = Epochs,
        Intermediate = Intermediate,
        Objective = Objective,
        ResumedFrom = ResumedFrom,
        Error = Error,
    };
}

/// <summary>One value of one metric of one trial at one step.</summary>
/// <param name="TrialId">The trial.</param>
/// <param name="Key">The metric's name.</param>
/// <param name="Step">The step (epoch), from 1.</param>
/// <param name="Value">The value.</param>
/// <param name="Timestamp">When it was recorded.</param>
public sealed record MetricPoint(string TrialId, string Key, int Step, double Value, DateTimeOffset Timestamp);
