using System.Text.Json;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;

namespace Tracker.Server.Api;

/// <summary>The runs browser's API: every trial of every experiment, filtered and sorted by the store; export; annotations.</summary>
public static class TrialQueryEndpoints
{
    /// <summary>A trial's tags and/or notes to set; a missing field is left as it is, empty notes clear them.</summary>
    /// <param name="Tags">The new tags, or <c>null</c>.</param>
    /// <param name="Notes">The new notes, or <c>null</c>.</param>
    public sealed record AnnotationPatch(List<string>? Tags, string? Notes);

    /// <summary>Maps <c>GET /trials</c>, <c>GET /trials/export</c> and <c>PATCH /trials/{id}</c> onto <paramref name="api"/>.</summary>
    public static RouteGroupBuilder MapTrialQueries(this RouteGroupBuilder api)
    {
        api.MapGet("/trials", QueryTrialsAsync)
            .WithName("QueryTrials").WithSummary("Search trials").WithTags("Trials")
            .WithDescription("The trials of every experiment, filtered, sorted and paged: `experiment`, `model`, `strategy`, `state`, `tag`, `q`, "
                + "`param.<name>=low..high`, `metric.<key>=low..high`, `sort` (e.g. `metric:val_f1_macro`), `desc`, `page`, `pageSize`.")
            .Produces<TrialQueryResult>().ProducesValidationProblem();

        api.MapGet("/trials/export", (HttpRequest request, ITrialStore store) =>
        {
            var parse = Parse(request);
            string format = request.Query["format"].ToString().Trim().ToLowerInvariant();
            if (format.Length == 0) format = "csv";
            if (!TrialExport.Formats.Contains(format))
                parse = parse with { Errors = new Dictionary<string, string[]>(parse.Errors) { ["format"] = [$"'{format}' is not an export format; use csv or json."] } };
            if (!parse.Succeeded) return BadFilter(parse);
            var query = parse.Query;
            return format == "json"
                ? Results.Stream(stream => TrialExport.WriteJsonAsync(stream, store, query, request.HttpContext.RequestAborted), "application/json", "trials.json")
                : Results.Stream(stream => TrialExport.WriteCsvAsync(stream, store, query, request.HttpContext.RequestAborted), "text/csv; charset=utf-8", "trials.csv");
        })
        .WithName("ExportTrials").WithSummary("Export trials").WithTags("Trials")
        .WithDescription("Every trial the query selects (the same parameters as `GET /api/trials`, paging ignored), as CSV or JSON (`format`).")
        .Produces<IReadOnlyList<TrialExport.Row>>(StatusCodes.Status200OK, "application/json", "text/csv").ProducesValidationProblem();

        api.MapPatch("/trials/{id}", async (string id, HttpRequest request, ITrialStore store, MetricFeed feed) =>
        {
            AnnotationPatch? patch;
            try
            {
                patch = await request.ReadFromJsonAsync<AnnotationPatch>(TrackerJson.Options);
            }
            catch (JsonException e)
            {
                return Results.Problem(statusCode: 400, title: "The request body is not a valid annotation patch.",
                    detail: $"Send {{ \"tags\": [\"...\"], \"notes\": \"...\" }}. {e.Message}");
            }
            catch (InvalidOperationException e)
            {
                return Results.Problem(statusCode: 415, title: "Expected a JSON body.", detail: e.Message);
            }
            if (patch is null || patch.Tags is null && patch.Notes is null)
                return Results.Problem(statusCode: 400, title: "Nothing to change.", detail: "Send tags, notes or both.");
            if (patch.Tags?.Any(t => t is null) == true)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["tags"] = ["Tags must be strings."] });
            var trial = await store.UpdateTrialAnnotationsAsync(id, patch.Tags, patch.Notes);
            if (trial is null)
                return Results.Problem(statusCode: 404, title: $"No trial '{id}'.", detail: $"There is no trial with id '{id}'.");
            feed.Publish(new TrialChanged(trial));
            return Results.Ok(trial);
        })
        .WithName("AnnotateTrial").WithSummary("Set a trial's tags and notes").WithTags("Trials")
        .DocumentsBody<AnnotationPatch>("application/json")
        .Produces<Trial>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    /// <summary>One page of the trials that the request's query string selects (see <see cref="TrialQueryString"/>); also <c>GET /api/runs</c>.</summary>
    internal static async Task<IResult> QueryTrialsAsync(HttpRequest request, ITrialStore store)
    {
        var parse = Parse(request);
        return parse.Succeeded ? Results.Ok(await store.QueryTrialsAsync(parse.Query, request.HttpContext.RequestAborted)) : BadFilter(parse);
    }

    private static TrialQueryParse Parse(HttpRequest request) =>
        TrialQueryString.Parse(request.Query.SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string?>(p.Key, v))));

    private static IResult BadFilter(TrialQueryParse parse) =>
        Results.ValidationProblem(parse.Errors, title: "The trial query is invalid.",
            detail: string.Join(" ", parse.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
}
