using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Tracker.Server.Security;

/// <summary>
/// Dashboard sign-in through an OpenID Connect provider, where <c>Security:Oidc:Authority</c> is set: the sign-in form
/// links to <see cref="ChallengePath"/>, which sends the browser to the provider (authorization code flow with PKCE,
/// the code returned in the query); the provider sends it back to <see cref="CallbackPath"/>, where the code is
/// exchanged for an ID token, which is validated (issuer, audience, signature by the provider's published keys,
/// lifetime, nonce). The session cookie then holds the user's name and the role that <see cref="OidcOptions.RoleOf"/>
/// gives the ID token's role claim; nothing else of the token is kept.
/// </summary>
public static class OidcSignIn
{
    /// <summary>The authentication scheme's name.</summary>
    public const string Scheme = "oidc";

    /// <summary>Starts a sign-in (GET); <c>?returnUrl=</c> says where to go afterwards.</summary>
    public const string ChallengePath = DashboardSignIn.SignInPath + "/oidc";

    /// <summary>Where the provider sends the browser back with the code (register it at the provider as the redirect URI).</summary>
    public const string CallbackPath = "/signin-oidc";

    /// <summary>The page a completed sign-in passes through on its way back (see <see cref="Map"/>).</summary>
    public const string CompletePath = DashboardSignIn.SignInPath + "/complete";

    // The claims that name the user, in order of preference.
    private static readonly string[] NameClaims = ["name", "preferred_username", "email", "sub"];

    /// <summary>The link that starts a sign-in and comes back to <paramref name="returnUrl"/>.</summary>
    public static string ChallengeUrlFor(string returnUrl) => $"{ChallengePath}?returnUrl={Uri.EscapeDataString(returnUrl)}";

    /// <summary>Adds the scheme when <c>Security:Oidc:Authority</c> is set; its settings are checked at start (<see cref="SecurityOptionsValidation"/>).</summary>
    public static void AddIfConfigured(AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var configured = configuration.GetSection(SecurityOptions.Section).GetSection(nameof(SecurityOptions.Oidc)).Get<OidcOptions>();
        if (configured is not { Enabled: true }) return;
        authentication.AddOpenIdConnect(Scheme, _ => { });
        authentication.Services.AddOptions<OpenIdConnectOptions>(Scheme).Configure<IOptions<SecurityOptions>>((o, security) => Configure(o, security.Value.Oidc));
    }

    private static void Configure(OpenIdConnectOptions o, OidcOptions oidc)
    {
        o.Authority = oidc.Authority;
        // Plain http only for a provider on this machine (SecurityOptionsValidation refuses it elsewhere).
        o.RequireHttpsMetadata = !(Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority) && authority.Scheme == "http" && authority.IsLoopback);
        o.ClientId = oidc.ClientId;
        o.ClientSecret = string.IsNullOrEmpty(oidc.ClientSecret) ? null : oidc.ClientSecret;
        o.ResponseType = OpenIdConnectResponseType.Code;
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.UsePkce = true;
        o.CallbackPath = CallbackPath;
        o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        o.Scope.Clear();
        o.Scope.Add(OpenIdConnectScope.OpenId);
        foreach (var scope in oidc.Scopes.Count > 0 ? oidc.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)) : ["profile", "email"]) o.Scope.Add(scope);
        o.GetClaimsFromUserInfoEndpoint = false;
        o.SaveTokens = false;
        o.MapInboundClaims = false; // claims keep the names the provider gave them, so RoleClaim means what it says
        // The provider returns the browser with a top-level GET, which carries SameSite=Lax cookies, also over http on loopback.
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Events.OnTokenValidated = context =>
        {
            var token = context.Principal!;
            string name = NameClaims.Select(token.FindFirstValue).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) ?? "unnamed user";
            var role = oidc.RoleOf(token.FindAll(oidc.RoleClaim).Select(c => c.Value));
            context.Principal = TrackerClaims.ForSession(name, role, keySha256: null);
            Logger(context.HttpContext).LogInformation("{Name} signed in to the dashboard through {Provider} as {Role}", name, oidc.DisplayName, role);
            return Task.CompletedTask;
        };
        o.Events.OnRemoteFailure = context =>
        {
            Logger(context.HttpContext).LogWarning(context.Failure, "A dashboard sign-in through {Provider} failed", oidc.DisplayName);
            context.Response.Redirect($"{DashboardSignIn.SignInPath}?failed=1");
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    private static ILogger Logger(HttpContext context) => context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn));

    /// <summary>Maps <see cref="ChallengePath"/> and <see cref="CompletePath"/>; both answer 404 where OpenID Connect is not configured.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(ChallengePath, (IOptions<SecurityOptions> security, string? returnUrl) => !security.Value.Oidc.Enabled ? Results.NotFound()
            : Results.Challenge(new AuthenticationProperties { RedirectUri = $"{CompletePath}?returnUrl={Uri.EscapeDataString(DashboardSignIn.LocalOrHome(returnUrl))}" }, [Scheme]))
            .ExcludeFromDescription();

        // The session cookie is SameSite=Strict, so a browser does not send it along the redirects that began at the
        // provider's site; this page's own navigation to the dashboard is this site's, and it does.
        app.MapGet(CompletePath, (IOptions<SecurityOptions> security, string? returnUrl) =>
        {
            if (!security.Value.Oidc.Enabled) return Results.NotFound();
            string target = WebUtility.HtmlEncode(DashboardSignIn.LocalOrHome(returnUrl));
            return Results.Content($"""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8" /><meta http-equiv="refresh" content="0;url={target}" /><title>Signed in · Tracker</title></head>
                <body style="font-family: system-ui, sans-serif; margin: 3rem;"><p>Signed in. <a href="{target}" data-testid="continue">Continue to the dashboard</a>.</p></body></html>
                """, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
    }
}
