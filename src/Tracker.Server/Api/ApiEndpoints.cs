using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Analysis;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;
using Tracker.Server.Api.Mlflow;
using Tracker.Server.Security;

namespace Tracker.Server.Api;

/// <summary>The REST API: JSON in Tracker's convention, problem details on every error.</summary>
public static class ApiEndpoints
{
    /// <summary>A plugin as the API shows it: the catalog entry plus what it declares.</summary>
    public sealed record PluginView(PluginInfo Info, IReadOnlyList<ParameterSpec>? Hyperparameters, IReadOnlyList<ParameterSpec>? Options);

    /// <summary>A data set provider and its options.</summary>
    public sealed record DatasetView(string Name, string Description, IReadOnlyList<ParameterSpec> Options);

    /// <summary>A page of a trial's metric series, by key.</summary>
    /// <param name="TrialId">The trial.</param>
    /// <param name="Series">The page's points by key.</param>
    /// <param name="NextPageToken">Where the next page starts (pass it as <c>pageToken</c>), or <c>null</c> after the last.</param>
    public sealed record MetricSeriesView(string TrialId, IReadOnlyDictionary<string, IReadOnlyList<MetricPointView>> Series, string? NextPageToken = null);

    /// <summary>The most points one page of <c>GET /api/trials/{id}/metrics</c> holds, and its default page size.</summary>
    public const int MaxMetricResults = 25_000;

    /// <summary>A page token of the trial metrics: the key (escaped, so without <c>@</c>), <c>@</c>, and the cursor in that key's series.</summary>
    internal static string MetricToken(string key, MetricCursor cursor) =>
        Uri.EscapeDataString(key) + "@" + (cursor == MetricCursor.Start ? "" : cursor.ToToken());

    /// <summary>Reads a token written by <see cref="MetricToken"/>.</summary>
    internal static bool TryParseMetricToken(string token, out string key, out MetricCursor cursor)
    {
        (key, cursor) = ("", MetricCursor.Start);
        int at = token.IndexOf('@');
        if (at <= 0 || !MetricCursor.TryParse(token[(at + 1)..], out cursor)) return false;
        try
        {
            key = Uri.UnescapeDataString(token[..at]);
        }
        catch (UriFormatException)
        {
            return false;
        }
        return key.Length > 0;
    }

    /// <summary>One point of a series.</summary>
    public sealed record MetricPointView(int Step, double Value, DateTimeOffset Timestamp);

    /// <summary>A trial's predictions, with links to the stored sample thumbnails.</summary>
    public sealed record PredictionsView(string TrialId, string Split, IReadOnlyList<string> ClassNames, IReadOnlyList<Prediction> Items, IReadOnlyList<SampleView> Samples);

    /// <summary>A prediction with a thumbnail.</summary>
    public sealed record SampleView(Prediction Prediction, string ImageUrl);

    /// <summary>Maps every endpoint. Each write needs an editor's key at least (<see cref="RolePolicyConventions.WritesNeedEditor{TBuilder}"/>); a few need an admin's.</summary>
    public static IEndpointRouteBuilder MapTrackerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" }))
            .WithName("Health").WithSummary("Liveness check").WithTags("Server");
        var routes = app.MapGroup("").WritesNeedEditor();
        routes.MapMlflowApi();

        var api = routes.MapGroup("/api");
        api.MapTrialQueries();
        api.MapRunLogging();
        api.MapApiKeys();
        api.MapBackup();
        api.MapGet("/plugins", (PluginCatalog catalog, PluginViews views) => catalog.Entries.Select(e => new PluginView(views.Public(e),
            e.Status == PluginStatus.Active && e.Kind == PluginKind.Model ? ExperimentService.HyperparametersOf(catalog.FindModel(e.Name)!) : null,
            e.Status == PluginStatus.Active && e.Kind == PluginKind.Strategy ? catalog.FindStrategy(e.Name)!.Options : null)))
            .WithName("ListPlugins").WithSummary("Plugins").WithTags("Catalog")
            .WithDescription("Every model, strategy and pruner plugin the server found, with its status and, for active ones, the hyperparameters or options it declares.");

        api.MapGet("/datasets", (DatasetCatalog datasets) => datasets.Providers.Select(p => new DatasetView(p.Name, p.Description, p.Options)))
            .WithName("ListDatasets").WithSummary("Data sets").WithTags("Catalog")
            .WithDescription("The data set providers experiments can train on, with their options.");

