using Tracker.Core.Tracking;
using static Tracker.Server.Api.Mlflow.MlflowException;

namespace Tracker.Server.Api.Mlflow;

/// <summary>
/// MLflow's tracking REST API 2.0 under <c>/api/2.0/mlflow/</c>, so that MLflow's clients (Python, Java, R, or plain
/// HTTP) log to Tracker: set <c>MLFLOW_TRACKING_URI</c> to the server's address. Requests and responses have
/// MLflow's shapes, errors are <c>{"error_code", "message"}</c> with MLflow's codes; the work is
/// <see cref="RunLog"/>'s.
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
        Post(api, "/experiments/create", (r, log) => new MlflowResponses.CreateExperiment(
            Unwrap(log.CreateExperiment(r.Required("name"), r.Text("artifact_location"), r.KeyValues("tags"))).Id));
        Get(api, "/experiments/get", (r, log) => new MlflowResponses.GetExperiment(
            MlflowViews.Experiment(Unwrap(log.GetExperiment(r.Required("experiment_id"))), log)));
        Get(api, "/experiments/get-by-name", (r, log) => new MlflowResponses.GetExperiment(
            MlflowViews.Experiment(Unwrap(log.GetExperimentByName(r.Required("experiment_name"))), log)));
        Func<MlflowRequest, RunLog, object> search = (r, log) => Experiments(log, new ExperimentSearch
        {
            Filter = r.Text("filter"),
            ViewType = r.View("view_type"),
            MaxResults = r.Int("max_results") ?? RunLog.DefaultSearchResults,
            OrderBy = r.TextList("order_by"),
            PageToken = r.Text("page_token"),
        });
        Post(api, "/experiments/search", search);
        Get(api, "/experiments/search", search);
        Get(api, "/experiments/list", (r, log) => Experiments(log, new ExperimentSearch
        {
            ViewType = r.View("view_type"),
            MaxResults = r.Int("max_results") ?? RunLog.DefaultSearchResults,
            PageToken = r.Text("page_token"),
        }));
        Post(api, "/experiments/update", (r, log) =>
        {
            string id = r.Required("experiment_id");
            Unwrap(r.Text("new_name") is { Length: > 0 } name ? log.RenameExperiment(id, name) : log.GetExperiment(id));
            return Nothing;
        });
        Post(api, "/experiments/delete", (r, log) => Done(log.DeleteExperiment(r.Required("experiment_id"))));
        Post(api, "/experiments/restore", (r, log) => Done(log.RestoreExperiment(r.Required("experiment_id"))));
        Post(api, "/experiments/set-experiment-tag", (r, log) =>
            Done(log.SetExperimentTag(r.Required("experiment_id"), r.Required("key"), r.Text("value") ?? "")));
        Post(api, "/experiments/delete-experiment-tag", (r, log) => Done(log.DeleteExperimentTag(r.Required("experiment_id"), r.Required("key"))));

        // Runs
        Post(api, "/runs/create", (r, log) => new MlflowResponses.GetRun(MlflowViews.Run(Unwrap(log.CreateRun(new RunCreate
        {
            ExperimentId = r.Text("experiment_id"),
            UserId = r.Text("user_id"),
            RunName = r.Text("run_name"),
            StartTime = r.Long("start_time"),
            Tags = r.KeyValues("tags"),
        })))));
        Get(api, "/runs/get", (r, log) => new MlflowResponses.GetRun(MlflowViews.Run(Unwrap(log.GetRun(r.RunId())))));
        Post(api, "/runs/update", (r, log) => new MlflowResponses.UpdateRun(MlflowViews.Info(
            Unwrap(log.UpdateRun(r.RunId(), r.Status("status"), r.Long("end_time"), r.Text("run_name"))))));
        Post(api, "/runs/delete", (r, log) => Done(log.DeleteRun(r.Required("run_id"))));
        Post(api, "/runs/restore", (r, log) => Done(log.RestoreRun(r.Required("run_id"))));
        Post(api, "/runs/search", (r, log) =>
        {
            var page = Unwrap(log.SearchRuns(new RunSearch
            {
                ExperimentIds = r.TextList("experiment_ids"),
                Filter = r.Text("filter"),
                ViewType = r.View("run_view_type"),
                MaxResults = r.Int("max_results") ?? RunLog.DefaultSearchResults,
                OrderBy = r.TextList("order_by"),
                PageToken = r.Text("page_token"),
            }));
            return new MlflowResponses.SearchRuns(page.Items.Select(MlflowViews.Run).ToList(), page.NextPageToken);
        });
        Post(api, "/runs/log-metric", (r, log) => Done(log.LogMetric(r.RunId(), Metric(r))));
        Post(api, "/runs/log-batch", (r, log) =>
            Done(log.LogBatch(r.Required("run_id"), r.Objects("metrics").Select(Metric).ToList(), r.KeyValues("params"), r.KeyValues("tags"))),
            MaxBatchRequestBytes);
        Post(api, "/runs/log-parameter", (r, log) => Done(log.LogParam(r.RunId(), r.Required("key"), r.Text("value") ?? "")));
        Post(api, "/runs/set-tag", (r, log) => Done(log.SetTag(r.RunId(), r.Required("key"), r.Text("value") ?? "")));
        Post(api, "/runs/delete-tag", (r, log) => Done(log.DeleteTag(r.Required("run_id"), r.Required("key"))));

        // Metrics and artifacts
        Get(api, "/metrics/get-history", (r, log) =>
        {
            var page = Unwrap(log.GetMetricHistory(r.RunId(), r.Required("metric_key"), r.Int("max_results"), r.Text("page_token")));
            return new MlflowResponses.MetricHistory(page.Items.Select(MlflowViews.Metric).ToList(), page.NextPageToken);
        });
        Get(api, "/artifacts/list", (r, log) =>
        {
            var listing = Unwrap(log.ListArtifacts(r.RunId(), r.Text("path")));
            return new MlflowResponses.Artifacts(listing.RootUri, listing.Files.Select(MlflowViews.File).ToList(), null);
        });

        api.Map("/{**path}", (HttpRequest request) => Error(MlflowErrorCodes.EndpointNotFound,
            $"No API endpoint {request.Method} {request.Path}; see MLflow's REST API 2.0 for the supported ones."));
        return app;
    }

    private static MlflowResponses.SearchExperiments Experiments(RunLog log, ExperimentSearch search)
    {
        var page = Unwrap(log.SearchExperiments(search));
        return new MlflowResponses.SearchExperiments(page.Items.Select(e => MlflowViews.Experiment(e, log)).ToList(), page.NextPageToken);
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

    private static void Post(RouteGroupBuilder api, string path, Func<MlflowRequest, RunLog, object> handle, int maxBytes = int.MaxValue) =>
        Map(api, HttpMethods.Post, path, handle, maxBytes);

    private static void Get(RouteGroupBuilder api, string path, Func<MlflowRequest, RunLog, object> handle) =>
        Map(api, HttpMethods.Get, path, handle, int.MaxValue);

    private static void Map(RouteGroupBuilder api, string method, string path, Func<MlflowRequest, RunLog, object> handle, int maxBytes) =>
        api.MapMethods(path, [method], async (HttpContext context, RunLog log, ILoggerFactory loggers) =>
        {
            try
            {
                var request = await MlflowRequest.ReadAsync(context.Request, maxBytes, context.RequestAborted);
                return Results.Json(handle(request, log), MlflowJson.Options);
            }
            catch (MlflowException e)
            {
                return Error(e.Code, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                loggers.CreateLogger(typeof(MlflowEndpoints)).LogError(e, "MLflow API {Method} {Path} failed", method, path);
                return Error(MlflowErrorCodes.InternalError, $"The server failed: {e.Message}");
            }
        });

    /// <summary>An error in MLflow's shape, with the status its code travels with.</summary>
    internal static IResult Error(string code, string message) =>
        Results.Json(new MlflowError(code, message), MlflowJson.Options, statusCode: MlflowErrorCodes.StatusOf(code));
}
