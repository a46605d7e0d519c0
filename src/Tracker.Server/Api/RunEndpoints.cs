using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;

namespace Tracker.Server.Api;

/// <summary>
/// Tracker's own run-logging API under <c>/api/runs</c>: any script or program starts a run, logs parameters, tags,
/// metric batches and artifacts, and ends it, in plain JSON. The work is <see cref="RunRegistry"/>'s,
/// <see cref="RunIngest"/>'s, <see cref="RunQueries"/>' and <see cref="RunArtifacts"/>'s; this maps HTTP onto them and their problems onto problem details.
/// </summary>
public static class RunEndpoints
{
    /// <summary>The tag of these endpoints in the OpenAPI document.</summary>
    public const string Tag = "Runs";

    /// <summary>The request header that names a write; a client sends the same value on every attempt of one write.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The answer header that says a write was stored by an earlier attempt with the same key.</summary>
    public const string IdempotentReplayedHeader = "Idempotent-Replayed";

    /// <summary>The body of <c>POST /api/runs</c>: exactly one of <c>experiment</c> (a name) and <c>experimentId</c>.</summary>
    /// <param name="Experiment">The experiment's name; a logged experiment of that name is made when there is none.</param>
    /// <param name="ExperimentId">The id of an existing logged experiment.</param>
    /// <param name="Name">The run's name (generated when absent).</param>
    /// <param name="Parameters">Its first parameters: JSON numbers, strings or booleans.</param>
    /// <param name="Tags">Its first tags.</param>
    public sealed record CreateRunRequest(string? Experiment, string? ExperimentId, string? Name,
        Dictionary<string, JsonElement>? Parameters, Dictionary<string, string>? Tags);

    /// <summary>The body of <c>PATCH /api/runs/{id}</c>; an absent field is left as it is.</summary>
    /// <param name="State">running, completed, failed or interrupted.</param>
    /// <param name="Name">A new name.</param>
    /// <param name="Error">Why the run failed.</param>
    public sealed record UpdateRunRequest(string? State, string? Name, string? Error);

    /// <summary>The body of <c>POST /api/runs/{id}/metrics</c>.</summary>
    /// <param name="Points">The points, at most <see cref="TrackingOptions.MaxMetricPointsPerRequest"/>.</param>
    public sealed record LogMetricsRequest(List<MetricPointRequest>? Points);

    /// <summary>One metric value to log.</summary>
    /// <param name="Key">The metric's name (1 to 250 characters).</param>
    /// <param name="Value">A finite number.</param>
    /// <param name="Step">The step (default 0).</param>
    /// <param name="Timestamp">When it was measured, in ms since the Unix epoch (default: when the server receives it).</param>
    public sealed record MetricPointRequest(string? Key, double? Value, long? Step, long? Timestamp);

    /// <summary>How many points a metrics request logged.</summary>
    /// <param name="Accepted">The number of points.</param>
    public sealed record LogMetricsResponse(int Accepted);

    /// <summary>One page of a metric's history, in step order.</summary>
    /// <param name="Points">The points of the page.</param>
    /// <param name="NextPageToken">The token of the next page, or <c>null</c> on the last.</param>
    public sealed record MetricHistoryResponse(IReadOnlyList<MetricPointResponse> Points, string? NextPageToken);

    /// <summary>One logged metric value.</summary>
    /// <param name="Key">The metric's name.</param>
    /// <param name="Value">The value.</param>
    /// <param name="Step">The step.</param>
    /// <param name="Timestamp">When it was measured, in ms since the Unix epoch.</param>
    public sealed record MetricPointResponse(string Key, double Value, int Step, long Timestamp);

