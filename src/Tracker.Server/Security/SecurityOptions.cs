using Tracker.Core.Storage;

namespace Tracker.Server.Security;

/// <summary>Who may read the API and the live hub without a key, or open the dashboard without signing in.</summary>
public enum ReadAccess
{
    /// <summary>Requests from this machine go through; requests from elsewhere need a key. The default.</summary>
    OpenOnLoopback,

    /// <summary>Anyone who can reach the server goes through.</summary>
    Open,

    /// <summary>Every request needs a key, from this machine too.</summary>
    RequireKey,
}

/// <summary>
/// Options of the access rule, bound to <c>Security</c> in appsettings.json. Writes to <c>/api/**</c> always need a
/// key, of a role that may make them (<see cref="TrackerPolicies"/>); <see cref="Reads"/> says when reads do, and
/// <see cref="Dashboard"/> when opening the dashboard needs signing in, with a key or through <see cref="Oidc"/>.
/// </summary>
public sealed class SecurityOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Security";

    /// <summary>When reads (GET, HEAD, MLflow's searches, the hub) need a key. Defaults to <see cref="ReadAccess.OpenOnLoopback"/>.</summary>
    public ReadAccess Reads { get; set; } = ReadAccess.OpenOnLoopback;

    /// <summary>
    /// When the dashboard asks its visitors to sign in with an API key (at <c>/signin</c>) before it shows anything.
    /// Defaults to <see cref="ReadAccess.OpenOnLoopback"/>: a browser on this machine needs no key, one elsewhere does,
    /// since the dashboard can start training, delete runs and create API keys.
    /// </summary>
    public ReadAccess Dashboard { get; set; } = ReadAccess.OpenOnLoopback;

    /// <summary>
    /// Origins (<c>https://host:port</c>) besides the server's own whose browser pages may open the live hub, the
    /// dashboard's circuit or post the sign-in form; see <see cref="SiteBoundary"/>. Defaults to none.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Failed API key checks an address may make in a minute before it is refused for the rest of it (<see cref="KeyGuessLimiter"/>). Defaults to 20.</summary>
    public int FailedKeyChecksPerMinute { get; set; } = 20;

    /// <summary>Keys given in configuration, by hash: configuration never holds a key itself.</summary>
    public List<ConfiguredApiKey> ApiKeys { get; set; } = [];

    /// <summary>
    /// The role of a dashboard visitor whom <see cref="Dashboard"/> lets in without signing in: with the default
    /// <see cref="ReadAccess.OpenOnLoopback"/>, the single user on the server's own machine. Defaults to
    /// <see cref="TrackerRole.Admin"/>, as that user owns the server anyway (and could edit its configuration).
    /// </summary>
    public TrackerRole OpenAccessRole { get; set; } = TrackerRole.Admin;

    /// <summary>Signing in to the dashboard with an OpenID Connect provider; off unless <see cref="OidcOptions.Authority"/> is set.</summary>
    public OidcOptions Oidc { get; set; } = new();
}

/// <summary>
/// Dashboard sign-in through an OpenID Connect provider (authorization code flow with PKCE), bound to
/// <c>Security:Oidc</c>. The provider's user becomes a dashboard session whose role comes from one claim of its ID
/// token: <see cref="AdminValues"/> and <see cref="EditorValues"/> name the values that make an admin or an editor;
/// anyone else it signs in is a viewer.
/// </summary>
public sealed class OidcOptions
{
    /// <summary>The provider's issuer URL (its discovery document is under <c>.well-known/openid-configuration</c>); empty turns OpenID Connect off.</summary>
    public string Authority { get; set; } = "";

    /// <summary>This server's client id at the provider.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>This server's client secret at the provider; empty for a public client (PKCE alone).</summary>
    public string ClientSecret { get; set; } = "";

    /// <summary>What the sign-in page calls the provider. Defaults to "single sign-on".</summary>
    public string DisplayName { get; set; } = "single sign-on";

    /// <summary>The scopes asked for besides <c>openid</c>; none listed means <c>profile</c> and <c>email</c>.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The ID token claim whose values give the role (one value or an array of them). Defaults to <c>roles</c>.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Values of <see cref="RoleClaim"/> that make an admin (compared exactly).</summary>
    public List<string> AdminValues { get; set; } = [];

    /// <summary>Values of <see cref="RoleClaim"/> that make an editor (compared exactly).</summary>
    public List<string> EditorValues { get; set; } = [];

    /// <summary>Whether OpenID Connect sign-in is configured.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);

    /// <summary>The role that the values of <see cref="RoleClaim"/> give: the highest any of them names, else viewer.</summary>
    public TrackerRole RoleOf(IEnumerable<string> values)
    {
        var role = TrackerRole.Viewer;
        foreach (string value in values)
        {
            if (AdminValues.Contains(value, StringComparer.Ordinal)) return TrackerRole.Admin;
            if (EditorValues.Contains(value, StringComparer.Ordinal)) role = TrackerRole.Editor;
        }
        return role;
    }
}

/// <summary>A key from configuration: a name to show and the SHA-256 of the key (<c>printf %s "$KEY" | sha256sum</c>).</summary>
public sealed class ConfiguredApiKey
{
    /// <summary>What the key is for; shown on the dashboard's API keys page.</summary>
    public string Name { get; set; } = "";

    /// <summary>The hex SHA-256 of the key's UTF-8 bytes (64 hex digits, either case).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>What the key may do; unset, it is an editor (see <see cref="ApiKeyService.UnsetRole"/>).</summary>
    public TrackerRole? Role { get; set; }
}
