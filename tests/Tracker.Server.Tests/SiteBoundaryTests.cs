using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Tracker.Server.Security;

namespace Tracker.Server.Tests;

/// <summary>
/// Other sites' pages cannot use a server that a browser reaches on loopback: a foreign <c>Host</c> (DNS rebinding) is
/// refused, the hub, the dashboard's circuit and the sign-in form refuse a foreign <c>Origin</c>, the sign-in form needs
/// its antiforgery token, and an address that keeps sending wrong keys is refused for a while.
/// </summary>
public sealed class SiteBoundaryTests(SiteBoundaryTests.Server server) : IClassFixture<SiteBoundaryTests.Server>
{
    /// <summary>A server under the default settings, except few allowed key failures.</summary>
    public sealed class Server : IAsyncDisposable
    {
        public TrackerServerFactory Factory { get; } = new(TrackerServerFactory.NewDataFolder())
        {
            Settings = new Dictionary<string, string> { ["Security:FailedKeyChecksPerMinute"] = "3" },
        };

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
    }

    private readonly TrackerServerFactory factory = server.Factory;

    private static HttpRequestMessage Post(string path, string? origin = null, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        if (origin is not null) request.Headers.Add("Origin", origin);
        return request;
    }

    [Theory]
    [InlineData("localhost;127.0.0.1;[::1]", "http://127.0.0.1:5000")]
    [InlineData("localhost;127.0.0.1;[::1]", "http://localhost:5000;http://[::1]:5001")]
    [InlineData("tracker.example.org", "https://tracker.example.org:8443")]
    [InlineData("*", "http://0.0.0.0:5000")]
    [InlineData("*", "http://+:80")]
    [InlineData("localhost;127.0.0.1;[::1]", "")]
    public void HostsOf_TheConfiguredUrls(string expected, string urls) =>
        Assert.Equal(expected.Split(';'), SiteBoundary.HostsOf(urls));

    [Fact]
    public async Task ForeignHost_Refused_OwnHostsServed()
    {
        var client = factory.CreateClient();

        var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/experiments");
        rebound.Headers.Host = "attacker.example";
        var own = new HttpRequestMessage(HttpMethod.Get, "/api/experiments");
        own.Headers.Host = "127.0.0.1:5000";

        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(rebound)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(own)).StatusCode);
    }

    [Theory]
    [InlineData("/hubs/metrics/negotiate?negotiateVersion=1")]
    [InlineData("/_blazor/negotiate?negotiateVersion=1")]
    public async Task LiveConnections_FromAForeignOrigin_Refused_FromTheServersOwnPages_Accepted(string path)
    {
        var browser = factory.CreateAnonymousClient();

        var foreign = await browser.SendAsync(Post(path, "http://attacker.example"));
        var nullOrigin = await browser.SendAsync(Post(path, "null"));
        var own = await browser.SendAsync(Post(path, "http://localhost"));
        var ownBehindTls = await browser.SendAsync(Post(path, "https://localhost")); // a proxy that ends TLS forwards http
        var otherPort = await browser.SendAsync(Post(path, "http://localhost:8081"));
        var noOrigin = await browser.SendAsync(Post(path));

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("Foreign origin", await foreign.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, nullOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ownBehindTls.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noOrigin.StatusCode);
    }

    [Fact]
    public async Task SignIn_FromAForeignOrigin_Refused_WithoutTheFormsToken_NoSession()
    {
        var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        browser.DefaultRequestHeaders.Authorization = null;
        FormUrlEncodedContent Form() => new(new Dictionary<string, string> { ["key"] = TrackerServerFactory.TestKey, ["returnUrl"] = "/" });

        var foreign = await browser.SendAsync(Post(DashboardSignIn.SignInPath, "http://attacker.example", Form()));
        var tokenless = await browser.SendAsync(Post(DashboardSignIn.SignInPath, content: Form()));

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tokenless.StatusCode);
        Assert.Contains("did not come from this server", await tokenless.Content.ReadAsStringAsync());
        Assert.DoesNotContain(tokenless.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [],
            c => c.StartsWith(DashboardSignIn.CookieName + "=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongKeys_PastTheLimit_429WithRetryAfter_EvenForTheRightKey_OthersUnaffected()
    {
        using var guessing = new TrackerServerFactory(TrackerServerFactory.NewDataFolder())
        {
            RemoteAddress = IPAddress.Parse("198.51.100.7"),
            Settings = new Dictionary<string, string> { ["Security:FailedKeyChecksPerMinute"] = "3", ["Security:Reads"] = "Open" },
        };
        var wrong = guessing.CreateAnonymousClient();
        wrong.DefaultRequestHeaders.Add(ApiKeyMiddleware.KeyHeader, "trk_GuessedKey00000000000000000000");
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++) statuses.Add((await wrong.GetAsync("/api/experiments")).StatusCode);
        var right = await guessing.CreateClient().GetAsync("/api/experiments");
        var keyless = await guessing.CreateAnonymousClient().GetAsync("/api/experiments");
        var mlflow = await wrong.GetAsync("/api/2.0/mlflow/experiments/search?max_results=10");

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.Equal("60", right.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.OK, keyless.StatusCode); // no key, no guess: reads stay open as configured
        Assert.Equal(HttpStatusCode.TooManyRequests, mlflow.StatusCode);
        Assert.Contains("REQUEST_LIMIT_EXCEEDED", await mlflow.Content.ReadAsStringAsync());
        // The limit is per address: this process's own requests (the fixture's server) are not limited by the guesser's.
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().GetAsync("/api/experiments")).StatusCode);
    }
}
