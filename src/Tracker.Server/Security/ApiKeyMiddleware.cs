using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Tracker.Server.Api.Mlflow;
using Tracker.Server.Components.Pages;

namespace Tracker.Server.Security;

/// <summary>
/// The access rule, by path and method, so that it covers every route however it was mapped:
/// <list type="bullet">
/// <item>a write (POST, PUT, PATCH, DELETE) to <c>/api/**</c> needs an API key;</item>
/// <item>a read of <c>/api/**</c> (GET, HEAD, and MLflow's searches, which MLflow posts) or of the live hubs under
/// <c>/hubs/**</c> needs a key, or a dashboard session, as <see cref="SecurityOptions.Reads"/> says;</item>
/// <item>the dashboard (its pages and its circuit under <c>/_blazor</c>) needs a session, as
/// <see cref="SecurityOptions.Dashboard"/> says: a page sends the visitor to sign in (<see cref="DashboardSignIn"/>),
/// the circuit answers 401.</item>
/// </list>
/// A key travels as <c>Authorization: Bearer &lt;key&gt;</c> (what MLflow's clients send from
/// <c>MLFLOW_TRACKING_TOKEN</c>) or <c>X-Api-Key: &lt;key&gt;</c>; to a hub also as the <c>access_token</c> query
/// parameter, as SignalR's clients send it where they cannot set headers. A key that is sent must be valid, even where
/// none is needed. The rule runs after authentication, which reads the session cookie.
/// <para>
/// It also says who the request is (<see cref="TrackerClaims"/>), for the role policies that run after it
/// (<see cref="TrackerPolicies"/>): the holder of the key sent, else the dashboard session, else, on the dashboard, a
/// visitor let in without signing in, who has <see cref="SecurityOptions.OpenAccessRole"/>.
/// </para>
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyService keys, KeyGuessLimiter guesses, IOptions<SecurityOptions> options)
{
    /// <summary>The header that carries a key for clients that do not send bearer tokens.</summary>
    public const string KeyHeader = "X-Api-Key";

    /// <summary>The query parameter that SignalR's clients put a bearer token in for WebSockets and server-sent events.</summary>
    public const string HubTokenParameter = "access_token";

    private const string ApiRoot = "/api", HubRoot = "/hubs", CircuitRoot = "/_blazor";

    // Paths that are neither data nor dashboard: the sign-in form, the framework's and MudBlazor's scripts and styles,
    // and the API's public description.
    private static readonly string[] PublicRoots = [DashboardSignIn.SignInPath, DashboardSignIn.SignOutPath, "/_framework", "/_content", "/openapi", ServerExtensions.ApiReferencePath];
    private const string HowToSend = "send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>' (MLflow clients: MLFLOW_TRACKING_TOKEN). "
        + "Create a key on the dashboard's API keys page (" + ApiKeysPage.Route + ") or configure its hash under Security:ApiKeys.";

    private enum Access { Unprotected, Read, Write, Dashboard }

    /// <summary>Lets the request through, or answers 401.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var access = AccessOf(request);
        if (access == Access.Unprotected)
        {
            await next(context);
            return;
        }

        if (access == Access.Dashboard)
        {
            if (DashboardSignIn.HasSession(context))
                await next(context);
            else if (OpenTo(options.Value.Dashboard, context.Connection.RemoteIpAddress))
            {
                context.User = TrackerClaims.Open(options.Value.OpenAccessRole);
                await next(context);
            }
            else if (HttpMethods.IsGet(request.Method) && !request.Path.StartsWithSegments(CircuitRoot))
                context.Response.Redirect(DashboardSignIn.SignInUrlFor(request));
            else
                await RefuseAsync(context, "Sign in first.", $"The dashboard needs signing in with an API key from this address (Security:Dashboard is {options.Value.Dashboard}): open {DashboardSignIn.SignInPath}.");
            return;
        }

        string? key = PresentedKey(request);
        if (key is null)
        {
            // A signed-in browser reads what its dashboard shows (images, exports, the hub), but writes only with a key.
            if (access == Access.Read && (OpenTo(options.Value.Reads, context.Connection.RemoteIpAddress) || DashboardSignIn.HasSession(context)))
                await next(context);
            else
                await RefuseAsync(context, "An API key is required.", access == Access.Write
                    ? $"{request.Method} {request.Path} changes data, so it needs an API key: {HowToSend}"
                    : $"Reads from this address need an API key (Security:Reads is {options.Value.Reads}): {HowToSend}");
            return;
        }

        if (guesses.IsLimited(context))
        {
            await guesses.RefuseAsync(context);
            return;
        }
        if (await keys.AuthenticateAsync(key, context.RequestAborted) is not { } holder)
        {
            guesses.RecordFailure(context);
            await RefuseAsync(context, "The API key is not valid.",
                "The key sent is neither a configured key nor a dashboard key, or it was revoked. " + HowToSend);
            return;
        }
        // The key, not a session cookie the request may carry as well, says who the request is.
        context.User = TrackerClaims.ForKey(holder);
        await next(context);
    }

    // Repeated slashes are folded first, so that "//api/..." cannot pass as a path outside the API.
    private static Access AccessOf(HttpRequest request)
    {
        var path = new PathString(FoldSlashes(request.Path.Value));
        if (path.StartsWithSegments(HubRoot)) return Access.Read; // negotiate is a POST, yet only opens a stream to read
        if (path.StartsWithSegments(CircuitRoot)) return Access.Dashboard;
        if (!path.StartsWithSegments(ApiRoot)) return IsDashboardPage(request, path) ? Access.Dashboard : Access.Unprotected;
        if (!IsWriteMethod(request.Method)) return Access.Read;
        if (HttpMethods.IsPost(request.Method) && MlflowEndpoints.ReadsByPost.Contains(path.Value!.TrimEnd('/'))) return Access.Read;
        return Access.Write;
    }

    // A page is any GET of a path without a file extension outside the public roots; files (styles, icons, images
    // under wwwroot) carry no data and stay open, so that the sign-in form and error pages look right.
    private static bool IsDashboardPage(HttpRequest request, PathString path)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return false;
        if (PublicRoots.Any(root => path.StartsWithSegments(root, StringComparison.OrdinalIgnoreCase))) return false;
        string last = path.Value![(path.Value!.LastIndexOf('/') + 1)..];
        return !last.Contains('.');
    }

    private static bool IsWriteMethod(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    private static string FoldSlashes(string? path)
    {
        if (string.IsNullOrEmpty(path) || !path.Contains("//", StringComparison.Ordinal)) return path ?? "";
        var folded = new System.Text.StringBuilder(path.Length);
        foreach (char c in path)
            if (c != '/' || folded.Length == 0 || folded[^1] != '/') folded.Append(c);
        return folded.ToString();
    }

    private static string? PresentedKey(HttpRequest request)
    {
        string authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization[bearer.Length..].Trim() is { Length: > 0 } token)
            return token;
        if (request.Headers[KeyHeader].ToString().Trim() is { Length: > 0 } key) return key;
        if (request.Path.StartsWithSegments(HubRoot) && request.Query[HubTokenParameter].ToString() is { Length: > 0 } queryToken)
            return queryToken;
        return null;
    }

    // An in-memory test server's requests have no remote address; they come from this process, so they count as local.
    private static bool OpenTo(ReadAccess access, IPAddress? remote) => access switch
    {
        ReadAccess.Open => true,
        ReadAccess.OpenOnLoopback => remote is null || IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote),
        _ => false,
    };

    private static Task RefuseAsync(HttpContext context, string title, string detail)
    {
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        var result = context.Request.Path.StartsWithSegments(MlflowEndpoints.Prefix)
            ? MlflowEndpoints.Error(MlflowErrorCodes.Unauthenticated, $"{title} {detail}")
            : Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: title, detail: detail);
        return result.ExecuteAsync(context);
    }
}