        api.MapPost("/experiments", async (HttpRequest request, ExperimentService experiments, CancellationToken ct) =>
        {
            ExperimentSpec? spec;
            try
            {
                spec = await request.ReadFromJsonAsync<ExperimentSpec>(TrackerJson.Options);
            }
            catch (JsonException e)
            {
                return Results.Problem(statusCode: 400, title: "The request body is not a valid experiment spec.",
                    detail: $"{e.Message}{(e.Path is null ? "" : $" (at {e.Path})")}");
            }
            catch (NotSupportedException e)
            {
                // A polymorphic value without its "type" (e.g. a search-space parameter {}): the serializer cannot
                // pick the type to build.
                return Results.Problem(statusCode: 400, title: "The request body is not a valid experiment spec.",
                    detail: $"A value is missing its \"type\" or names no known type: {e.Message}");
            }
            catch (InvalidOperationException e)
            {
                return Results.Problem(statusCode: 415, title: "Expected a JSON body.", detail: e.Message);
            }
            var result = await experiments.CreateAsync(spec, ct);
            return result.Succeeded
                ? Results.Created($"/api/experiments/{result.Experiment!.Id}", result.Experiment)
                : Results.ValidationProblem(result.Errors, title: "The experiment spec is invalid.");
        })
        .WithName("CreateExperiment").WithSummary("Start an experiment").WithTags("Experiments")
        .WithDescription("Starts a hyperparameter search (or an ask/tell or logged experiment) from its spec: model, strategy, data set, search space, budget.")
        .DocumentsBody<ExperimentSpec>("application/json")
        .Produces<Experiment>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        api.MapGet("/experiments", async (TrackerStores stores, CancellationToken ct) =>
        {
            var summaries = new List<ExperimentSummary>();
            foreach (var e in await stores.Experiments.ListExperimentsAsync(ct))
                summaries.Add(await ExperimentSummary.ReadAsync(e, stores.Trials, ct));
            return summaries;
        })
            .WithName("ListExperiments").WithSummary("Experiments").WithTags("Experiments")
            .WithDescription("Every experiment, newest first, with trial counts and its best trial.");

