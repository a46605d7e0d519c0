using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Core.Storage;
using Tracker.Server.Security;

namespace Tracker.Server.Tests;

/// <summary>
/// Signing in to the dashboard with an API key, on the real server: from another machine the dashboard asks for a key
/// first (by default), a session opens its pages, its circuit and the API reads its pages make, never API writes, and
/// revoking the key or signing out ends it.
/// </summary>
public sealed class DashboardSignInTests(DashboardSignInTests.RemoteServer server) : IClassFixture<DashboardSignInTests.RemoteServer>
{
    /// <summary>One server whose every request comes from another machine, under the default settings.</summary>
    public sealed class RemoteServer : IAsyncDisposable
    {
        public TrackerServerFactory Factory { get; } = new(TrackerServerFactory.NewDataFolder()) { RemoteAddress = OtherMachine };

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private static readonly IPAddress OtherMachine = IPAddress.Parse("203.0.113.9");

    private readonly TrackerServerFactory factory = server.Factory;

    /// <summary>A browser-like client: keeps cookies, sends no key, and shows redirects instead of following them.</summary>
    private static HttpClient Browser(TrackerServerFactory factory)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>Opens the form (which sets the antiforgery cookie and carries its token) and posts it with <paramref name="key"/>.</summary>
    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string key, string returnUrl = "/")
    {
        string form = await browser.GetStringAsync(DashboardSignIn.SignInPath);
        return await browser.PostAsync(DashboardSignIn.SignInPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["key"] = key,
            ["returnUrl"] = returnUrl,
            [FormTokenName] = FormToken(form),
        }));
    }

    private const string FormTokenName = "__RequestVerificationToken";

    private static string FormToken(string html)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, $"name=\"{FormTokenName}\" value=\"([^\"]+)\"");
        Assert.True(match.Success, "the sign-in form carries an antiforgery token");
        return System.Net.WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private static async Task SignedInAsync(HttpClient browser, string key)
    {
        var response = await SignInAsync(browser, key);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    private static void AssertSentToSignIn(HttpResponseMessage response, string from)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/signin?returnUrl={Uri.EscapeDataString(from)}", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Page_FromAnotherMachine_SignInWithAKey_BackOnThePage()
    {
        var browser = Browser(factory);

        AssertSentToSignIn(await browser.GetAsync("/runs?state=completed"), "/runs?state=completed");
        var form = await browser.GetAsync("/signin?returnUrl=%2Fruns%3Fstate%3Dcompleted");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        string html = await form.Content.ReadAsStringAsync();
        Assert.Contains("<form method=\"post\" action=\"/signin\">", html);
        Assert.Contains("name=\"returnUrl\" value=\"/runs?state=completed\"", html);

        var signIn = await SignInAsync(browser, TrackerServerFactory.TestKey, "/runs?state=completed");

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/runs?state=completed", signIn.Headers.Location?.OriginalString);
        string cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith(DashboardSignIn.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(TrackerServerFactory.TestKey, cookie); // the cookie names the key by its hash, encrypted
        var page = await browser.GetAsync("/runs?state=completed");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("data-testid=\"signout\"", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await browser.PostAsync("/_blazor/negotiate?negotiateVersion=1", null)).StatusCode);
    }

    [Fact]
    public async Task Circuit_FromAnotherMachine_WithoutSession_Refused()
    {
        var browser = Browser(factory);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/_blazor/negotiate?negotiateVersion=1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/_blazor/initializers")).StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongOrEmptyKey_FormAgainWithErrorAndNoSession()
    {
        var browser = Browser(factory);

        var wrong = await SignInAsync(browser, "trk_NotAKeyOfThisServer000000000000");
        var empty = await SignInAsync(browser, "  ");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("That key is not valid", await wrong.Content.ReadAsStringAsync());
        Assert.False(wrong.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.Unauthorized, empty.StatusCode);
        Assert.Contains("Enter an API key.", await empty.Content.ReadAsStringAsync());
        AssertSentToSignIn(await browser.GetAsync("/"), "/");
    }

    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example")]
    [InlineData("")]
    public async Task SignIn_ReturnUrlOffThisServer_GoesToTheDashboardHome(string returnUrl)
    {
        var signIn = await SignInAsync(Browser(factory), TrackerServerFactory.TestKey, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Session_OpensApiReadsAndTheHub_NotApiWrites()
    {
        var browser = Browser(factory);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/experiments")).StatusCode);

        await SignedInAsync(browser, TrackerServerFactory.TestKey);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/experiments")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.PostAsync("/hubs/metrics/negotiate?negotiateVersion=1", null)).StatusCode);
        var write = await browser.PostAsync("/api/runs", new StringContent("{\"experiment\":\"from a session\"}"));
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.Contains("needs an API key", await write.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Session_KeyRevoked_NextPageAsksToSignInAgain()
    {
        var keys = factory.Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateAsync("laptop", TrackerRole.Viewer, TestContext.Current.CancellationToken);
        var browser = Browser(factory);
        await SignedInAsync(browser, created.Key);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/plugins")).StatusCode);

        Assert.True(await keys.RevokeAsync(created.Record.Id, TestContext.Current.CancellationToken));

        AssertSentToSignIn(await browser.GetAsync("/plugins"), "/plugins");
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/experiments")).StatusCode);
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        var browser = Browser(factory);
        await SignedInAsync(browser, TrackerServerFactory.TestKey);

        var signOut = await browser.PostAsync(DashboardSignIn.SignOutPath, null);

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(DashboardSignIn.SignInPath, signOut.Headers.Location?.OriginalString);
        AssertSentToSignIn(await browser.GetAsync("/"), "/");
    }

    [Fact]
    public async Task FilesAndTheApiDescription_FromAnotherMachine_OpenWithoutSession()
    {
        var browser = Browser(factory);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/_framework/blazor.web.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Dashboard_FromThisMachine_OpenByDefault_SignInUnderRequireKey()
    {
        await using var local = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        await using var strict = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            Settings = new Dictionary<string, string> { ["Security:Dashboard"] = "RequireKey" },
        };

        var page = await Browser(local).GetAsync("/plugins");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("data-testid=\"signout\"", await page.Content.ReadAsStringAsync()); // nobody signed in
        var strictBrowser = Browser(strict);
        AssertSentToSignIn(await strictBrowser.GetAsync("/plugins"), "/plugins");
        await SignedInAsync(strictBrowser, TrackerServerFactory.TestKey);
        Assert.Equal(HttpStatusCode.OK, (await strictBrowser.GetAsync("/plugins")).StatusCode);
    }

    [Fact]
    public async Task Dashboard_FromAnotherMachine_OpenUnderOpen()
    {
        await using var open = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            RemoteAddress = OtherMachine,
            Settings = new Dictionary<string, string> { ["Security:Dashboard"] = "Open" },
        };

        Assert.Equal(HttpStatusCode.OK, (await Browser(open).GetAsync("/plugins")).StatusCode);
    }
}
