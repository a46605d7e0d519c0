using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Tracker.Core.Storage;

namespace Tracker.Server.Security;

/// <summary>
/// Who a request is, as the claims of its user: a name, a role (<see cref="ClaimTypes.Role"/>, the role's lower-case
/// name) and how it got in (<see cref="ViaClaim"/>). Every user that may do more than read is made here: the holder of
/// an API key sent with the request (<see cref="ForKey"/>), a dashboard session (signed in with a key or through
/// OpenID Connect; <see cref="ForSession"/>), and a dashboard visitor let in without signing in (<see cref="Open"/>).
/// </summary>
public static class TrackerClaims
{
    /// <summary>How the user got in: one of <see cref="ViaKey"/>, <see cref="ViaKeySession"/>, <see cref="ViaOidcSession"/>, <see cref="ViaOpen"/>.</summary>
    public const string ViaClaim = "tracker:via";

    /// <summary>An API key sent with the request.</summary>
    public const string ViaKey = "key";

    /// <summary>A dashboard session signed in with an API key.</summary>
    public const string ViaKeySession = "key-session";

    /// <summary>A dashboard session signed in through OpenID Connect.</summary>
    public const string ViaOidcSession = "oidc-session";

    /// <summary>A dashboard visitor let in without signing in (<see cref="SecurityOptions.Dashboard"/>).</summary>
    public const string ViaOpen = "open";

    /// <summary>The hex SHA-256 of the key a key session was signed in with; every request checks the key again by it.</summary>
    public const string KeyHashClaim = "tracker:api_key_sha256";

    private const string KeyAuthentication = "ApiKey", OpenAuthentication = "Open";

    /// <summary>The holder of a key sent with the request.</summary>
    public static ClaimsPrincipal ForKey(ApiKeyHolder holder) =>
        Principal(KeyAuthentication, holder.Name, holder.Role, ViaKey, new Claim(KeyHashClaim, holder.Sha256));

    /// <summary>A dashboard session, kept in the session cookie: signed in with a key (its hash given) or through OpenID Connect.</summary>
    public static ClaimsPrincipal ForSession(string name, TrackerRole role, string? keySha256) => keySha256 is null
        ? Principal(CookieAuthenticationDefaults.AuthenticationScheme, name, role, ViaOidcSession)
        : Principal(CookieAuthenticationDefaults.AuthenticationScheme, name, role, ViaKeySession, new Claim(KeyHashClaim, keySha256));

    /// <summary>A dashboard visitor let in without signing in.</summary>
    public static ClaimsPrincipal Open(TrackerRole role) => Principal(OpenAuthentication, "visitor", role, ViaOpen);

    /// <summary>The user's role; <c>null</c> for an anonymous reader.</summary>
    public static TrackerRole? RoleOf(ClaimsPrincipal? user) =>
        user?.Identity?.IsAuthenticated == true && TrackerRoles.TryParse(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;

    /// <summary>Whether the user is a dashboard session (which the top bar offers to end).</summary>
    public static bool IsSession(ClaimsPrincipal? user) => user?.FindFirstValue(ViaClaim) is ViaKeySession or ViaOidcSession;

    /// <summary>The user in words, for refusals: "the API key 'ci' (viewer)".</summary>
    public static string Describe(ClaimsPrincipal? user)
    {
        string role = RoleOf(user) is { } r ? $" ({r.Name()})" : "";
        string name = user?.Identity?.Name ?? "";
        return user?.FindFirstValue(ViaClaim) switch
        {
            ViaKey => $"the API key '{name}'{role}",
            ViaKeySession => $"the dashboard session of the key '{name}'{role}",
            ViaOidcSession => $"the dashboard session of '{name}'{role}",
            ViaOpen => $"a visitor who did not sign in{role}",
            _ => "an anonymous reader",
        };
    }

    private static ClaimsPrincipal Principal(string authenticationType, string name, TrackerRole role, string via, params Claim[] more) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role.Name()), new Claim(ViaClaim, via), .. more],
            authenticationType, ClaimTypes.Name, ClaimTypes.Role));
}

/// <summary>
/// The authorization policies of the roles: the one place that says which role a kind of request needs. Every write
/// of the REST and MLflow APIs needs <see cref="Edit"/> (<see cref="RolePolicyConventions.WritesNeedEditor{TBuilder}"/>),
/// so does every hub method not marked as a read (<see cref="Hubs.HubRoleFilter"/>) and every dashboard page or
/// control that changes something; managing API keys and deleting experiments need <see cref="Admin"/>.
/// </summary>
public static class TrackerPolicies
{
    /// <summary>Editors and admins: start and control experiments, log runs.</summary>
    public const string Edit = "tracker:edit";

    /// <summary>Admins: manage API keys, delete experiments.</summary>
    public const string Admin = "tracker:admin";

    /// <summary>Adds both policies and the answer to a request that one refuses (<see cref="RoleRefusals"/>).</summary>
    public static IServiceCollection AddTrackerPolicies(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .AddPolicy(Edit, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(TrackerRole.Editor)))
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(TrackerRole.Admin)));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, RoleRefusals>();
        return services;
    }

    /// <summary>The least role that <paramref name="policy"/> asks for, or <c>null</c> when it asks for none.</summary>
    public static TrackerRole? Needed(AuthorizationPolicy policy) =>
        policy.Requirements.OfType<RoleRequirement>().Select(r => (TrackerRole?)r.Least).Max();
}

/// <summary>The user's role is <see cref="Least"/> or above (roles are ordered: viewer, editor, admin).</summary>
/// <param name="least">The least role.</param>
public sealed class RoleRequirement(TrackerRole least) : AuthorizationHandler<RoleRequirement>, IAuthorizationRequirement
{
    /// <summary>The least role.</summary>
    public TrackerRole Least { get; } = least;

    /// <inheritdoc />
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (TrackerClaims.RoleOf(context.User) >= requirement.Least) context.Succeed(requirement);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"role {Least.Name()} or above";
}
