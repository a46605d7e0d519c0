using Microsoft.Extensions.Options;
using Tracker.Core.Storage;

namespace Tracker.Server.Security;

/// <summary>Refuses to start with a configured key that has no name or whose hash is not a SHA-256 in hex, or other malformed security settings.</summary>
public sealed class SecurityOptionsValidation : IValidateOptions<SecurityOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Reads))
            failures.Add($"Security:Reads must be one of {string.Join(", ", Enum.GetNames<ReadAccess>())}.");
        if (!Enum.IsDefined(options.Dashboard))
            failures.Add($"Security:Dashboard must be one of {string.Join(", ", Enum.GetNames<ReadAccess>())}.");
        if (options.FailedKeyChecksPerMinute < 1)
            failures.Add("Security:FailedKeyChecksPerMinute must be at least 1.");
        for (int i = 0; i < options.AllowedOrigins.Count; i++)
            if (!Uri.TryCreate(options.AllowedOrigins[i], UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https")
                || origin.PathAndQuery != "/")
                failures.Add($"Security:AllowedOrigins:{i} must be an origin such as https://host:8443 (scheme, host and port only), not '{options.AllowedOrigins[i]}'.");
        for (int i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            if (string.IsNullOrWhiteSpace(key.Name))
                failures.Add($"Security:ApiKeys:{i}:Name must be set.");
            if (key.Sha256.Length != 64 || !key.Sha256.All(char.IsAsciiHexDigit))
                failures.Add($"Security:ApiKeys:{i}:Sha256 must be the 64 hex digits of the key's SHA-256 (printf %s \"$KEY\" | sha256sum), not the key.");
            if (key.Role is { } role && !Enum.IsDefined(role))
                failures.Add($"Security:ApiKeys:{i}:Role must be one of {TrackerRoles.All}.");
        }
        if (!Enum.IsDefined(options.OpenAccessRole))
            failures.Add($"Security:OpenAccessRole must be one of {TrackerRoles.All}.");
        if (options.Oidc.Enabled) failures.AddRange(OidcProblems(options.Oidc));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The provider's documents and tokens must come over TLS, except from this machine (a provider run for testing).
    private static IEnumerable<string> OidcProblems(OidcOptions oidc)
    {
        if (!Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("http" or "https"))
            yield return $"Security:Oidc:Authority must be the provider's issuer URL, not '{oidc.Authority}'.";
        else if (authority.Scheme == "http" && !authority.IsLoopback)
            yield return $"Security:Oidc:Authority must be an https URL (http only for a provider on this machine), not '{oidc.Authority}'.";
        if (string.IsNullOrWhiteSpace(oidc.ClientId))
            yield return "Security:Oidc:ClientId must be set when Security:Oidc:Authority is.";
        if (string.IsNullOrWhiteSpace(oidc.RoleClaim))
            yield return "Security:Oidc:RoleClaim must name a claim of the ID token.";
    }
}
