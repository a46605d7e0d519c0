using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tracker.Server.Tests;

/// <summary>
/// A small OpenID Connect provider for the sign-in tests, on Kestrel at a free loopback port: its discovery document,
/// its signing key (JWKS), an authorize endpoint that signs in <see cref="NextUser"/> at once and sends the browser
/// back with a code, and a token endpoint that checks the client's secret, the redirect URI and the PKCE verifier, and
/// answers with an RS256-signed ID token carrying the nonce it was given.
/// </summary>
public sealed class TestOidcProvider : IAsyncDisposable
{
    public const string ClientId = "tracker-dashboard";
    public const string ClientSecret = "test-client-secret";

    private readonly WebApplication app;
    private readonly RSA key = RSA.Create(2048);
    private readonly RSA otherKey = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, Grant> grants = new();
    private const string KeyId = "test-key-1";

    private sealed record Grant(string RedirectUri, string Nonce, string CodeChallenge, TestUser User);

    /// <summary>A user the provider signs in: the subject, the display name and the values of the role claim.</summary>
    public sealed record TestUser(string Subject, string Name, IReadOnlyList<string> Groups);

    private TestOidcProvider(WebApplication app) => this.app = app;

    /// <summary>The issuer URL (also the authority the server is configured with).</summary>
    public string Issuer { get; private set; } = "";

    /// <summary>Who the next authorize request signs in.</summary>
    public TestUser NextUser { get; set; } = new("user-1", "Ada", []);

    /// <summary>The claim the provider puts the user's groups in.</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>Sign ID tokens with a key the provider does not publish (an impostor's token).</summary>
    public bool SignWithUnpublishedKey { get; set; }

    /// <summary>How many codes the token endpoint has exchanged.</summary>
    public int TokensIssued => tokensIssued;

    private int tokensIssued;

    public static async Task<TestOidcProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var provider = new TestOidcProvider(builder.Build());
        provider.Map();
        await provider.app.StartAsync();
        provider.Issuer = provider.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return provider;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private void Map()
    {
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = $"{Issuer}/authorize",
            ["token_endpoint"] = $"{Issuer}/token",
            ["jwks_uri"] = $"{Issuer}/jwks",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["code_challenge_methods_supported"] = new[] { "S256" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
        }));

        app.MapGet("/jwks", () =>
        {
            var parameters = key.ExportParameters(includePrivateParameters: false);
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = KeyId, n = Base64Url(parameters.Modulus!), e = Base64Url(parameters.Exponent!) } } });
        });

        app.MapGet("/authorize", (HttpRequest request) =>
        {
            var q = request.Query;
            if (q["client_id"] != ClientId || q["response_type"] != "code" || q["code_challenge_method"] != "S256"
                || string.IsNullOrEmpty(q["redirect_uri"]) || string.IsNullOrEmpty(q["nonce"]) || string.IsNullOrEmpty(q["code_challenge"]))
                return Results.BadRequest("unexpected authorization request: " + request.QueryString);
            string code = Base64Url(RandomNumberGenerator.GetBytes(24));
            grants[code] = new Grant(q["redirect_uri"]!, q["nonce"]!, q["code_challenge"]!, NextUser);
            return Results.Redirect($"{q["redirect_uri"]}?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });

        app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            string? clientId = form["client_id"], secret = form["client_secret"];
            if (request.Headers.Authorization.ToString() is { Length: > 6 } basic && basic.StartsWith("Basic ", StringComparison.Ordinal))
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..])).Split(':', 2);
                (clientId, secret) = (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
            }
            if (clientId != ClientId || secret != ClientSecret) return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            if (form["grant_type"] != "authorization_code" || !grants.TryRemove(form["code"].ToString(), out var grant)
                || grant.RedirectUri != form["redirect_uri"]
                || Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != grant.CodeChallenge)
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            Interlocked.Increment(ref tokensIssued);
            return Results.Json(new
            {
                access_token = Base64Url(RandomNumberGenerator.GetBytes(24)),
                token_type = "Bearer",
                expires_in = 300,
                id_token = IdToken(grant),
            });
        });
    }

    private string IdToken(Grant grant)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = grant.User.Subject,
            ["aud"] = ClientId,
            ["iat"] = now,
            ["exp"] = now + 300,
            ["nonce"] = grant.Nonce,
            ["name"] = grant.User.Name,
            [GroupsClaim] = grant.User.Groups,
        };
        string header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", kid = KeyId }));
        string body = Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload));
        byte[] signature = (SignWithUnpublishedKey ? otherKey : key).SignData(Encoding.ASCII.GetBytes($"{header}.{body}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{body}.{Base64Url(signature)}";
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        key.Dispose();
        otherKey.Dispose();
    }
}
