namespace Tracker.Core.Tracking;

/// <summary>Whether an experiment or trial is live or soft-deleted (MLflow's lifecycle stage).</summary>
public enum LifecycleStage
{
    /// <summary>Live: searches show it and clients may log to it.</summary>
    Active,

    /// <summary>Deleted: kept, but hidden from default searches and closed to logging until restored.</summary>
    Deleted,
}

/// <summary>What a logging client recorded about a run that a trial's own fields do not hold.</summary>
public sealed record LoggedRunInfo
{
    /// <summary>Who ran it, as the client said ("" when it did not). Defaults to "".</summary>
    public string UserId { get; init; } = "";

    /// <summary>Where the run's artifacts are (a URI). Defaults to "".</summary>
    public string ArtifactUri { get; init; } = "";

    /// <summary>
    /// The params exactly as logged; MLflow params are strings. The trial's <c>Parameters</c> hold the same values,
    /// as numbers where the text is one, so that the runs browser can filter them by range. Defaults to none.
    /// </summary>
    public Dictionary<string, string> Params { get; init; } = [];

    /// <summary>
    /// For each key of the trial's <c>FinalMetrics</c>, the step and time of the value held there: a later point
    /// replaces it only when it is newer by MLflow's rule (greater step, then later time, then greater value).
    /// </summary>
    public Dictionary<string, MetricStamp> Latest { get; init; } = [];

    /// <summary>
    /// The <c>Idempotency-Key</c>s of the latest metric writes that came with one, oldest first, at most
    /// <see cref="LoggingRules.RememberedWriteKeys"/>: stored with the points they came with, so that a retry is
    /// recognised after a restart and on any server process. Defaults to none.
    /// </summary>
    public List<string> RecentWriteKeys { get; init; } = [];

    /// <summary>
    /// The corrections users made to the params after they were logged (<see cref="RunIngest.EditParamsAsync"/>),
    /// oldest first: logging never changes a param, so these are the only changes <see cref="Params"/> has seen.
    /// Defaults to none.
    /// </summary>
    public List<ParamEdit> ParamEdits { get; init; } = [];
}

/// <summary>A user's correction of a logged run's param.</summary>
/// <param name="Key">The param.</param>
/// <param name="OldText">Its text before, or <c>null</c> when the correction added it.</param>
/// <param name="NewText">Its text after.</param>
/// <param name="By">Who made it, as the dashboard names its user.</param>
/// <param name="At">When.</param>
public sealed record ParamEdit(string Key, string? OldText, string NewText, string By, DateTimeOffset At);

/// <summary>The step and time of a metric value.</summary>
/// <param name="Step">The step.</param>
/// <param name="Timestamp">When it was measured (millisecond precision).</param>
public readonly record struct MetricStamp(int Step, DateTimeOffset Timestamp);
