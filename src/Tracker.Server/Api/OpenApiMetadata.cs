using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tracker.Server.Api;

/// <summary>What the OpenAPI document says about endpoints beyond what ASP.NET infers from their handlers.</summary>
internal static class OpenApiMetadata
{
    /// <summary>
    /// Documents the request body of an endpoint that reads its body itself. Unlike <c>Accepts&lt;T&gt;()</c>, it does
    /// not restrict the content types the endpoint is matched for (that answers 415 to any other before the handler
    /// runs), so the endpoints keep reading JSON whatever a client such as <c>curl -d</c> declares.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.DocumentsBody(typeof(T), contentTypes);

    /// <summary>Documents the request body of an endpoint that reads its body itself, as <paramref name="type"/>.</summary>
    public static RouteHandlerBuilder DocumentsBody(this RouteHandlerBuilder builder, Type type, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
            operation.RequestBody = Body(schema, contentTypes);
        });

    /// <summary>Documents a raw upload: the body is the file, of one of <paramref name="contentTypes"/>.</summary>
    public static RouteHandlerBuilder DocumentsUpload(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = Body(new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }, contentTypes);
            return Task.CompletedTask;
        });

    /// <summary>
    /// Marks nullable properties optional. The generator lists every constructor parameter of a record as required,
    /// nullable or not; but a request may leave a nullable field out (the server takes it as null), and a response
    /// leaves out those it writes only when set (<c>finishedAt</c>, <c>error</c>, MLflow's optional fields).
    /// </summary>
    public static Task NullableIsOptional(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Required is { Count: > 0 } required && schema.Properties is { Count: > 0 } properties)
            foreach (var name in required.Where(n => properties.TryGetValue(n, out var p) && p.Type is { } type && type.HasFlag(JsonSchemaType.Null)).ToList())
                required.Remove(name);
        return Task.CompletedTask;
    }

    private static OpenApiRequestBody Body(IOpenApiSchema schema, string[] contentTypes) => new()
    {
        Required = true,
        Content = contentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
    };
}
