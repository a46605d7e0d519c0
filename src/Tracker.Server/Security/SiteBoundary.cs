using System.Net;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace Tracker.Server.Security;

/// <summary>
/// Keeps other sites out of a server that a browser can reach, loopback included:
/// <list type="bullet">
/// <item>the <c>Host</c> header must name this server (<see cref="HostFilteringOptions"/>): unless <c>AllowedHosts</c>
/// is configured, the hosts of the configured URLs are allowed, and for a loopback URL all of <c>localhost</c>,
/// <c>127.0.0.1</c> and <c>[::1]</c>; a page of another site that rebinds its DNS name to 127.0.0.1 sends its own name and
/// is refused;</item>
/// <item>a browser request that can act with this server's data or session, a WebSocket or SignalR connection (the
/// live hub, the dashboard's circuit) or a sign-in form post, must come from one of this server's own pages: an
/// <c>Origin</c> header of another site is refused with 403 (<see cref="SameOriginMiddleware"/>).</item>
/// </list>
/// Clients that are not browsers (the .NET client, MLflow's, scripts) send no <c>Origin</c> and are not affected.
/// </summary>
public static class SiteBoundary
{
    /// <summary>The hosts a loopback URL answers to.</summary>
    public static readonly IReadOnlyList<string> LoopbackHosts = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// Sets the allowed hosts from the configured URLs when <c>AllowedHosts</c> is not configured. A URL that listens on
    /// every interface (<c>0.0.0.0</c>, <c>[::]</c>, <c>*</c>, <c>+</c>) cannot say which names clients use, so it allows any
    /// host; the README asks such a setup to list its names in <c>AllowedHosts</c>.
    /// </summary>
    public static IServiceCollection AddHostsFromUrls(this IServiceCollection services, IConfiguration configuration)
    {
        services.PostConfigure<HostFilteringOptions>(options =>
        {
            if (!string.IsNullOrWhiteSpace(configuration["AllowedHosts"])) return;
            options.AllowedHosts = HostsOf(configuration["urls"]); // keys ignore case: Urls, --urls, ASPNETCORE_URLS
        });
        return services;
    }

    /// <summary>The hosts that the URLs (separated by ';', as ASP.NET Core reads <c>Urls</c>) answer to.</summary>
    public static List<string> HostsOf(string? urls)
    {
        var hosts = new List<string>();
        foreach (var url in (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string host = HostPart(url);
            if (host is "*" or "+" or "0.0.0.0" or "[::]" or "") return ["*"];
            if (IsLoopbackName(host)) hosts.AddRange(LoopbackHosts);
            else hosts.Add(host);
        }
        // No URL configured: ASP.NET Core listens on localhost only.
        return hosts.Count == 0 ? [.. LoopbackHosts] : hosts.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    // "http://host:port/path" → "host"; "http://[::1]:5000" → "[::1]". Wildcards are not valid URIs, so this is by hand.
    private static string HostPart(string url)
    {
        int start = url.IndexOf("://", StringComparison.Ordinal);
        string rest = start < 0 ? url : url[(start + 3)..];
        int slash = rest.IndexOf('/');
        if (slash >= 0) rest = rest[..slash];
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']');
            return close < 0 ? rest : rest[..(close + 1)];
        }
        int colon = rest.LastIndexOf(':');
        return colon < 0 ? rest : rest[..colon];
    }

    private static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Refuses browser requests from other sites to the hub, the circuit and the sign-in form.</summary>
    public static IApplicationBuilder UseSameOrigin(this IApplicationBuilder app) => app.UseMiddleware<SameOriginMiddleware>();
}

/// <summary>
/// Answers 403 to a request for a hub (<c>/hubs/**</c>), the dashboard's circuit (<c>/_blazor/**</c>) or a form post
/// to sign in or out, when its <c>Origin</c> header names another site than the request's own host and port,
/// or than one listed in <see cref="SecurityOptions.AllowedOrigins"/>. Browsers send <c>Origin</c> with every WebSocket
/// upgrade and every cross-site POST, so this stops another site's page from opening the live feed or a dashboard
/// circuit with this machine's loopback privileges, and from signing a visitor in with its own key.
/// </summary>
public sealed class SameOriginMiddleware(RequestDelegate next, IOptions<SecurityOptions> options, ILogger<SameOriginMiddleware> logger)
{
    /// <summary>Lets the request through, or answers 403.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (Guarded(request) && request.Headers.Origin.ToString() is { Length: > 0 } origin && !Allowed(request, origin))
        {
            logger.LogWarning("Refused a request to {Path} from the foreign origin {Origin}", request.Path, origin);
            await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Foreign origin.",
                detail: $"Requests to {request.Path} are accepted only from this server's own pages, not from '{origin}'. "
                    + "List another origin under Security:AllowedOrigins to allow it.").ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    private static bool Guarded(HttpRequest request) =>
        request.Path.StartsWithSegments("/hubs") || request.Path.StartsWithSegments("/_blazor")
        || (HttpMethods.IsPost(request.Method)
            && (request.Path.StartsWithSegments(DashboardSignIn.SignInPath) || request.Path.StartsWithSegments(DashboardSignIn.SignOutPath)));

    private bool Allowed(HttpRequest request, string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var from)) return false; // includes "null" (sandboxed frames, files)
        // The host and port decide, not the scheme: behind a proxy that ends TLS the page is https and the request http.
        if (from.Scheme is "http" or "https" && string.Equals(from.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase))
            return true;
        string normalised = from.GetLeftPart(UriPartial.Authority);
        return options.Value.AllowedOrigins.Any(o => string.Equals(o.TrimEnd('/'), normalised, StringComparison.OrdinalIgnoreCase));
    }
}
