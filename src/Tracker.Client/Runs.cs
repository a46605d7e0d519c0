using System.Text.Json;

namespace Tracker.Client;

/// <summary>The life-cycle state of a run (a trial, on the server).</summary>
public enum RunState
{
    /// <summary>A state this client does not know (sent by a newer server).</summary>
    Unknown,

    /// <summary>Asked for, not started (built-in and ask/tell trials only).</summary>
    Queued,

    /// <summary>Running: logging is open.</summary>
    Running,

    /// <summary>Finished normally.</summary>
    Completed,

    /// <summary>Stopped early by a pruner (built-in and ask/tell trials only).</summary>
    Pruned,

    /// <summary>Ended by an error; the run's <c>error</c> says why.</summary>
    Failed,

    /// <summary>Cancelled by a user, cut off by a server shutdown, or ended so by its logger.</summary>
    Interrupted,
}

/// <summary>A run as the REST API shows it (<c>GET /api/runs/{id}</c>).</summary>
public sealed record RunView
{
    /// <summary>The run's id (the trial id).</summary>
    public string Id { get; init; } = "";

    /// <summary>The experiment it belongs to.</summary>
    public string ExperimentId { get; init; } = "";

    /// <summary>The experiment's name.</summary>
    public string ExperimentName { get; init; } = "";

    /// <summary>The run's number within its experiment, from 0.</summary>
    public int Number { get; init; }

    /// <summary>The run's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The state.</summary>
    public RunState State { get; init; }

    /// <summary>The logged parameters, each a JSON number, string or boolean as the server stores it.</summary>
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>The run's key/value tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The latest value of every metric.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>When the run was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it ended, or <c>null</c> while it runs.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Why it failed or was interrupted, or <c>null</c>.</summary>
    public string? Error { get; init; }

    /// <summary>The run's dashboard page, relative to the server (<c>/trials/{id}</c>).</summary>
    public string Url { get; init; } = "";
}

/// <summary>One value of a metric at a step.</summary>
/// <param name="Key">The metric's name (non-empty, at most 250 characters).</param>
/// <param name="Value">The value; finite.</param>
/// <param name="Step">The step (an epoch, a batch: the caller's choice).</param>
/// <param name="Timestamp">When it was measured, in Unix milliseconds.</param>
public sealed record MetricPoint(string Key, double Value, long Step, long Timestamp);

/// <summary>One page of a metric's history, in step order.</summary>
/// <param name="Points">The points of this page.</param>
/// <param name="NextPageToken">The token of the next page, or <c>null</c> on the last page.</param>
public sealed record MetricHistoryPage(IReadOnlyList<MetricPoint> Points, string? NextPageToken);

/// <summary>A stored artifact of a run.</summary>
public sealed record ArtifactView
{
    /// <summary>The path inside the run (e.g. <c>samples/epoch-3.png</c>).</summary>
    public string Path { get; init; } = "";

    /// <summary>The size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The content type it was uploaded with.</summary>
    public string ContentType { get; init; } = "";

    /// <summary>Where to download it, relative to the server (<c>/api/runs/{id}/artifacts/{path}</c>).</summary>
    public string Url { get; init; } = "";

    /// <summary>A prediction image's caption, or <c>null</c>.</summary>
    public string? Caption { get; init; }

    /// <summary>A prediction image's true label, or <c>null</c>.</summary>
    public string? TrueLabel { get; init; }

    /// <summary>A prediction image's predicted label, or <c>null</c>.</summary>
    public string? PredictedLabel { get; init; }
}

/// <summary>One page of a run search (<c>GET /api/runs?…</c>, the same page as <c>GET /api/trials</c>).</summary>
public sealed record RunPage
{
    /// <summary>The runs of this page, in order.</summary>
    public IReadOnlyList<RunRow> Items { get; init; } = [];

    /// <summary>How many runs match, on all pages.</summary>
    public int Total { get; init; }

    /// <summary>The page, from 0.</summary>
    public int Page { get; init; }

    /// <summary>The page size the server used.</summary>
    public int PageSize { get; init; }
}

/// <summary>A run of a search page with the experiment fields shown beside it.</summary>
public sealed record RunRow
{
    /// <summary>The run, as a trial.</summary>
    public TrialInfo Trial { get; init; } = new();

    /// <summary>Its experiment's name.</summary>
    public string ExperimentName { get; init; } = "";

    /// <summary>Its experiment's model plugin ("" for logged runs).</summary>
    public string Model { get; init; } = "";

    /// <summary>Its experiment's strategy plugin ("" for logged runs).</summary>
    public string Strategy { get; init; } = "";
}
