using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using Tracker.Server.Security;

namespace Tracker.Server.Tests;

/// <summary>
/// Dashboard sign-in through OpenID Connect, against <see cref="TestOidcProvider"/>: the flow is driven redirect by
/// redirect, as a browser follows it, and the session it ends in has the role that the ID token's groups give it,
/// which decides which pages it may open. A token the provider did not sign opens no session.
/// </summary>
public sealed class OidcSignInTests(OidcSignInTests.Servers servers) : IClassFixture<OidcSignInTests.Servers>
{
    /// <summary>The provider, and a server whose every request comes from another machine, configured to use it.</summary>
    public sealed class Servers : IAsyncLifetime
    {
        public TestOidcProvider Provider { get; private set; } = null!;

        public TrackerServerFactory Factory { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Provider = await TestOidcProvider.StartAsync();
            Factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
            {
                RemoteAddress = IPAddress.Parse("203.0.113.21"),
                Settings = new Dictionary<string, string>
                {
                    ["Security:Oidc:Authority"] = Provider.Issuer,
                    ["Security:Oidc:ClientId"] = TestOidcProvider.ClientId,
                    ["Security:Oidc:ClientSecret"] = TestOidcProvider.ClientSecret,
                    ["Security:Oidc:DisplayName"] = "Test IdP",
                    ["Security:Oidc:RoleClaim"] = "groups",
                    ["Security:Oidc:AdminValues:0"] = "tracker-admins",
                    ["Security:Oidc:EditorValues:0"] = "ml-team",
                    ["Security:Oidc:EditorValues:1"] = "data-team",
                },
            };
        }

