using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Routing.Patterns;
using Tracker.Core.Storage;
using Tracker.Server.Api.Mlflow;

namespace Tracker.Server.Security;

/// <summary>
/// Answers a request that a role policy refuses: 403 with problem details naming the role it needs and the one it
/// has, in MLflow's error shape (<c>PERMISSION_DENIED</c>) on MLflow's routes, and as a small page on the dashboard's.
/// A request without a user at all (which <see cref="ApiKeyMiddleware"/> has already answered on its paths) gets 401.
/// </summary>
public sealed class RoleRefusals : IAuthorizationMiddlewareResultHandler
{
    /// <inheritdoc />
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded) return next(context);
        var needed = TrackerPolicies.Needed(policy) ?? TrackerRole.Admin;
        if (!authorizeResult.Forbidden)
            return Problem(context, StatusCodes.Status401Unauthorized, MlflowErrorCodes.Unauthenticated, "Sign in first.",
                $"{context.Request.Method} {context.Request.Path} needs the {needed.Name()} role: send an API key of that role.");
        return Forbid(context, needed);
    }

    /// <summary>The 403 answer to a request that needs the role <paramref name="needed"/>.</summary>
    public static Task Forbid(HttpContext context, TrackerRole needed)
    {
        string detail = $"{context.Request.Method} {context.Request.Path} needs the {needed.Name()} role; "
            + $"{TrackerClaims.Describe(context.User)} may not. Use a key or sign in with a role that may.";
        return Problem(context, StatusCodes.Status403Forbidden, MlflowErrorCodes.PermissionDenied, "Your role may not do this.", detail);
    }

    private static Task Problem(HttpContext context, int status, string mlflowCode, string title, string detail)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments(MlflowEndpoints.Prefix)) return MlflowEndpoints.Error(mlflowCode, $"{title} {detail}").ExecuteAsync(context);
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/hubs"))
            return Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
        // A dashboard page: a page, with the way home.
        string html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8" /><title>{WebUtility.HtmlEncode(title)} · Tracker</title>
            <link rel="icon" type="image/png" href="/favicon.png" /></head>
            <body style="font-family: system-ui, sans-serif; margin: 3rem;">
              <h1>{WebUtility.HtmlEncode(title)}</h1>
              <p data-testid="refusal">{WebUtility.HtmlEncode(detail)}</p>
              <p><a href="/">Back to the dashboard</a> · <a href="{DashboardSignIn.SignInPath}">Sign in as someone else</a></p>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status).ExecuteAsync(context);
    }
}

/// <summary>Attaches the role policies to endpoints by what they do, so that no write is left without one.</summary>
public static class RolePolicyConventions
{
    /// <summary>
    /// Every endpoint of <paramref name="builder"/> that answers a writing method (POST, PUT, PATCH, DELETE) needs
    /// <see cref="TrackerPolicies.Edit"/>, except MLflow's searches, which its clients post although they only read
    /// (<see cref="MlflowEndpoints.ReadsByPost"/>, which the key rule counts as reads too). Endpoints that need more
    /// add <see cref="TrackerPolicies.Admin"/> themselves.
    /// </summary>
    public static TBuilder WritesNeedEditor<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().LastOrDefault()?.HttpMethods ?? [];
            if (!methods.Any(IsWrite)) return;
            if (endpoint is RouteEndpointBuilder route && ReadByPost(route.RoutePattern) && methods.All(HttpMethods.IsPost)) return;
            endpoint.Metadata.Add(new AuthorizeAttribute(TrackerPolicies.Edit));
        });
        return builder;
    }

    /// <summary>Whether <paramref name="method"/> changes something.</summary>
    public static bool IsWrite(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    private static bool ReadByPost(RoutePattern pattern) =>
        pattern.RawText is { } text && MlflowEndpoints.ReadsByPost.Contains("/" + text.Trim('/'));
}
