using System.Net;
using System.Net.Http.Headers;

namespace Tracker.Server.Tests;

/// <summary>An unknown address: the dashboard's own page for a browser, still a 404; problem details for the API.</summary>
public sealed class NotFoundPageTests
{
    [Fact]
    public async Task UnknownAddress_BrowserGetsThePage_ApiGetsProblemDetails()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var factory = new TrackerServerFactory(TrackerServerFactory.NewDataFolder());
        var client = factory.CreateClient();

        using var page = new HttpRequestMessage(HttpMethod.Get, "/no/such/page");
        page.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var pageAnswer = await client.SendAsync(page, cancel);
        Assert.Equal(HttpStatusCode.NotFound, pageAnswer.StatusCode);
        Assert.Equal("text/html", pageAnswer.Content.Headers.ContentType?.MediaType);
        string html = await pageAnswer.Content.ReadAsStringAsync(cancel);
        Assert.Contains("There is nothing at this address", html);
        Assert.Contains("<title>Not found · Tracker</title>", html);

        // The API never answers with the page, even to a browser.
        using var apiFromBrowser = new HttpRequestMessage(HttpMethod.Get, "/api/no-such-route");
        apiFromBrowser.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        var browserAnswer = await client.SendAsync(apiFromBrowser, cancel);
        Assert.Equal(HttpStatusCode.NotFound, browserAnswer.StatusCode);
        Assert.DoesNotContain("There is nothing at this address", await browserAnswer.Content.ReadAsStringAsync(cancel));
        using var api = new HttpRequestMessage(HttpMethod.Get, "/api/no-such-route");
        api.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var apiAnswer = await client.SendAsync(api, cancel);
        Assert.Equal(HttpStatusCode.NotFound, apiAnswer.StatusCode);
        Assert.Equal("application/problem+json", apiAnswer.Content.Headers.ContentType?.MediaType);

        var script = await client.GetAsync("/no/such/page", cancel); // no Accept: a script, not a person
        Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
        Assert.NotEqual("text/html", script.Content.Headers.ContentType?.MediaType);
    }
}
