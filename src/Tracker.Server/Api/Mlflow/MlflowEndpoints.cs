using Microsoft.OpenApi;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using static Tracker.Server.Api.Mlflow.MlflowException;

namespace Tracker.Server.Api.Mlflow;

/// <summary>
/// MLflow's tracking REST API 2.0 under <c>/api/2.0/mlflow/</c>, so that MLflow's clients (Python, Java, R, or plain
/// HTTP) log to Tracker: set <c>MLFLOW_TRACKING_URI</c> to the server's address. Requests and responses have
/// MLflow's shapes, errors are <c>{"error_code", "message"}</c> with MLflow's codes; the work is
/// Core's tracking services', after MLflow's own rules (<see cref="MlflowTracking"/>).
/// </summary>
public static class MlflowEndpoints
{
    /// <summary>The path every MLflow endpoint is under.</summary>
    public const string Prefix = "/api/2.0/mlflow";

    /// <summary>MLflow's limit on the body of a log-batch request, in bytes.</summary>
    public const int MaxBatchRequestBytes = 1_000_000;

    /// <summary>
    /// The endpoints that MLflow's clients call with POST although they only read (the searches, and the old list);
    /// the API key rule counts them as reads.
    /// </summary>
    public static readonly IReadOnlySet<string> ReadsByPost = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        Prefix + "/experiments/search",
        Prefix + "/experiments/list",
        Prefix + "/runs/search",
    };

    private static readonly MlflowResponses.Empty Nothing = new();

    /// <summary>Maps every endpoint, and an MLflow-shaped 404 for any other path under <see cref="Prefix"/>.</summary>
    public static IEndpointRouteBuilder MapMlflowApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix);

        // Experiments
        Post(api, "/experiments/create", "Create an experiment (name, artifact_location, tags)", typeof(MlflowRequestBodies.CreateExperiment), async (r, m) => new MlflowResponses.CreateExperiment(
            Unwrap(await m.CreateExperimentAsync(r.Required("name"), r.Text("artifact_location"), r.KeyValues("tags"))).Id));
        Get(api, "/experiments/get", "Get an experiment (experiment_id)", [new("experiment_id", Required: true)], async (r, m) => new MlflowResponses.GetExperiment(
            MlflowViews.Experiment(Unwrap(await m.Registry.GetExperimentAsync(r.Required("experiment_id"))), m.Registry)));
        Get(api, "/experiments/get-by-name", "Get an experiment by name (experiment_name)", [new("experiment_name", Required: true)], async (r, m) => new MlflowResponses.GetExperiment(
            MlflowViews.Experiment(Unwrap(await m.Registry.GetExperimentByNameAsync(r.Required("experiment_name"))), m.Registry)));
        Func<MlflowRequest, MlflowTracking, Task<MlflowResponses.SearchExperiments>> search = (r, m) => ExperimentsAsync(m, new ExperimentSearch
        {
            Filter = r.Text("filter"),
            ViewType = r.View("view_type"),
            MaxResults = r.Int("max_results") ?? MlflowRules.DefaultSearchResults,
            OrderBy = r.TextList("order_by"),
            PageToken = r.Text("page_token"),
        });
        Post(api, "/experiments/search", "Search experiments (filter, view_type, max_results, order_by, page_token)", typeof(MlflowRequestBodies.SearchExperiments), search);
        Get(api, "/experiments/search", "Search experiments (filter, view_type, max_results, order_by, page_token)",
            [new("filter"), new("view_type"), new("max_results", JsonSchemaType.Integer), new("order_by"), new("page_token")], search);
        Get(api, "/experiments/list", "List experiments, as older clients do (view_type, max_results, page_token)",
            [new("view_type"), new("max_results", JsonSchemaType.Integer), new("page_token")], (r, m) => ExperimentsAsync(m, new ExperimentSearch
        {
            ViewType = r.View("view_type"),
            MaxResults = r.Int("max_results") ?? MlflowRules.DefaultSearchResults,
            PageToken = r.Text("page_token"),
        }));
        Post(api, "/experiments/update", "Rename an experiment (experiment_id, new_name)", typeof(MlflowRequestBodies.UpdateExperiment), async (r, m) =>
        {
            string id = r.Required("experiment_id");
            Unwrap(r.Text("new_name") is { Length: > 0 } name ? await m.Registry.RenameExperimentAsync(id, name) : await m.Registry.GetExperimentAsync(id));
            return Nothing;
        });
        Post(api, "/experiments/delete", "Delete an experiment and its runs (experiment_id)", typeof(MlflowRequestBodies.ExperimentReference), async (r, m) => Done(await m.Registry.DeleteExperimentAsync(r.Required("experiment_id"))));
        Post(api, "/experiments/restore", "Restore a deleted experiment and its runs (experiment_id)", typeof(MlflowRequestBodies.ExperimentReference), async (r, m) => Done(await m.Registry.RestoreExperimentAsync(r.Required("experiment_id"))));
        Post(api, "/experiments/set-experiment-tag", "Set an experiment tag (experiment_id, key, value)", typeof(MlflowRequestBodies.SetExperimentTag), async (r, m) =>
            Done(await m.SetExperimentTagAsync(r.Required("experiment_id"), r.Required("key"), r.Text("value") ?? "")));
        Post(api, "/experiments/delete-experiment-tag", "Delete an experiment tag (experiment_id, key)", typeof(MlflowRequestBodies.DeleteExperimentTag), async (r, m) => Done(await m.Registry.DeleteExperimentTagAsync(r.Required("experiment_id"), r.Required("key"))));

        // Runs
        Post(api, "/runs/create", "Start a run (experiment_id, user_id, run_name, start_time, tags)", typeof(MlflowRequestBodies.CreateRun), async (r, m) => new MlflowResponses.GetRun(MlflowViews.Run(Unwrap(await m.CreateRunAsync(
            r.Text("experiment_id"), r.Text("user_id"), r.Text("run_name"), r.Long("start_time"), r.KeyValues("tags"))))));
        Get(api, "/runs/get", "Get a run (run_id)", [new("run_id", Required: true), new("run_uuid")], async (r, m) => new MlflowResponses.GetRun(MlflowViews.Run(Unwrap(await m.Registry.GetRunAsync(r.RunId())))));
        Post(api, "/runs/update", "Update a run's status, end time or name (run_id, status, end_time, run_name)", typeof(MlflowRequestBodies.UpdateRun), async (r, m) => new MlflowResponses.UpdateRun(MlflowViews.Info(
            Unwrap(await m.UpdateRunAsync(r.RunId(), r.Status("status"), r.Long("end_time"), r.Text("run_name"))))));
        Post(api, "/runs/delete", "Delete a run (run_id)", typeof(MlflowRequestBodies.RunReference), async (r, m) => Done(await m.Registry.DeleteRunAsync(r.Required("run_id"))));
        Post(api, "/runs/restore", "Restore a deleted run (run_id)", typeof(MlflowRequestBodies.RunReference), async (r, m) => Done(await m.Registry.RestoreRunAsync(r.Required("run_id"))));
        Post(api, "/runs/search", "Search runs (experiment_ids, filter, run_view_type, max_results, order_by, page_token)", typeof(MlflowRequestBodies.SearchRuns), async (r, m) =>
        {
            var page = Unwrap(await MlflowSearch.RunsAsync(m.Queries, new RunSearch
            {
                ExperimentIds = r.TextList("experiment_ids"),
                Filter = r.Text("filter"),
                ViewType = r.View("run_view_type"),
                MaxResults = r.Int("max_results") ?? MlflowRules.DefaultSearchResults,
                OrderBy = r.TextList("order_by"),
                PageToken = r.Text("page_token"),
            }));
            return new MlflowResponses.SearchRuns(page.Items.Select(MlflowViews.Run).ToList(), page.NextPageToken);
        });
        Post(api, "/runs/log-metric", "Log one metric value (run_id, key, value, timestamp, step)", typeof(MlflowRequestBodies.LogMetric), async (r, m) => Done(await m.LogBatchAsync(r.RunId(), [Metric(r)], [], [])));
        Post(api, "/runs/log-batch", "Log metrics, params and tags at once (run_id, metrics, params, tags)", typeof(MlflowRequestBodies.LogBatch), async (r, m) =>
            Done(await m.LogBatchAsync(r.Required("run_id"), r.Objects("metrics").Select(Metric).ToList(), r.KeyValues("params"), r.KeyValues("tags"))),
            MaxBatchRequestBytes);
        Post(api, "/runs/log-parameter", "Log a param (run_id, key, value)", typeof(MlflowRequestBodies.LogParam), async (r, m) => Done(await m.LogBatchAsync(r.RunId(), [], [new(r.Required("key"), r.Text("value") ?? "")], [])));
        Post(api, "/runs/set-tag", "Set a run tag (run_id, key, value)", typeof(MlflowRequestBodies.SetTag), async (r, m) => Done(await m.LogBatchAsync(r.RunId(), [], [], [new(r.Required("key"), r.Text("value") ?? "")])));
        Post(api, "/runs/delete-tag", "Delete a run tag (run_id, key)", typeof(MlflowRequestBodies.DeleteTag), async (r, m) => Done(await m.Registry.DeleteTagAsync(r.Required("run_id"), r.Required("key"))));

        // Metrics and artifacts
        Get(api, "/metrics/get-history", "A metric's history (run_id, metric_key, max_results, page_token)",
            [new("run_id", Required: true), new("run_uuid"), new("metric_key", Required: true), new("max_results", JsonSchemaType.Integer), new("page_token")], async (r, m) =>
        {
            var page = Unwrap(await m.Queries.GetMetricHistoryAsync(r.RunId(), r.Required("metric_key"), r.Int("max_results"), r.Text("page_token")));
            return new MlflowResponses.MetricHistory(page.Items.Select(MlflowViews.Metric).ToList(), page.NextPageToken);
        });
        Get(api, "/artifacts/list", "List a run's artifacts (run_id, path)", [new("run_id", Required: true), new("run_uuid"), new("path"), new("page_token")], async (r, m) =>
        {
            var listing = Unwrap(await m.Queries.ListArtifactsAsync(r.RunId(), r.Text("path")));
            return new MlflowResponses.Artifacts(listing.RootUri, listing.Files.Select(MlflowViews.File).ToList(), null);
        });

        api.Map("/{**path}", (HttpRequest request) => Error(MlflowErrorCodes.EndpointNotFound,
            $"No API endpoint {request.Method} {request.Path}; see MLflow's REST API 2.0 for the supported ones."))
            .ExcludeFromDescription();
        return app;
    }

    private static async Task<MlflowResponses.SearchExperiments> ExperimentsAsync(MlflowTracking m, ExperimentSearch search)
    {
        var page = Unwrap(await MlflowSearch.ExperimentsAsync(m.Queries, search));
        return new MlflowResponses.SearchExperiments(page.Items.Select(e => MlflowViews.Experiment(e, m.Registry)).ToList(), page.NextPageToken);
    }

    // Metrics: key, value and timestamp are required (MLflow's log-metric schema), step defaults to 0.
    private static LoggedMetric Metric(MlflowRequest r) => new(
        r.Required("key"),
        r.Double("value") ?? throw MlflowRequest.Missing("value"),
        r.Long("timestamp") ?? throw MlflowRequest.Missing("timestamp"),
        r.Long("step") ?? 0);

    private static MlflowResponses.Empty Done<T>(TrackingResult<T> result)
    {
        Unwrap(result);
        return Nothing;
    }

    private static void Post<TResponse>(RouteGroupBuilder api, string path, string summary, Type body, Func<MlflowRequest, MlflowTracking, Task<TResponse>> handle,
        int maxBytes = int.MaxValue) where TResponse : class =>
        Map(api, HttpMethods.Post, path, handle, maxBytes).WithSummary(summary).DocumentsBody(body, "application/json");

    private static void Get<TResponse>(RouteGroupBuilder api, string path, string summary, IReadOnlyList<QueryField> query,
        Func<MlflowRequest, MlflowTracking, Task<TResponse>> handle) where TResponse : class =>
        Map(api, HttpMethods.Get, path, handle, int.MaxValue).WithSummary(summary).DocumentsQuery(query);

    // Every endpoint answers its response type or MLflow's error body; the OpenAPI document says so, under the tag "MLflow".
    private static RouteHandlerBuilder Map<TResponse>(RouteGroupBuilder api, string method, string path, Func<MlflowRequest, MlflowTracking, Task<TResponse>> handle,
        int maxBytes) where TResponse : class =>
        api.MapMethods(path, [method], async (HttpContext context, MlflowTracking mlflow, ILoggerFactory loggers) =>
        {
            try
            {
                var request = await MlflowRequest.ReadAsync(context.Request, maxBytes, context.RequestAborted);
                return Results.Json(await handle(request, mlflow), MlflowJson.Options);
            }
            catch (MlflowException e)
            {
                return Error(e.Code, e.Message);
            }
            catch (Exception e) when (StoreUnavailableException.Recognise(e) is not null)
            {
                throw; // 503 with Retry-After: StoreUnavailableProblems
            }
            catch (Exception e) when (e is not OperationCanceledException and not BadHttpRequestException) // the latter: BadRequestProblems
            {
                loggers.CreateLogger(typeof(MlflowEndpoints)).LogError(e, "MLflow API {Method} {Path} failed", method, path);
                return Error(MlflowErrorCodes.InternalError, $"The server failed: {e.Message}");
            }
        })
        .WithName($"Mlflow{(method == HttpMethods.Get ? "Get" : "Post")}{string.Concat(path.Split('/', '-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]))}")
        .WithTags("MLflow")
        .WithDescription($"MLflow's tracking REST API 2.0 `{method} {path}` (fields as MLflow documents them{(method == HttpMethods.Get ? ", in the query string" : ", in a JSON body")}). Errors are MLflow's `{{ error_code, message }}`.")
        .Produces<TResponse>(StatusCodes.Status200OK)
        .Produces<MlflowError>(StatusCodes.Status400BadRequest)
        .Produces<MlflowError>(StatusCodes.Status404NotFound);

    /// <summary>An error in MLflow's shape, with the status its code travels with.</summary>
    internal static IResult Error(string code, string message) =>
        Results.Json(new MlflowError(code, message), MlflowJson.Options, statusCode: MlflowErrorCodes.StatusOf(code));
}
