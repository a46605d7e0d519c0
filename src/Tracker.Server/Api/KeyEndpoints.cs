using Tracker.Core.Storage;
using Tracker.Server.Security;

namespace Tracker.Server.Api;

/// <summary>API keys over the API, for admins: list them, create one of a role, revoke one.</summary>
public static class KeyEndpoints
{
    /// <summary>What creating a key asks for.</summary>
    /// <param name="Name">What the key is for, e.g. "training box 2".</param>
    /// <param name="Role">What it may do: <c>viewer</c>, <c>editor</c> or <c>admin</c>.</param>
    public sealed record CreateKeyRequest(string? Name, string? Role);

    /// <summary>A key just created; <see cref="Key"/> is in this answer only.</summary>
    public sealed record CreatedKeyView(string Id, string Name, TrackerRole Role, string Prefix, DateTimeOffset CreatedAt, string Key);

    /// <summary>Maps <c>/api/keys</c>, every route of which needs an admin.</summary>
    public static RouteGroupBuilder MapApiKeys(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").RequireAuthorization(TrackerPolicies.Admin).WithTags("API keys");

        keys.MapGet("", (ApiKeyService service, CancellationToken ct) => service.ListAsync(ct))
            .WithName("ListApiKeys").WithSummary("API keys")
            .WithDescription("Configured keys, then keys created on the dashboard or here, newest first, revoked ones included; never the keys themselves. Needs an admin's key.")
            .Produces<IReadOnlyList<ApiKeyView>>().ProducesProblem(StatusCodes.Status403Forbidden);

        keys.MapPost("", async (CreateKeyRequest body, ApiKeyService service, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (ApiKeyService.NameProblem(body.Name) is { } nameProblem) errors["name"] = [nameProblem];
            if (!TrackerRoles.TryParse(body.Role, out var role)) errors["role"] = [$"A key's role is one of {TrackerRoles.All}; it was '{body.Role}'."];
            if (errors.Count > 0) return Results.ValidationProblem(errors, title: "The key cannot be created.");
            var created = await service.CreateAsync(body.Name!, role, ct);
            var record = created.Record;
            return Results.Created("/api/keys", new CreatedKeyView(record.Id, record.Name, role, record.Prefix, record.CreatedAt, created.Key));
        })
        .WithName("CreateApiKey").WithSummary("Create an API key")
        .WithDescription("Makes a key of a role. The answer holds the key; the server keeps only its hash, so it cannot be shown again. Needs an admin's key.")
        .Produces<CreatedKeyView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);

        keys.MapPost("/{id}/revoke", async (string id, ApiKeyService service, CancellationToken ct) =>
            await service.RevokeAsync(id, ct)
                ? Results.Ok((await service.ListAsync(ct)).First(k => string.Equals(k.Id, id, StringComparison.OrdinalIgnoreCase)))
                : Results.Problem(statusCode: 404, title: $"No API key '{id}'.",
                    detail: $"There is no key with id '{id}' (a configured key is revoked by removing it from configuration)."))
            .WithName("RevokeApiKey").WithSummary("Revoke an API key")
            .WithDescription("Requests that send the key are refused from then on, and its dashboard sessions end. Needs an admin's key.")
            .Produces<ApiKeyView>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }
}