    /// <summary>Maps every <c>/runs</c> route onto <paramref name="api"/> (the <c>/api</c> group).</summary>
    public static RouteGroupBuilder MapRunLogging(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags(Tag);

        runs.MapPost("", async (HttpRequest request, RunRegistry registry, RunQueries queries) =>
        {
            var body = await ReadAsync<CreateRunRequest>(request);
            if (body.Problem is not null) return body.Problem;
            var parameters = Scalars(body.Value!.Parameters);
            if (!parameters.Succeeded) return Problem(parameters.Error!);
            var started = await registry.StartRunAsync(new NativeRunCreate
            {
                Experiment = body.Value.Experiment,
                ExperimentId = body.Value.ExperimentId,
                Name = body.Value.Name,
                Parameters = parameters.Value!,
                Tags = body.Value.Tags ?? [],
            });
            return started.Succeeded ? Results.Created($"/api/runs/{started.Value!.Id}", await queries.ViewAsync(started.Value)) : Problem(started.Error!);
        })
        .WithName("CreateRun").WithSummary("Start a run")
        .WithDescription("Starts a run (state running) in the experiment named by `experiment` (created as a logged experiment when absent) or `experimentId`, with optional name, parameters and tags.")
        .DocumentsBody<CreateRunRequest>("application/json")
        .Produces<RunView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapGet("", (HttpRequest request, ITrialStore store) => TrialQueryEndpoints.QueryTrialsAsync(request, store))
        .WithName("SearchRuns").WithSummary("Search runs")
        .WithDescription("The runs (trials) of every experiment, filtered, sorted and paged exactly as `GET /api/trials`: `experiment`, `state`, `tag`, `q`, `param.<name>=low..high`, `metric.<key>=low..high`, `sort`, `desc`, `page`, `pageSize`.")
        .Produces<TrialQueryResult>().ProducesValidationProblem();

        runs.MapGet("/{id}", async (string id, RunQueries queries) => Result(await queries.ViewRunAsync(id)))
        .WithName("GetRun").WithSummary("Get a run")
        .WithDescription("A run (any trial, logged or trained by the server) with its parameters, tags and latest metrics.")
        .Produces<RunView>().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapPatch("/{id}", async (string id, HttpRequest request, RunRegistry registry, RunQueries queries) =>
        {
            var body = await ReadAsync<UpdateRunRequest>(request);
            if (body.Problem is not null) return body.Problem;
            TrialState? state = null;
            if (body.Value!.State is { } text)
            {
                if (!Enum.TryParse<TrialState>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(text, out _))
                    return Validation("state", $"'{text}' is not a run state; use running, completed, failed or interrupted.");
                state = parsed;
            }
            var updated = await registry.SetRunStateAsync(id, state, body.Value.Name, body.Value.Error);
            return updated.Succeeded ? Results.Ok(await queries.ViewAsync(updated.Value!)) : Problem(updated.Error!);
        })
        .WithName("UpdateRun").WithSummary("End, rename or fail a run")
        .WithDescription("Sets the run's state (running, completed, failed or interrupted; ending it stamps its end time), name and/or error.")
        .DocumentsBody<UpdateRunRequest>("application/json")
        .Produces<RunView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapPost("/{id}/parameters", async (string id, HttpRequest request, RunIngest ingest, RunQueries queries) =>
        {
            var body = await ReadAsync<Dictionary<string, JsonElement>>(request);
            if (body.Problem is not null) return body.Problem;
            var parameters = Scalars(body.Value);
            if (!parameters.Succeeded) return Problem(parameters.Error!);
            return await ResultAsync(await ingest.LogParametersAsync(id, parameters.Value!), queries);
        })
        .WithName("LogRunParameters").WithSummary("Log parameters")
        .WithDescription("Logs parameters (`{ \"name\": number|string|boolean }`). Logging a parameter again with the same value is fine; another value, or any parameter of a finished run, is a conflict (409).")
        .DocumentsBody<Dictionary<string, JsonElement>>("application/json")
        .Produces<RunView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        runs.MapPost("/{id}/tags", async (string id, HttpRequest request, RunIngest ingest, RunQueries queries) =>
        {
            var body = await ReadAsync<Dictionary<string, string>>(request);
            if (body.Problem is not null) return body.Problem;
            return await ResultAsync(await ingest.SetTagsAsync(id, body.Value!), queries);
        })
        .WithName("SetRunTags").WithSummary("Set tags")
        .WithDescription("Sets tags (`{ \"key\": \"value\" }`); a later value replaces an earlier one.")
        .DocumentsBody<Dictionary<string, string>>("application/json")
        .Produces<RunView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapPost("/{id}/metrics", async (string id, HttpRequest request, RunIngest ingest, IOptions<TrackingOptions> options) =>
        {
            string key = request.Headers[IdempotencyKeyHeader].ToString().Trim();
            if (key.Length > LoggingRules.MaxWriteKeyLength)
                return Validation(IdempotencyKeyHeader, $"An idempotency key may have at most {LoggingRules.MaxWriteKeyLength} characters.");
            return await LogMetricsAsync(id, key.Length == 0 ? null : key, request, ingest, options.Value);
        })
        .WithName("LogRunMetrics").WithSummary("Log metric points")
        .WithDescription("Logs a batch of metric points (`key`, finite `value`, `step`, optional `timestamp` in ms since the Unix epoch) in one transaction, and streams them live to `/hubs/metrics`. "
            + "With an `Idempotency-Key` header, a retry of the same request (same key) answers as the first did, marked `Idempotent-Replayed: true`, without logging the points again; "
            + $"the run keeps its {LoggingRules.RememberedWriteKeys} latest keys in the store, so this holds across restarts and server processes.")
        .DocumentsBody<LogMetricsRequest>("application/json")
        .Produces<LogMetricsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);


