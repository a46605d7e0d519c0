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
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = Body(schema, contentTypes);
        });

    /// <summary>Documents a raw upload: the body is the file, of one of <paramref name="contentTypes"/>.</summary>
    public static RouteHandlerBuilder DocumentsUpload(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = Body(new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" }, contentTypes);
            return Task.CompletedTask;
        });

    private static OpenApiRequestBody Body(IOpenApiSchema schema, string[] contentTypes) => new()
    {
        Required = true,
        Content = contentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
    };
}
