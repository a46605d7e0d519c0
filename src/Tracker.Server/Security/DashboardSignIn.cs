using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Tracker.Server.Security;

/// <summary>
/// Signing in to the dashboard with an API key: a plain HTML form at <see cref="SignInPath"/> (no circuit, no script)
/// checks the key and sets an encrypted, HTTP-only session cookie that names the key by its hash and carries its role.
/// Every request re-checks that key, so revoking it ends its sessions at once. Where OpenID Connect is configured, the
/// form also offers it (<see cref="OidcSignIn"/>); such a session carries the role its ID token gave.
/// <see cref="ApiKeyMiddleware"/> decides who must sign in (<see cref="SecurityOptions.Dashboard"/>); a session also
/// opens API reads and the hub to the browser, so that the dashboard's images and exports load, but never API writes,
/// which still need a key. What a session may do on the dashboard is its role's (<see cref="TrackerPolicies"/>).
/// </summary>
public static class DashboardSignIn
{
    /// <summary>The sign-in form (GET) and its target (POST); <c>?returnUrl=</c> says where to go afterwards.</summary>
    public const string SignInPath = "/signin";

    /// <summary>Ends the session (POST) and shows the sign-in form.</summary>
    public const string SignOutPath = "/signout";

    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "tracker_session";

    /// <summary>How long a session lasts without a visit; each visit in its second half renews it.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromDays(7);