        api.MapGet("/experiments/{id}", async (string id, TrackerStores stores, CancellationToken ct) =>
            await stores.Experiments.GetExperimentAsync(id, ct) is { } e
                ? Results.Ok(await ExperimentSummary.ReadAsync(e, stores.Trials, ct)) : NotFound("experiment", id))
            .WithName("GetExperiment").WithSummary("An experiment").WithTags("Experiments")
            .Produces<ExperimentSummary>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/experiments/{id}", async (string id, ExperimentService experiments, ILoggerFactory loggers, CancellationToken ct) =>
        {
            var deletion = await experiments.DeleteAsync(id, ct);
            switch (deletion.Outcome)
            {
                case ExperimentDeletionOutcome.NotFound:
                    return NotFound("experiment", id);
                case ExperimentDeletionOutcome.StillRunning:
                    return Results.Problem(statusCode: 409, title: "Cancel the experiment first.",
                        detail: $"Experiment '{id}' is {deletion.Experiment!.State}: cancel it (POST /api/experiments/{id}/cancel), then delete it.");
                case ExperimentDeletionOutcome.TrialsStillRunning:
                    return Results.Problem(statusCode: 409, title: "Its trials are still running.",
                        detail: $"Experiment '{id}' has trials that have not ended yet (cancelled ones stop at their next batch); try again when they have.");
            }
            var deleted = deletion.Deleted!;
            var logger = loggers.CreateLogger(typeof(ApiEndpoints));
            logger.LogInformation("Experiment {Id} ('{Name}') deleted with its {Trials} trials", id, deleted.Experiment.Spec.Name, deleted.TrialIds.Count);
            if (deleted.FoldersLeft.Count > 0)
                logger.LogWarning("The files of {Count} deleted trials could not be removed: {Folders}", deleted.FoldersLeft.Count, string.Join(", ", deleted.FoldersLeft));
            return Results.NoContent();
        })
        .RequireAuthorization(TrackerPolicies.Admin)
        .WithName("DeleteExperiment").WithSummary("Delete an experiment for good").WithTags("Experiments")
        .WithDescription("Deletes the experiment with its trials and everything they kept: metric series, reports, predictions and sample images, "
            + "artifact files and records. It cannot be undone. Needs an admin's key. A running or paused experiment is refused with 409: cancel it first. "
            + "(MLflow's `experiments/delete` only marks an experiment deleted, and `experiments/restore` brings it back.)")
        .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden)
        .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        api.MapPost("/experiments/{id}/sensitivity", async (string id, SensitivityRequest body, ExperimentService experiments, CancellationToken ct) =>
        {
            var result = await experiments.StartSensitivityStudyAsync(id, body.Parameter ?? "learning_rate", body.Factors, body.Seeds ?? 3, ct);
            return result.Succeeded
                ? Results.Created($"/api/experiments/{result.Experiment!.Id}", result.Experiment)
                : Results.ValidationProblem(result.Errors, title: "The sensitivity study cannot start.");
        })
        .WithName("StartSensitivityStudy").WithSummary("Start a sensitivity study").WithTags("Experiments")
        .WithDescription("Re-trains an experiment's best trial with one parameter scaled by each factor, over several seeds.")
        .Produces<Experiment>(StatusCodes.Status201Created).ProducesValidationProblem();

        api.MapGet("/experiments/{id}/sensitivity", async (string id, string? metric, TrackerStores stores, CancellationToken ct) =>
        {
            if (await stores.Experiments.GetExperimentAsync(id, ct) is not { Spec.Sensitivity: { } study } e) return NotFound("sensitivity study", id);
            var trials = await stores.Trials.ListTrialsAsync(id, ct);
            string shown = metric ?? SensitivityMetric(trials);
            return Results.Ok(new
            {
                experimentId = id,
                model = e.Spec.Model,
                parameter = study.Parameter,
                baseValue = study.BaseValue,
                metric = shown,
                points = SensitivityStudy.Summarise(study, trials, shown),
            });
        })
            .WithName("GetSensitivityStudy").WithSummary("A sensitivity study's results").WithTags("Experiments")
            .WithDescription("The metric (test macro-F1 by default) at each factor of the study's parameter, over its seeds.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/experiments/{id}/trials", async (string id, TrackerStores stores, CancellationToken ct) =>
            await stores.Experiments.GetExperimentAsync(id, ct) is null ? NotFound("experiment", id) : Results.Ok(await stores.Trials.ListTrialsAsync(id, ct)))
            .WithName("ListExperimentTrials").WithSummary("An experiment's trials").WithTags("Experiments")
            .Produces<IReadOnlyList<Trial>>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapPost("/experiments/{id}/cancel", async (string id, ExperimentService experiments, CancellationToken ct) =>
            await experiments.CancelAsync(id, ct) is { } e ? Results.Ok(e) : NotFound("experiment", id))
            .WithName("CancelExperiment").WithSummary("Cancel an experiment").WithTags("Experiments")
            .Produces<Experiment>().ProducesProblem(StatusCodes.Status404NotFound);

        // Pause: no new trials (running ones finish); resume: the search goes on where it stopped.
        api.MapPost("/experiments/{id}/pause", async (string id, ExperimentService experiments, CancellationToken ct) =>
            await experiments.PauseAsync(id, ct) is not { } e ? NotFound("experiment", id)
            : e.State == ExperimentState.Paused ? Results.Ok(e)
            : Results.Problem(statusCode: 409, title: "Only a running experiment can be paused.", detail: $"Experiment '{id}' is {e.State}."))
            .WithName("PauseExperiment").WithSummary("Pause an experiment").WithTags("Experiments")
            .WithDescription("No new trials start; running ones finish.")
            .Produces<Experiment>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        api.MapPost("/experiments/{id}/resume", async (string id, ExperimentService experiments, CancellationToken ct) =>
            await experiments.ResumeAsync(id, ct) is not { } e ? NotFound("experiment", id)
            : e.State == ExperimentState.Running ? Results.Ok(e)
            : Results.Problem(statusCode: 409, title: "Only a paused experiment can be resumed.", detail: $"Experiment '{id}' is {e.State}."))
            .WithName("ResumeExperiment").WithSummary("Resume a paused experiment").WithTags("Experiments")
            .Produces<Experiment>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        // Ask/tell for external workers.
        api.MapPost("/experiments/{id}/ask", async (string id, ExternalTrials external, CancellationToken ct) => ToResult(await external.AskAsync(id, ct)))
            .WithName("AskTrial").WithSummary("Ask for a trial to run").WithTags("Ask/tell")
            .WithDescription("An external worker asks the experiment's strategy for the next trial (parameters to try).")
            .Produces<AskAnswer>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/trials/{id}/report", async (string id, StepReport body, ExternalTrials external, CancellationToken ct) =>
            ToResult(await external.ReportAsync(id, body.Step, body.Metrics ?? [], ct), action => new { action }))
            .WithName("ReportTrialStep").WithSummary("Report a step of an external trial").WithTags("Ask/tell")
            .WithDescription("Records a step's metrics; the answer's `action` says whether to go on or stop (pruned).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/trials/{id}/complete", async (string id, CompletionReport? body, ExternalTrials external, CancellationToken ct) =>
            ToResult(await external.CompleteAsync(id, body?.Metrics ?? [], ct)))
            .WithName("CompleteTrial").WithSummary("Complete an external trial").WithTags("Ask/tell")
            .Produces<Trial>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/trials/{id}/fail", async (string id, FailureReport? body, ExternalTrials external, CancellationToken ct) => ToResult(await external.FailAsync(id, body?.Error, ct)))
            .WithName("FailTrial").WithSummary("Fail an external trial").WithTags("Ask/tell")
            .Produces<Trial>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        api.MapGet("/trials/{id}", async (string id, ITrialStore store, CancellationToken ct) =>
            await store.GetTrialAsync(id, ct) is { } t ? Results.Ok(t) : NotFound("trial", id))
            .WithName("GetTrial").WithSummary("A trial").WithTags("Trials")
            .Produces<Trial>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/trials/{id}/metrics", async (string id, string? key, int? maxResults, string? pageToken, TrackerStores stores, CancellationToken ct) =>
        {
            int size = maxResults ?? MaxMetricResults;
            if (size is < 1 or > MaxMetricResults)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["maxResults"] = [$"maxResults must be from 1 to {MaxMetricResults}; it was {size}."] },
                    title: "Invalid paging.");
            if (await stores.Trials.GetTrialAsync(id, ct) is null) return NotFound("trial", id);
            var keys = key is not null ? [key] : (await stores.Metrics.LatestMetricsAsync(id, ct)).Select(p => p.Key).ToList();
            int first = 0;
            var cursor = MetricCursor.Start;
            if (!string.IsNullOrEmpty(pageToken))
            {
                if (!TryParseMetricToken(pageToken, out var tokenKey, out cursor) || (first = keys.IndexOf(tokenKey)) < 0)
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["pageToken"] = [$"Invalid page token '{pageToken}': it must be a nextPageToken this request gave."] },
                        title: "Invalid paging.");
            }
            var series = new Dictionary<string, IReadOnlyList<MetricPointView>>();
            int left = size;
            string? next = null;
            for (int k = first; k < keys.Count && next is null; k++)
            {
                var points = new List<MetricPointView>();
                for (MetricCursor? at = k == first ? cursor : MetricCursor.Start; at is { } from;)
                {
                    if (left == 0)
                    {
                        next = MetricToken(keys[k], from);
                        break;
                    }
                    var page = await stores.Metrics.ReadMetricsAsync(id, keys[k], from, left, ct);
                    points.AddRange(page.Points.Select(p => new MetricPointView(p.Step, p.Value, p.Timestamp)));
                    left -= page.Points.Count;
                    at = page.Next;
                }
                if (points.Count > 0) series[keys[k]] = points;
            }
            return Results.Ok(new MetricSeriesView(id, series, next));
        })
            .WithName("GetTrialMetrics").WithSummary("A trial's metric series").WithTags("Trials")
            .WithDescription($"The trial's metric points (or one `key`'s), grouped by key, keys in ordinal order and points by step, in pages of at most `maxResults` points in all (1 to {MaxMetricResults}, the default). "
                + "When more points follow, `nextPageToken` is set: pass it back as `pageToken` (with the same `key`) for the next page.")
            .Produces<MetricSeriesView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/trials/{id}/report", async (string id, string? split, IEvaluationStore store, CancellationToken ct) =>
            await store.GetLatestReportAsync(id, split, ct) is { } r ? Results.Ok(r) : NotFound("classification report of trial", id))
            .WithName("GetTrialReport").WithSummary("A trial's classification report").WithTags("Trials")
            .WithDescription("The latest per-class precision, recall and F1 and the confusion matrix, of `split` (any when absent).")
            .Produces<EvaluationReport>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/trials/{id}/predictions", async (string id, IEvaluationStore store, CancellationToken ct) =>
            await store.GetPredictionsAsync(id, ct) is { } p
                ? Results.Ok(new PredictionsView(p.TrialId, p.Split, p.ClassNames, p.Items,
                    p.SampleIndices.Select(i => new SampleView(p.Items[i], $"/api/trials/{id}/predictions/images/{i}.png")).ToList()))
                : NotFound("predictions of trial", id))
            .WithName("GetTrialPredictions").WithSummary("A trial's test predictions").WithTags("Trials")
            .Produces<PredictionsView>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/trials/{id}/predictions/images/{index:int}.png", async (string id, int index, IEvaluationStore store, CancellationToken ct) =>
            await store.GetSampleImageAsync(id, index, ct) is { } png ? Results.File(png, "image/png") : NotFound($"sample image {index} of trial", id))
            .WithName("GetTrialSampleImage").WithSummary("A prediction sample's thumbnail").WithTags("Trials")
            .Produces(StatusCodes.Status200OK, contentType: "image/png").ProducesProblem(StatusCodes.Status404NotFound);

        // Grad-CAM of an image of the trial's evaluation split (the gallery's indices), for a class or the predicted one.
        api.MapGet("/trials/{id}/gradcam/{index:int}.png", async (string id, int index, int? @class, TrackerStores stores, PluginCatalog plugins, DatasetCatalog datasets, CancellationToken ct) =>
        {
            var result = await GradCam.ForTrialAsync(stores, plugins, datasets, id, index, @class, ct);
            return result.Succeeded ? Results.File(result.Png!, "image/png")
                : Results.Problem(statusCode: result.Status, title: "No class-activation map.", detail: result.Problem);
        })
        .WithName("GetTrialGradCam").WithSummary("Grad-CAM of an evaluation image").WithTags("Trials")
        .WithDescription("The class-activation map of image `index` for `class` (the predicted one when absent), over the image.")
        .Produces(StatusCodes.Status200OK, contentType: "image/png").ProducesProblem(StatusCodes.Status404NotFound);

        api.MapPost("/trials/{id}/cancel", async (string id, ITrialStore store, ExperimentService experiments, CancellationToken ct) =>
            await store.GetTrialAsync(id, ct) is not { } t ? NotFound("trial", id)
            : experiments.CancelTrial(id) ? Results.Accepted($"/api/trials/{id}", t)
            : Results.Problem(statusCode: 409, title: "The trial is not running.", detail: $"Trial '{id}' is {t.State}."))
            .WithName("CancelTrial").WithSummary("Cancel a running trial").WithTags("Trials")
            .Produces<Trial>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        return app;
    }

    /// <summary>What to re-train in a sensitivity study. Defaults: learning_rate, factors 0.1/1/10, 3 seeds.</summary>
    public sealed record SensitivityRequest(string? Parameter, IReadOnlyList<double>? Factors, int? Seeds);

    /// <summary>The metric sensitivity figures show: test macro-F1 where trials have a test split, else validation macro-F1.</summary>
    public static string SensitivityMetric(IEnumerable<Trial> trials) =>
        trials.Any(t => t.FinalMetrics.ContainsKey("test_f1_macro")) ? "test_f1_macro" : MetricNames.ValF1Macro;

    /// <summary>A step reported by an external worker.</summary>
    public sealed record StepReport(int Step, Dictionary<string, double>? Metrics);

    /// <summary>The final metrics of an external trial.</summary>
    public sealed record CompletionReport(Dictionary<string, double>? Metrics);

    /// <summary>Why an external trial failed.</summary>
    public sealed record FailureReport(string? Error);

    private static IResult ToResult<T>(ExternalResult<T> result, Func<T, object>? shape = null) =>
        result.Succeeded ? Results.Ok(shape is null ? result.Value : shape(result.Value!))
            : Results.Problem(statusCode: result.Status, title: result.Problem);

    private static IResult NotFound(string what, string id) =>
        Results.Problem(statusCode: 404, title: $"No {what} '{id}'.", detail: $"There is no {what} with id '{id}'.");
}
