using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tracker.Server.Api.Mlflow;

/// <summary>
/// What the OpenAPI document needs to describe MLflow's endpoints as they behave: snake_case field names (the
/// document is generated with the API's camelCase options, MLflow's bodies are not), and the request bodies and query
/// parameters that the endpoints read themselves.
/// </summary>
internal static class MlflowOpenApi
{
    /// <summary>
    /// Names MLflow's request and response schemas apart (<c>MlflowCreateRunRequest</c>, <c>MlflowCreateRunResponse</c>),
    /// since both kinds are nested records of the same short names; other types keep the default name.
    /// </summary>
    public static string? SchemaId(System.Text.Json.Serialization.Metadata.JsonTypeInfo type) => type.Type.DeclaringType switch
    {
        { } t when t == typeof(MlflowRequestBodies) => $"Mlflow{type.Type.Name}Request",
        { } t when t == typeof(MlflowResponses) => $"Mlflow{type.Type.Name}Response",
        _ => OpenApiOptions.CreateDefaultSchemaReferenceId(type),
    };

    /// <summary>Renames the properties of every schema of an MLflow type to the snake_case names on the wire.</summary>
    public static Task SnakeCaseSchemas(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type.Namespace != typeof(MlflowOpenApi).Namespace || schema.Properties is not { Count: > 0 } properties)
            return Task.CompletedTask;
        var naming = MlflowJson.Options.PropertyNamingPolicy!;
        if (schema.Required is { Count: > 0 } required) schema.Required = required.Select(naming.ConvertName).ToHashSet();
        var renamed = properties.ToDictionary(p => naming.ConvertName(p.Key), p => p.Value);
        properties.Clear();
        foreach (var (name, property) in renamed) properties[name] = property;
        return Task.CompletedTask;
    }

    /// <summary>Documents the query parameters of a GET endpoint (MLflow sends a GET's fields in the query string).</summary>
    public static RouteHandlerBuilder DocumentsQuery(this RouteHandlerBuilder builder, IReadOnlyList<QueryField> fields) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var field in fields)
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = field.Name,
                    In = ParameterLocation.Query,
                    Required = field.Required,
                    Schema = new OpenApiSchema { Type = field.Type },
                });
            return Task.CompletedTask;
        });
}

/// <summary>A field of a GET endpoint's query string.</summary>
/// <param name="Name">The field's snake_case name.</param>
/// <param name="Type">Its JSON type.</param>
/// <param name="Required">Whether MLflow requires it.</param>
internal sealed record QueryField(string Name, JsonSchemaType Type = JsonSchemaType.String, bool Required = false);

/// <summary>
/// MLflow's request bodies as its REST API 2.0 documents them, for the OpenAPI document only: the endpoints read
/// bodies field by field (<see cref="MlflowRequest"/>), to answer MLflow's errors and to take int64 fields as numbers
/// or strings, as MLflow's own server does.
/// </summary>
public static class MlflowRequestBodies
{
    /// <summary>experiments/create.</summary>
    public sealed record CreateExperiment(string Name, string? ArtifactLocation, IReadOnlyList<MlflowTag>? Tags);

    /// <summary>experiments/search.</summary>
    public sealed record SearchExperiments(string? Filter, string? ViewType, int? MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);

    /// <summary>experiments/update.</summary>
    public sealed record UpdateExperiment(string ExperimentId, string? NewName);

    /// <summary>experiments/delete and experiments/restore.</summary>
    public sealed record ExperimentReference(string ExperimentId);

    /// <summary>experiments/set-experiment-tag.</summary>
    public sealed record SetExperimentTag(string ExperimentId, string Key, string Value);

    /// <summary>experiments/delete-experiment-tag.</summary>
    public sealed record DeleteExperimentTag(string ExperimentId, string Key);

    /// <summary>runs/create; <c>start_time</c> in milliseconds since the epoch.</summary>
    public sealed record CreateRun(string ExperimentId, string? UserId, string? RunName, long? StartTime, IReadOnlyList<MlflowTag>? Tags);

    /// <summary>runs/update; <c>status</c> is RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.</summary>
    public sealed record UpdateRun(string RunId, string? RunUuid, string? Status, long? EndTime, string? RunName);

    /// <summary>runs/delete and runs/restore.</summary>
    public sealed record RunReference(string RunId);

    /// <summary>runs/search; <c>run_view_type</c> is ACTIVE_ONLY, DELETED_ONLY or ALL.</summary>
    public sealed record SearchRuns(IReadOnlyList<string>? ExperimentIds, string? Filter, string? RunViewType, int? MaxResults,
        IReadOnlyList<string>? OrderBy, string? PageToken);

    /// <summary>runs/log-metric; <c>timestamp</c> in milliseconds since the epoch, <c>step</c> defaults to 0.</summary>
    public sealed record LogMetric(string RunId, string? RunUuid, string Key, double Value, long Timestamp, long? Step);

    /// <summary>runs/log-batch: at most 1000 metrics, 100 params and 100 tags, 1 MB in all.</summary>
    public sealed record LogBatch(string RunId, IReadOnlyList<MlflowMetric>? Metrics, IReadOnlyList<MlflowTag>? Params, IReadOnlyList<MlflowTag>? Tags);

    /// <summary>runs/log-parameter.</summary>
    public sealed record LogParam(string RunId, string? RunUuid, string Key, string Value);

    /// <summary>runs/set-tag.</summary>
    public sealed record SetTag(string RunId, string? RunUuid, string Key, string Value);

    /// <summary>runs/delete-tag.</summary>
    public sealed record DeleteTag(string RunId, string Key);
}
