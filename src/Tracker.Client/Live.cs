using System.Text.Json;

namespace Tracker.Client;

/// <summary>The life-cycle state of an experiment.</summary>
public enum ExperimentState
{
    /// <summary>A state this client does not know (sent by a newer server).</summary>
    Unknown,

    /// <summary>Running: trials are being run or logged.</summary>
    Running,

    /// <summary>Every trial has ended.</summary>
    Completed,

    /// <summary>Cancelled by a user.</summary>
    Cancelled,

    /// <summary>Could not go on; the experiment's message says why.</summary>
    Failed,

    /// <summary>Paused by a user.</summary>
    Paused,
}

/// <summary>
/// A trial (a run) as the server stores it: the <c>trialChanged</c> hub message and the rows of a run search. Only the
/// fields a client commonly needs are typed; others the server sends are ignored.
/// </summary>
public sealed record TrialInfo
{
    /// <summary>The trial's (run's) id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The experiment it belongs to.</summary>
    public string ExperimentId { get; init; } = "";

    /// <summary>The number within the experiment, from 0.</summary>
    public int Number { get; init; }

    /// <summary>The state.</summary>
    public RunState State { get; init; }

    /// <summary>The parameters, each a JSON number or string.</summary>
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>The epoch budget (built-in trials).</summary>
    public int Epochs { get; init; }

    /// <summary>Epochs finished so far (built-in trials).</summary>
    public int EpochsDone { get; init; }

    /// <summary>The objective, or <c>null</c> while it has none.</summary>
    public double? Objective { get; init; }

    /// <summary>The latest (final, once finished) metrics.</summary>
    public IReadOnlyDictionary<string, double> FinalMetrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Why it failed or was interrupted, or <c>null</c>.</summary>
    public string? Error { get; init; }

    /// <summary>The key/value tags its logger set.</summary>
    public IReadOnlyDictionary<string, string> RunTags { get; init; } = new Dictionary<string, string>();

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it ended, or <c>null</c>.</summary>
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>The parts of an experiment's spec a live view needs; the rest of the spec is ignored.</summary>
public sealed record ExperimentSpecInfo
{
    /// <summary>The experiment's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>How its trials run: <c>builtin</c>, <c>external</c> or <c>logged</c>.</summary>
    public string Execution { get; init; } = "";

    /// <summary>The model plugin ("" for logged experiments).</summary>
    public string Model { get; init; } = "";

    /// <summary>The strategy plugin ("" for logged experiments).</summary>
    public string Strategy { get; init; } = "";
}

/// <summary>An experiment as the <c>experimentChanged</c> hub message carries it.</summary>
public sealed record ExperimentInfo
{
    /// <summary>The experiment's id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The state.</summary>
    public ExperimentState State { get; init; }

    /// <summary>The spec it was created with (in part).</summary>
    public ExperimentSpecInfo Spec { get; init; } = new();

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it ended, or <c>null</c>.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why it ended or failed, or <c>null</c>.</summary>
    public string? Message { get; init; }
}

/// <summary>The <c>metrics</c> hub message: a run recorded metric values for a step.</summary>
public sealed record MetricsMessage
{
    /// <summary>The experiment.</summary>
    public string ExperimentId { get; init; } = "";

    /// <summary>The run (trial).</summary>
    public string TrialId { get; init; } = "";

    /// <summary>The step.</summary>
    public long Step { get; init; }

    /// <summary>The values recorded at that step, by metric name.</summary>
    public IReadOnlyDictionary<string, double> Values { get; init; } = new Dictionary<string, double>();
}

/// <summary>One image of an <see cref="ImagesMessage"/>.</summary>
public sealed record ImageInfo
{
    /// <summary>Where to fetch the image, relative to the server.</summary>
    public string Url { get; init; } = "";

    /// <summary>A caption, or <c>null</c>.</summary>
    public string? Caption { get; init; }

    /// <summary>The true label of a prediction image, or <c>null</c>.</summary>
    public string? TrueLabel { get; init; }

    /// <summary>The predicted label of a prediction image, or <c>null</c>.</summary>
    public string? PredictedLabel { get; init; }
}

/// <summary>The <c>images</c> hub message: a run logged images (over REST, or a built-in trial's prediction samples).</summary>
public sealed record ImagesMessage
{
    /// <summary>The experiment.</summary>
    public string ExperimentId { get; init; } = "";

    /// <summary>The run (trial).</summary>
    public string TrialId { get; init; } = "";

    /// <summary>The images.</summary>
    public IReadOnlyList<ImageInfo> Images { get; init; } = [];
}
