using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Tracker.Core.Storage;
using Tracker.Server.Security;

namespace Tracker.Server.Hubs;

/// <summary>Marks a hub method that only changes what the calling connection receives, never stored data: any reader may call it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class HubReadAttribute : Attribute;

/// <summary>
/// The role rule of the hubs: a hub method needs <see cref="TrackerPolicies.Edit"/> unless it is marked
/// <see cref="HubReadAttribute"/>, so that a method added later that changes something is an editor's from the start,
/// as every write of the API is (<see cref="RolePolicyConventions.WritesNeedEditor{TBuilder}"/>). A method may ask for
/// more with <see cref="AuthorizeAttribute"/> (e.g. <see cref="TrackerPolicies.Admin"/>). A refused call fails with a
/// <see cref="HubException"/> that says which role it needs; the connection stays open.
/// </summary>
public sealed class HubRoleFilter(IAuthorizationService authorization, IAuthorizationPolicyProvider policies) : IHubFilter
{
    /// <summary>The start of the message of a refused call.</summary>
    public const string RefusalPrefix = "403 Forbidden: ";

    /// <inheritdoc />
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = invocationContext.HubMethod;
        var names = method.GetCustomAttributes<AuthorizeAttribute>().Select(a => a.Policy).OfType<string>().ToList();
        if (method.GetCustomAttribute<HubReadAttribute>() is null) names.Add(TrackerPolicies.Edit);
        var user = invocationContext.Context.User ?? new System.Security.Claims.ClaimsPrincipal();
        foreach (var name in names)
        {
            var policy = await policies.GetPolicyAsync(name) ?? throw new InvalidOperationException($"No authorization policy '{name}'.");
            if (!(await authorization.AuthorizeAsync(user, invocationContext, policy)).Succeeded)
                throw new HubException($"{RefusalPrefix}{invocationContext.HubMethodName} needs the {TrackerPolicies.Needed(policy)?.Name() ?? name} role; "
                    + $"{TrackerClaims.Describe(user)} may not.");
        }
        return await next(invocationContext);
    }
}
