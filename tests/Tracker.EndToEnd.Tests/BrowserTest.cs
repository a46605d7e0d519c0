using Microsoft.Playwright;

namespace Tracker.EndToEnd.Tests;

/// <summary>
/// What every browser test shares: a fresh page in its own context, the page's errors (uncaught exceptions, and console
/// errors, which is where Blazor reports a broken circuit), opening a page and waiting until it is interactive, and
/// waits that explain the server's state when they time out.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class BrowserTest(BrowserFixture fixture) : IAsyncLifetime
{
    /// <summary>The shared server and browser.</summary>
    protected BrowserFixture Fixture { get; } = fixture;

    /// <summary>This test's page.</summary>
    protected IPage Page { get; private set; } = default!;

    /// <summary>Errors the page reported; tests assert it stays empty.</summary>
    protected List<string> PageErrors { get; } = [];

    /// <summary>The test's cancellation.</summary>
    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        Page = await Fixture.NewPageAsync();
        Page.PageError += (_, error) => PageErrors.Add(error);
        Page.Console += (_, m) => { if (m.Type == "error") PageErrors.Add(m.Text); };
    }

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        await Page.Context.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Opens <paramref name="path"/> and waits until the circuit has rendered it interactively.</summary>
    protected async Task OpenAsync(string path)
    {
        var response = await Page.GotoAsync(path);
        Assert.Equal(200, response?.Status);
        await WaitForInteractiveAsync();
    }

    /// <summary>Prerendered HTML arrives first; the layout marks itself once the circuit renders it interactively.</summary>
    protected Task WaitForInteractiveAsync() =>
        Page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    /// <summary>
    /// Waits for a browser-side condition; on timeout fails with what the server and the page were doing, since a
    /// bare Playwright timeout cannot tell a stalled trial from a page that stopped updating.
    /// </summary>
    protected async Task WaitForPageAsync(string expression, object? argument, TimeSpan timeout, string what)
    {
        try
        {
            await Page.WaitForFunctionAsync(expression, argument, new() { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.\n{await DescribeAsync()}");
        }
    }

    /// <summary>Waits for a server-side condition, failing like <see cref="WaitForPageAsync"/> on timeout.</summary>
    protected async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}.\n{await DescribeAsync()}");
            await Task.Delay(200, Cancellation);
        }
    }

    /// <summary>Saves a screenshot of the page (see <see cref="BrowserFixture.ScreenshotAsync"/>).</summary>
    protected Task ScreenshotAsync(string name, bool fullPage = true) => BrowserFixture.ScreenshotAsync(Page, name, fullPage);

    private async Task<string> DescribeAsync()
    {
        string reconnect = await Page.EvaluateAsync<string>(
            "() => { const m = document.querySelector('#components-reconnect-modal'); return m ? (m.className || 'present') : 'none'; }");
        // What the page shows next to what the server has: a gap between the two is a page that stopped updating.
        string[] states = await Page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('[data-testid=state]')].map(s => s.textContent.trim())");
        return $"{await Fixture.DescribeServerAsync()}\npage {Page.Url}; states shown: [{string.Join(", ", states)}]; reconnect dialog: {reconnect}; "
            + $"page errors: [{string.Join(" | ", PageErrors)}]";
    }
}