        public async ValueTask DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Provider.DisposeAsync();
        }
    }

    private readonly TrackerServerFactory factory = servers.Factory;
    private readonly TestOidcProvider provider = servers.Provider;

    /// <summary>A browser: keeps this server's cookies, sends no key, shows redirects instead of following them.</summary>
    private HttpClient Browser()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>
    /// Follows the sign-in from the form's link to the page it returns to: the server sends the browser to the
    /// provider, the provider back with a code, the server exchanges it and opens the session.
    /// </summary>
    private async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string returnUrl)
    {
        string form = await browser.GetStringAsync(DashboardSignIn.SignInPath + "?returnUrl=" + Uri.EscapeDataString(returnUrl));
        var link = Regex.Match(form, "href=\"([^\"]+)\" data-testid=\"signin-oidc\">Sign in with Test IdP<");
        Assert.True(link.Success, "the sign-in form offers the provider");

        var challenge = await browser.GetAsync(WebUtility.HtmlDecode(link.Groups[1].Value));
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var authorize = challenge.Headers.Location!;
        Assert.StartsWith($"{provider.Issuer}/authorize?", authorize.AbsoluteUri);
        Assert.Contains("code_challenge_method=S256", authorize.Query);

        using var toProvider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var back = await toProvider.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        var callback = back.Headers.Location!;
        Assert.Equal(OidcSignIn.CallbackPath, callback.AbsolutePath);

        return await browser.GetAsync(callback.PathAndQuery);
    }

    /// <summary>Signs in to <paramref name="returnUrl"/> and follows the last steps back to it.</summary>
    private async Task<HttpClient> SignedInAsync(TestOidcProvider.TestUser user, string returnUrl = "/")
    {
        provider.NextUser = user;
        var browser = Browser();
        var signedIn = await SignInAsync(browser, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith(DashboardSignIn.CookieName + "=", StringComparison.Ordinal));
        Assert.Equal($"{OidcSignIn.CompletePath}?returnUrl={Uri.EscapeDataString(returnUrl)}", signedIn.Headers.Location?.OriginalString);
        string complete = await browser.GetStringAsync(signedIn.Headers.Location);
        Assert.Contains($"content=\"0;url={WebUtility.HtmlEncode(returnUrl)}\"", complete);
        return browser;
    }

    private static async Task<(HttpStatusCode Status, string Html)> OpenAsync(HttpClient browser, string path)
    {
        var response = await browser.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string RoleChip(string html) => Regex.Match(html, "data-testid=\"role\"[^>]*>(?:<[^>]+>)*\\s*([a-z]+)").Groups[1].Value;

    [Theory]
    [InlineData("admin", new[] { "staff", "tracker-admins" })]
    [InlineData("editor", new[] { "data-team" })]
    [InlineData("viewer", new[] { "staff" })]
    [InlineData("viewer", new string[0])]
    public async Task SignIn_GroupsGiveTheRole_AndTheRoleDecidesThePages(string role, string[] groups)
    {
        var browser = await SignedInAsync(new TestOidcProvider.TestUser($"sub-{role}-{groups.Length}", $"Ada {role}", groups), "/plugins");

        var (status, home) = await OpenAsync(browser, "/plugins");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(role, RoleChip(home));
        Assert.Contains("data-testid=\"signout\"", home);
        var keys = await OpenAsync(browser, "/settings/api-keys");
        var newExperiment = await OpenAsync(browser, "/experiments/new");
        Assert.Equal(role == "admin" ? HttpStatusCode.OK : HttpStatusCode.Forbidden, keys.Status);
        Assert.Equal(role == "viewer" ? HttpStatusCode.Forbidden : HttpStatusCode.OK, newExperiment.Status);
        if (role == "admin") Assert.Contains("data-testid=\"create-key\"", keys.Html);
        else Assert.Contains($"GET /settings/api-keys needs the admin role; the dashboard session of 'Ada {role}' ({role}) may not.", WebUtility.HtmlDecode(keys.Html));
        // The menu offers what the role may open.
        Assert.Equal(role != "viewer", home.Contains("href=\"/experiments/new\""));
        Assert.Equal(role == "admin", home.Contains("href=\"/settings/api-keys\""));
        // A session, whatever its role, reads the API but writes nothing there: writes need a key.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/api/runs", new StringContent("{}"))).StatusCode);
    }

    [Fact]
    public async Task SignIn_TokenNotSignedByTheProvider_NoSession()
    {
        provider.NextUser = new TestOidcProvider.TestUser("impostor", "Mallory", ["tracker-admins"]);
        provider.SignWithUnpublishedKey = true;
        try
        {
            var browser = Browser();
            var refused = await SignInAsync(browser, "/settings/api-keys");

            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal($"{DashboardSignIn.SignInPath}?failed=1", refused.Headers.Location?.OriginalString);
            Assert.DoesNotContain(refused.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith(DashboardSignIn.CookieName + "=", StringComparison.Ordinal));
            var (status, _) = await OpenAsync(browser, "/settings/api-keys");
            Assert.Equal(HttpStatusCode.Redirect, status); // to the sign-in form
            Assert.Contains("Signing in through Test IdP did not succeed", await browser.GetStringAsync(refused.Headers.Location));
        }
        finally
        {
            provider.SignWithUnpublishedKey = false;
        }
    }

    [Fact]
    public async Task SignIn_CallbackReplayedByAnotherBrowser_RefusedWithoutAnotherTokenExchange()
    {
        provider.NextUser = new TestOidcProvider.TestUser("twice", "Twice", ["ml-team"]);
        var browser = Browser();
        string form = await browser.GetStringAsync(DashboardSignIn.SignInPath);
        var challenge = await browser.GetAsync(OidcSignIn.ChallengeUrlFor("/"));
        using var toProvider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var callback = (await toProvider.GetAsync(challenge.Headers.Location)).Headers.Location!;
        int issued = provider.TokensIssued;

        var first = await browser.GetAsync(callback.PathAndQuery);
        var replay = await Browser().GetAsync(callback.PathAndQuery); // another browser, without the first one's correlation cookie

        Assert.Contains("signin-oidc", form);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.StartsWith(OidcSignIn.CompletePath, first.Headers.Location?.OriginalString);
        Assert.Equal($"{DashboardSignIn.SignInPath}?failed=1", replay.Headers.Location?.OriginalString);
        Assert.Equal(issued + 1, provider.TokensIssued);
    }

    [Fact]
    public async Task NotConfigured_NoProviderOnTheFormAndItsPaths404()
    {
        await using var plain = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var browser = plain.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.DoesNotContain("signin-oidc", await browser.GetStringAsync(DashboardSignIn.SignInPath));
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync(OidcSignIn.ChallengeUrlFor("/"))).StatusCode);
    }

    [Theory]
    [InlineData("http://idp.example.org", "my-client", "must be an https URL")]
    [InlineData("not a url", "my-client", "must be the provider's issuer URL")]
    [InlineData("https://idp.example.org", "", "Security:Oidc:ClientId must be set")]
    public async Task Start_MisconfiguredProvider_Refused(string authority, string clientId, string message)
    {
        await using var misconfigured = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            Settings = new Dictionary<string, string> { ["Security:Oidc:Authority"] = authority, ["Security:Oidc:ClientId"] = clientId },
        };

        var error = Assert.Throws<OptionsValidationException>(() => misconfigured.Services);
        Assert.Contains(message, error.Message);
    }
}