    /// <summary>Adds cookie authentication for dashboard sessions, OpenID Connect where it is configured, and the role policies.</summary>
    public static IServiceCollection AddDashboardSignIn(this IServiceCollection services, IConfiguration configuration)
    {
        var authentication = services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict; // other sites' pages cannot make a browser use the session
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            o.LoginPath = SignInPath;
            o.Events.OnValidatePrincipal = ValidateSessionAsync;
        });
        OidcSignIn.AddIfConfigured(authentication, configuration);
        services.AddTrackerPolicies();
        services.AddCascadingAuthenticationState();
        return services;
    }

    // A key session lives as long as its key, with the key's role now (so that a role changed in configuration takes
    // effect; sessions from before roles get their key's role here). An OpenID Connect session keeps the role it was
    // given until it ends.
    private static async Task ValidateSessionAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.FindFirstValue(TrackerClaims.ViaClaim) == TrackerClaims.ViaOidcSession) return;
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyService>();
        if (context.Principal?.FindFirstValue(TrackerClaims.KeyHashClaim) is not { } hash
            || await keys.RecheckAsync(hash, context.HttpContext.RequestAborted) is not { } holder)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return;
        }
        if (TrackerClaims.RoleOf(context.Principal) != holder.Role || !TrackerClaims.IsSession(context.Principal))
        {
            context.ReplacePrincipal(TrackerClaims.ForSession(holder.Name, holder.Role, holder.Sha256));
            context.ShouldRenew = true;
        }
    }

    /// <summary>Whether the request carries a valid dashboard session (read from its cookie).</summary>
    public static bool HasSession(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieAuthenticationDefaults.AuthenticationScheme };

    /// <summary>Maps the sign-in form, its target, and signing out.</summary>
    public static IEndpointRouteBuilder MapDashboardSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(SignInPath, (HttpContext context, IAntiforgery antiforgery, IOptions<SecurityOptions> security, string? returnUrl, string? failed) =>
            Form(context, antiforgery, security.Value.Oidc, LocalOrHome(returnUrl),
                failed is null ? null : $"Signing in through {security.Value.Oidc.DisplayName} did not succeed; try again.", HasSession(context)))
            .ExcludeFromDescription();
        OidcSignIn.Map(app);

        // The form carries an antiforgery token (and the same-origin rule refuses other sites' posts), so another site
        // cannot sign a visitor in with a key of its own choosing; failed keys count towards the address's limit.
        app.MapPost(SignInPath, async (HttpContext context, ApiKeyService keys, KeyGuessLimiter guesses, IAntiforgery antiforgery,
            IOptions<SecurityOptions> security, ILogger<ApiKeyService> logger) =>
        {
            if (guesses.IsLimited(context)) return guesses.Refusal(context);
            if (!context.Request.HasFormContentType)
                return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Not a form.",
                    detail: "Sign in by posting the form at " + SignInPath + ".");
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            string returnUrl = LocalOrHome(form["returnUrl"]);
            if (!await antiforgery.IsRequestValidAsync(context))
                return Form(context, antiforgery, security.Value.Oidc, returnUrl, "The sign-in form expired or did not come from this server; try again.",
                    signedIn: false, StatusCodes.Status400BadRequest);
            string key = form["key"].ToString().Trim();
            if (key.Length == 0 || await keys.AuthenticateAsync(key, context.RequestAborted) is not { } holder)
            {
                if (key.Length > 0) guesses.RecordFailure(context);
                logger.LogDebug("Dashboard sign-in with an invalid key from {Address}", context.Connection.RemoteIpAddress);
                return Form(context, antiforgery, security.Value.Oidc, returnUrl, key.Length == 0 ? "Enter an API key." : "That key is not valid: it is unknown or was revoked.",
                    signedIn: false, StatusCodes.Status401Unauthorized);
            }
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, TrackerClaims.ForSession(holder.Name, holder.Role, holder.Sha256));
            return Results.LocalRedirect(returnUrl);
        }).DisableAntiforgery().ExcludeFromDescription();

        app.MapPost(SignOutPath, async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect(SignInPath);
        }).DisableAntiforgery().ExcludeFromDescription();
        return app;
    }

    /// <summary>Where to send a visitor who must sign in first, so that they come back to <paramref name="request"/>'s page.</summary>
    public static string SignInUrlFor(HttpRequest request) =>
        $"{SignInPath}?returnUrl={Uri.EscapeDataString(request.PathBase + request.Path + request.QueryString)}";

    // Only a path on this server: "https://elsewhere" or "//elsewhere" would turn the form into an open redirect.
    internal static string LocalOrHome(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url : "/";

    private static IResult Form(HttpContext context, IAntiforgery antiforgery, OidcOptions oidc, string returnUrl, string? error, bool signedIn,
        int status = StatusCodes.Status200OK)
    {
        string Encode(string s) => WebUtility.HtmlEncode(s);
        string single = !oidc.Enabled ? ""
            : $"<p><a class=\"sso\" href=\"{Encode(OidcSignIn.ChallengeUrlFor(returnUrl))}\" data-testid=\"signin-oidc\">Sign in with {Encode(oidc.DisplayName)}</a></p>"
                + "<p class=\"hint\">Or with an API key:</p>";
        var token = antiforgery.GetAndStoreTokens(context);
        string message = error is not null ? $"<p class=\"error\" data-testid=\"signin-error\">{Encode(error)}</p>"
            : signedIn ? "<p>You are signed in. Sign in with another key to switch, or <a href=\"/\">go to the dashboard</a>.</p>" : "";
        string html = $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8" />
              <meta name="viewport" content="width=device-width, initial-scale=1.0" />
              <title>Sign in · Tracker</title>
              <link rel="icon" type="image/png" href="/favicon.png" />
              <style>
                body { font-family: system-ui, sans-serif; background: #f5f5f5; display: grid; place-items: center; min-height: 100vh; margin: 0; }
                form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: min(26rem, 90vw); }
                h1 { font-size: 1.4rem; margin-top: 0; }
                input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit; margin: .4rem 0 1rem; }
                button { padding: .6rem 1.2rem; font: inherit; background: #594ae2; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
                .error { color: #c62828; }
                .hint { color: #666; font-size: .9rem; }
                .sso { display: inline-block; padding: .6rem 1.2rem; background: #594ae2; color: #fff; border-radius: 4px; text-decoration: none; }
              </style>
            </head>
            <body>
              <form method="post" action="{{SignInPath}}">
                <h1>Sign in to Tracker</h1>
                {{message}}
                {{single}}
                <label for="key">API key</label>
                <input id="key" name="key" type="password" autocomplete="current-password" autofocus required />
                <input type="hidden" name="returnUrl" value="{{Encode(returnUrl)}}" />
                <input type="hidden" name="{{Encode(token.FormFieldName)}}" value="{{Encode(token.RequestToken ?? "")}}" />
                <button type="submit" data-testid="signin">Sign in</button>
                <p class="hint">Any API key works: one created on the dashboard's API keys page (open it on the server's own
                machine) or one configured under Security:ApiKeys.</p>
              </form>
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}
