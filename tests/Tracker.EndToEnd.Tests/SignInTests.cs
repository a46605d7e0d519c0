using Microsoft.Playwright;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// Signing in to the dashboard in a real browser, on a second server that asks everyone to sign in
/// (<c>Security:Dashboard=RequireKey</c>): the session cookie must carry the browser through the page and its circuit.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SignInTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Dashboard_RequireKey_WrongKeyRefused_RightKeyOpensLivePage_SignOutEndsIt()
    {
        await using var server = new TrackerServerFactory { Settings = new Dictionary<string, string> { ["Security:Dashboard"] = "RequireKey" } };
        server.Start();
        var page = await fixture.NewPageAsync(server);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("401", StringComparison.Ordinal)) errors.Add(m.Text); };
        try
        {
            await page.GotoAsync("/plugins");
            Assert.Equal("/signin?returnUrl=%2Fplugins", new Uri(page.Url).PathAndQuery);

            await page.FillAsync("#key", "trk_WrongKeyWrongKeyWrongKeyWrong00");
            await page.ClickAsync("[data-testid=signin]");
            await Assertions.Expect(page.Locator("[data-testid=signin-error]")).ToContainTextAsync("not valid");

            await page.FillAsync("#key", TrackerServerFactory.TestKey);
            await page.ClickAsync("[data-testid=signin]");
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/plugins");
            // Interactive means the circuit connected, which it does only with the session.
            await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
            var smallCnn = page.Locator("[data-testid=plugins] tbody tr").Filter(new() { HasText = "small-cnn" });
            await Assertions.Expect(smallCnn.Locator("[data-testid=plugin-status]")).ToHaveTextAsync("Active");
            await Assertions.Expect(page.Locator("[data-testid=signout]")).ToHaveAttributeAsync("title", "Signed in with the key 'e2e'");
            Assert.True(errors.Count == 0, string.Join("\n", errors));

            await page.ClickAsync("[data-testid=signout]");
            await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/signin");
            await page.GotoAsync("/");
            Assert.Equal("/signin?returnUrl=%2F", new Uri(page.Url).PathAndQuery);
        }
        finally
        {
            await page.Context.DisposeAsync();
        }
    }
}