        runs.MapGet("/{id}/metrics/{key}", async (string id, string key, int? maxResults, string? pageToken, RunQueries queries) =>
        {
            var page = await queries.GetHistoryAsync(id, key, maxResults, pageToken);
            return page.Succeeded
                ? Results.Ok(new MetricHistoryResponse(page.Value!.Items.Select(p => new MetricPointResponse(p.Key, p.Value, p.Step, p.Timestamp.ToUnixTimeMilliseconds())).ToList(),
                    page.Value.NextPageToken))
                : Problem(page.Error!);
        })
        .WithName("GetRunMetricHistory").WithSummary("A metric's history")
        .WithDescription($"Every value of one metric of a run, by step, in pages of `maxResults` (at most {LoggingRules.MaxHistoryResults}, the default); pass `nextPageToken` back as `pageToken` for the next page.")
        .Produces<MetricHistoryResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapPut("/{id}/artifacts/{**path}", async (string id, string path, string? caption, string? trueLabel, string? predictedLabel,
            HttpRequest request, RunArtifacts artifacts, IOptions<TrackingOptions> options) =>
        {
            // The server's own body limit (Kestrel's 30 MB) must not cut below, or stand in for, Tracking:MaxArtifactBytes.
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
                bodyLimit.MaxRequestBodySize = options.Value.MaxArtifactBytes + 1;
            var saved = await artifacts.SaveAsync(id, path, request.ContentType, request.ContentLength, request.Body,
                new ArtifactLabels(caption, trueLabel, predictedLabel), request.HttpContext.RequestAborted);
            return saved.Succeeded ? Results.Created(saved.Value!.Url, saved.Value) : Problem(saved.Error!);
        })
        .WithName("PutRunArtifact").WithSummary("Upload an artifact")
        .WithDescription("Stores the body as the run's artifact at `path` (relative, no `..`, at most 255 characters), replacing one there. The `Content-Type` must be image/png, image/jpeg, text/plain, text/csv, application/json or application/octet-stream; images must decode, and have at most Tracking:MaxImagePixels pixels (40 million by default; checked from the header before decoding, 413 otherwise). `caption`, `trueLabel` and `predictedLabel` describe an image (e.g. a prediction), which is then shown on the run's page and sent live as `images`. Size limit: Tracking:MaxArtifactBytes (16 MiB by default).")
        .DocumentsUpload("application/octet-stream", "image/png", "image/jpeg", "text/plain", "text/csv", "application/json")
        .Produces<ArtifactView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        runs.MapGet("/{id}/artifacts", async (string id, RunArtifacts artifacts) => Result(await artifacts.ListAsync(id)))
        .WithName("ListRunArtifacts").WithSummary("List artifacts")
        .WithDescription("Every artifact file of the run, by path, with size, content type, download URL and image labels.")
        .Produces<IReadOnlyList<ArtifactView>>().ProducesProblem(StatusCodes.Status404NotFound);

