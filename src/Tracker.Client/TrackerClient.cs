using System.Globalization;
using System.Net.Http.Headers;

namespace Tracker.Client;

/// <summary>
/// A client of Tracker's REST logging API (<c>/api/runs</c>): starts runs (see <see cref="Run"/> for logging to one),
/// reads and searches them. Thread-safe; one instance per server is enough.
/// </summary>
public sealed class TrackerClient : IDisposable
{
    private readonly HttpClient http;
    private readonly bool ownsHttp;

    /// <summary>A client of the server at <paramref name="baseAddress"/>, with an optional API key.</summary>
    public TrackerClient(Uri baseAddress, string? apiKey = null)
        : this(new TrackerClientOptions { BaseAddress = baseAddress, ApiKey = apiKey })
    {
    }

    /// <summary>A client with its own <see cref="HttpClient"/>, configured by <paramref name="options"/>.</summary>
    public TrackerClient(TrackerClientOptions options)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, ownsHttp: true, options)
    {
    }

    /// <summary>
    /// A client over <paramref name="httpClient"/> (not disposed with this client), e.g. one from an
    /// <c>IHttpClientFactory</c> or a test server. Its base address is used when <paramref name="options"/> names none.
    /// </summary>
    public TrackerClient(HttpClient httpClient, TrackerClientOptions? options = null)
        : this(httpClient, ownsHttp: false, options ?? new TrackerClientOptions())
    {
    }

    private TrackerClient(HttpClient httpClient, bool ownsHttp, TrackerClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var baseAddress = options.BaseAddress ?? httpClient.BaseAddress
            ?? throw new ArgumentException("Name the server: set TrackerClientOptions.BaseAddress or the HttpClient's BaseAddress.", nameof(options));
        if (!baseAddress.IsAbsoluteUri) throw new ArgumentException($"The server address '{baseAddress}' must be absolute.", nameof(options));
        // Relative API paths resolve below the base address, so a server hosted under a path prefix works too.
        if (!baseAddress.AbsolutePath.EndsWith('/')) baseAddress = new Uri(baseAddress.AbsoluteUri + "/");
        http = httpClient;
        this.ownsHttp = ownsHttp;
        Options = options with { BaseAddress = baseAddress };
        Http = new TrackerHttp(http, baseAddress, Options);
    }

    /// <summary>The options in use, with the resolved base address.</summary>
    public TrackerClientOptions Options { get; }

    internal TrackerHttp Http { get; }

    /// <summary>
    /// Starts a run in the experiment named <paramref name="experiment"/> (created as a logged experiment if there is
    /// none of that name) and returns its handle. Dispose the handle to flush its metrics and mark it completed.
    /// </summary>
    /// <param name="experiment">The experiment's name.</param>
    /// <param name="name">The run's name, or <c>null</c> for a generated one.</param>
    /// <param name="parameters">Parameters to log at once: finite numbers, strings or booleans.</param>
    /// <param name="tags">Key/value tags to set at once.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<Run> StartRunAsync(string experiment, string? name = null, Dictionary<string, object>? parameters = null,
        Dictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experiment);
        return StartRunAsync(new { experiment, name, parameters = Validate.Parameters(parameters, nameof(parameters)), tags = Validate.Tags(tags, nameof(tags)) }, cancellationToken);
    }

    /// <summary>Starts a run in the experiment with id <paramref name="experimentId"/>; otherwise as <see cref="StartRunAsync(string, string?, Dictionary{string, object}?, Dictionary{string, string}?, CancellationToken)"/>.</summary>
    public Task<Run> StartRunInExperimentAsync(string experimentId, string? name = null, Dictionary<string, object>? parameters = null,
        Dictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(experimentId);
        return StartRunAsync(new { experimentId, name, parameters = Validate.Parameters(parameters, nameof(parameters)), tags = Validate.Tags(tags, nameof(tags)) }, cancellationToken);
    }

    private async Task<Run> StartRunAsync<TBody>(TBody body, CancellationToken cancellationToken)
    {
        var view = await Http.SendAsync<RunView>(HttpMethod.Post, "api/runs", TrackerHttp.Json(body), cancellationToken).ConfigureAwait(false);
        return new Run(this, view);
    }

    /// <summary>
    /// A handle for logging to an existing run, e.g. to go on after the logging process restarted. The run is not
    /// changed; its handle marks it completed when disposed, like a new run's.
    /// </summary>
    public async Task<Run> ResumeRunAsync(string runId, CancellationToken cancellationToken = default) =>
        new(this, await GetRunAsync(runId, cancellationToken).ConfigureAwait(false));

    /// <summary>Reads a run; a <see cref="TrackerApiException"/> with status 404 when there is none.</summary>
    public Task<RunView> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        Http.SendAsync<RunView>(HttpMethod.Get, RunPath(runId), null, cancellationToken);

    /// <summary>One page of the runs that match <paramref name="query"/> (all runs, newest first, when <c>null</c>).</summary>
    public Task<RunPage> SearchRunsAsync(RunQuery? query = null, CancellationToken cancellationToken = default)
    {
        string text = query?.ToQueryString() ?? "";
        return Http.SendAsync<RunPage>(HttpMethod.Get, text.Length == 0 ? "api/runs" : "api/runs?" + text, null, cancellationToken);
    }

    /// <summary>Changes a run's state, name or error; a <c>null</c> argument leaves that field as it is.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="state">The new state, e.g. <see cref="RunState.Completed"/>.</param>
    /// <param name="name">A new name.</param>
    /// <param name="error">Why the run failed or was interrupted.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<RunView> UpdateRunAsync(string runId, RunState? state = null, string? name = null, string? error = null, CancellationToken cancellationToken = default)
    {
        if (state == RunState.Unknown) throw new ArgumentException("Unknown is not a state a run can be set to.", nameof(state));
        return Http.SendAsync<RunView>(HttpMethod.Patch, RunPath(runId), TrackerHttp.Json(new { state, name, error }), cancellationToken);
    }

    /// <summary>Logs parameters to a run; re-logging a value is fine, changing one is a 409 <see cref="TrackerApiException"/>.</summary>
    public Task<RunView> LogParametersAsync(string runId, Dictionary<string, object> parameters, CancellationToken cancellationToken = default) =>
        Http.SendAsync<RunView>(HttpMethod.Post, RunPath(runId) + "/parameters",
            TrackerHttp.Json(Validate.Parameters(parameters ?? throw new ArgumentNullException(nameof(parameters)), nameof(parameters))), cancellationToken);

    /// <summary>Sets tags of a run (a tag set again takes the new value).</summary>
    public Task<RunView> SetTagsAsync(string runId, Dictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        Http.SendAsync<RunView>(HttpMethod.Post, RunPath(runId) + "/tags",
            TrackerHttp.Json(Validate.Tags(tags ?? throw new ArgumentNullException(nameof(tags)), nameof(tags))), cancellationToken);

    /// <summary>Sends metric points to a run now, in one request (at most the server's limit), bypassing any run's buffer.</summary>
    /// <returns>How many points the server accepted.</returns>
    public async Task<int> LogMetricsAsync(string runId, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        foreach (var point in points)
        {
            Validate.MetricKey(point.Key, nameof(points));
            Validate.MetricValue(point.Key, point.Value, nameof(points));
        }
        // One key for all attempts of this batch: a retry after a lost answer is not logged twice.
        var answer = await Http.SendAsync<MetricsAccepted>(HttpMethod.Post, RunPath(runId) + "/metrics", TrackerHttp.Json(new { points }), cancellationToken,
            idempotencyKey: Guid.NewGuid().ToString("N")).ConfigureAwait(false);
        return answer.Accepted;
    }

    /// <summary>One page of a metric's history, in step order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="key">The metric.</param>
    /// <param name="maxResults">The most points on the page, or <c>null</c> for the server's default.</param>
    /// <param name="pageToken">The previous page's <see cref="MetricHistoryPage.NextPageToken"/>, or <c>null</c> for the first page.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<MetricHistoryPage> GetMetricHistoryPageAsync(string runId, string key, int? maxResults = null, string? pageToken = null,
        CancellationToken cancellationToken = default)
    {
        Validate.MetricKey(key, nameof(key));
        var query = new List<string>();
        if (maxResults is { } max) query.Add("maxResults=" + max.ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(pageToken)) query.Add("pageToken=" + Uri.EscapeDataString(pageToken));
        string path = $"{RunPath(runId)}/metrics/{Uri.EscapeDataString(key)}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return Http.SendAsync<MetricHistoryPage>(HttpMethod.Get, path, null, cancellationToken);
    }

    /// <summary>A metric's whole history, in step order, read page by page.</summary>
    public async Task<IReadOnlyList<MetricPoint>> GetMetricHistoryAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        var points = new List<MetricPoint>();
        string? token = null;
        do
        {
            var page = await GetMetricHistoryPageAsync(runId, key, pageToken: token, cancellationToken: cancellationToken).ConfigureAwait(false);
            points.AddRange(page.Points);
            token = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(token));
        return points;
    }

    /// <summary>
    /// Uploads an artifact to a run. The server checks the content type (PNG, JPEG, plain text, CSV, JSON or
    /// octet-stream; else 415), the size (413 over its limit) and decodes images (a corrupt one is a 400).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="path">The path inside the run: relative, no <c>..</c>, at most 255 characters (e.g. <c>samples/3.png</c>).</param>
    /// <param name="content">The file's bytes.</param>
    /// <param name="contentType">The file's content type.</param>
    /// <param name="caption">An image's caption, or <c>null</c>.</param>
    /// <param name="trueLabel">A prediction image's true label, or <c>null</c>.</param>
    /// <param name="predictedLabel">A prediction image's predicted label, or <c>null</c>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public Task<ArtifactView> UploadArtifactAsync(string runId, string path, ReadOnlyMemory<byte> content, string contentType,
        string? caption = null, string? trueLabel = null, string? predictedLabel = null, CancellationToken cancellationToken = default)
    {
        string escaped = Validate.ArtifactPath(path, nameof(path));
        var mediaType = MediaTypeHeaderValue.Parse(contentType ?? throw new ArgumentNullException(nameof(contentType)));
        var query = new List<string>();
        if (caption is not null) query.Add("caption=" + Uri.EscapeDataString(caption));
        if (trueLabel is not null) query.Add("trueLabel=" + Uri.EscapeDataString(trueLabel));
        if (predictedLabel is not null) query.Add("predictedLabel=" + Uri.EscapeDataString(predictedLabel));
        string url = $"{RunPath(runId)}/artifacts/{escaped}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return Http.SendAsync<ArtifactView>(HttpMethod.Put, url, () =>
        {
            var body = new ReadOnlyMemoryContent(content);
            body.Headers.ContentType = mediaType;
            return body;
        }, cancellationToken);
    }

    /// <summary>The artifacts of a run.</summary>
    public Task<IReadOnlyList<ArtifactView>> ListArtifactsAsync(string runId, CancellationToken cancellationToken = default) =>
        Http.SendAsync<IReadOnlyList<ArtifactView>>(HttpMethod.Get, RunPath(runId) + "/artifacts", null, cancellationToken);

    /// <summary>Downloads an artifact's bytes.</summary>
    public async Task<byte[]> DownloadArtifactAsync(string runId, string path, CancellationToken cancellationToken = default)
    {
        using var response = await Http.SendAsync(HttpMethod.Get, $"{RunPath(runId)}/artifacts/{Validate.ArtifactPath(path, nameof(path))}", null, cancellationToken)
            .ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the <see cref="HttpClient"/> when this client created it.</summary>
    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }

    private static string RunPath(string runId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        return "api/runs/" + Uri.EscapeDataString(runId);
    }

    private sealed record MetricsAccepted(int Accepted);
}