        runs.MapGet("/{id}/artifacts/{**path}", async (string id, string path, RunArtifacts artifacts, CancellationToken ct) =>
        {
            var found = await artifacts.OpenAsync(id, path, ct);
            return found.Succeeded ? Results.Stream(found.Value!.Content, found.Value.View.ContentType) : Problem(found.Error!);
        })
        .WithName("GetRunArtifact").WithSummary("Download an artifact")
        .WithDescription("The artifact's bytes, with its content type.")
        .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream").ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        return api;
    }

    /// <summary>Logs the points of a metrics request; its answer.</summary>
    /// <remarks>
    /// The body is read whole into a pooled buffer and parsed by <see cref="MetricBatchReader"/>; a body it does not take
    /// is bound by <see cref="JsonSerializer"/> into <see cref="LogMetricsRequest"/> as it always was, which words the problem.
    /// </remarks>
    private static async Task<IResult> LogMetricsAsync(string id, string? writeKey, HttpRequest request, RunIngest ingest, TrackingOptions options)
    {
        int limit = options.MaxMetricPointsPerRequest;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        List<LoggedMetric> metrics;
        var (buffer, length) = await ReadBodyAsync(request);
        try
        {
            if (!MetricBatchReader.TryRead(buffer.AsSpan(0, length), now, out metrics))
            {
                using var copy = new MemoryStream(buffer, 0, length, writable: false);
                var bound = await BindMetricsAsync(copy, request, limit, now);
                if (bound.Problem is not null) return bound.Problem;
                metrics = bound.Metrics!;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (metrics.Count > limit) return TooManyPoints(limit, metrics.Count);
        if (writeKey is null)
        {
            var logged = await ingest.LogMetricsAsync(id, metrics);
            return logged.Succeeded ? TypedResults.Ok(new LogMetricsResponse(metrics.Count)) : Problem(logged.Error!);
        }
        var once = await ingest.LogMetricsOnceAsync(id, metrics, writeKey);
        if (!once.Succeeded) return Problem(once.Error!);
        if (!once.Value) request.HttpContext.Response.Headers[IdempotentReplayedHeader] = "true";
        return TypedResults.Ok(new LogMetricsResponse(metrics.Count));
    }

    // The serializer's binding of a metrics body, with the endpoint's answers to what it does not accept.
    private static async Task<(List<LoggedMetric>? Metrics, IResult? Problem)> BindMetricsAsync(Stream body, HttpRequest request, int limit, long now)
    {
        var read = await ReadAsync<LogMetricsRequest>(body, request);
        if (read.Problem is not null) return (null, read.Problem);
        var points = read.Value!.Points;
        if (points is null) return (null, Validation("points", "Send { \"points\": [ { \"key\", \"value\", \"step\", \"timestamp\" } ] }."));
        if (points.Count > limit) return (null, TooManyPoints(limit, points.Count));
        var metrics = new List<LoggedMetric>(points.Count);
        for (int i = 0; i < points.Count; i++)
        {
            if (points[i] is not { } point) return (null, Validation($"points[{i}]", "A point must be an object."));
            if (point.Value is not { } value) return (null, Validation($"points[{i}].value", "A point needs a value."));
            metrics.Add(new LoggedMetric(point.Key ?? "", value, point.Timestamp ?? now, point.Step ?? 0));
        }
        return (metrics, null);
    }

    private static IResult TooManyPoints(int limit, int count) =>
        Validation("points", $"A request may log at most {limit} points (Tracking:MaxMetricPointsPerRequest); got {count}. Split them across requests.");

    /// <summary>The whole body in a buffer from <see cref="ArrayPool{T}.Shared"/>, which the caller returns, and its length.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request)
    {
        var aborted = request.HttpContext.RequestAborted;
        int size = request.ContentLength is { } declared and > 0 and < 64 * 1024 * 1024 ? (int)declared + 1 : 16 * 1024;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(checked(buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                int read = await request.Body.ReadAsync(buffer.AsMemory(length), aborted);
                if (read == 0) return (buffer, length);
                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>The problem details of a tracking problem, naming the field when there is one.</summary>
    internal static IResult Problem(TrackingError error)
    {
        int status = error.Kind switch
        {
            TrackingErrorKind.NotFound => StatusCodes.Status404NotFound,
            TrackingErrorKind.AlreadyExists or TrackingErrorKind.Conflict => StatusCodes.Status409Conflict,
            TrackingErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
            TrackingErrorKind.UnsupportedContentType => StatusCodes.Status415UnsupportedMediaType,
            _ => StatusCodes.Status400BadRequest,
        };
        string title = status switch
        {
            404 => "Not found.",
            409 => "The request conflicts with what is logged.",
            413 => "The upload is too large.",
            415 => "The content type is not allowed.",
            _ => "The request is invalid.",
        };
        return error.Field is { } field && status != StatusCodes.Status404NotFound
            ? Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [error.Message] }, detail: error.Message, statusCode: status, title: title)
            : Results.Problem(statusCode: status, title: title, detail: error.Message);
    }

    private static IResult Result<T>(TrackingResult<T> result) => result.Succeeded ? Results.Ok(result.Value) : Problem(result.Error!);

    private static async Task<IResult> ResultAsync(TrackingResult<Core.Experiments.Trial> result, RunQueries queries) =>
        result.Succeeded ? Results.Ok(await queries.ViewAsync(result.Value!)) : Problem(result.Error!);

    private static IResult Validation(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request is invalid.");

    /// <summary>
    /// Reads a JSON body whatever its declared content type (so that <c>curl -d</c> works); bad JSON, a body of the
    /// wrong shape or none is a 400 that names the field JSON parsing stopped at.
    /// </summary>
    private static Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request) where T : class => ReadAsync<T>(request.Body, request);

    private static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(Stream body, HttpRequest request) where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(body, TrackerJson.Options, request.HttpContext.RequestAborted);
            return value is null ? (null, Validation("body", "The request needs a JSON body.")) : (value, null);
        }
        catch (JsonException e)
        {
            string field = e.Path is null or "$" ? "body" : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path.TrimStart('$');
            string message = e.Path is null && e.LineNumber is null ? e.Message : $"The body is not valid JSON of the expected shape at {e.Path ?? "the start"}: {e.Message}";
            return (null, Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message, title: "The request body is not valid JSON."));
        }
    }

    // Parameters are JSON scalars: numbers stay numbers, strings strings, booleans become "true"/"false".
    private static TrackingResult<IReadOnlyDictionary<string, ParameterValue>> Scalars(Dictionary<string, JsonElement>? values)
    {
        var parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var (key, value) in values ?? [])
        {
            ParameterValue? scalar = value.ValueKind switch
            {
                JsonValueKind.Number when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
            if (scalar is null)
                return new TrackingError(TrackingErrorKind.InvalidParameter,
                    $"Parameter '{key}' must be a number, a string or a boolean, not {value.ValueKind.ToString().ToLowerInvariant()}.", $"parameters.{key}");
            parameters[key] = scalar.Value;
        }
        return parameters;
    }
}
