using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Tracker.Server.Tests;

/// <summary>
/// Bodies over the server's size limit get 413 with a body (problem details; MLflow's error shape on its routes), not a
/// 500, and the server keeps serving. On Kestrel itself, which enforces the limit (the in-memory test server does not).
/// </summary>
public sealed class BodyLimitTests : IAsyncLifetime
{
    private readonly TrackerServerFactory factory = new(TrackerServerFactory.NewDataFolder());
    private HttpClient client = null!;

    public ValueTask InitializeAsync()
    {
        factory.UseKestrel(0);
        factory.StartServer();
        using var kestrel = factory.CreateClient(); // for the address Kestrel listens on
        // As curl and MLflow's clients do for big bodies, ask before sending (Expect: 100-continue), so the server can
        // answer before the body is sent and the answer is read rather than lost to a connection the server closes
        // mid-upload; and wait for that answer as long as a loaded machine needs (the default is 1 s, then it sends).
        client = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(2) }) { BaseAddress = kestrel.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
        client.DefaultRequestHeaders.ExpectContinue = true;
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await factory.DisposeAsync();
    }

    [Theory]
    [InlineData("/api/experiments", "application/problem+json")]
    [InlineData("/api/runs", "application/problem+json")]
    [InlineData("/api/2.0/mlflow/runs/log-batch", "application/json")]
    public async Task Post_BodyOverTheServersLimit_413WithABody(string path, string mediaType)
    {
        // Just over Kestrel's 30,000,000-byte limit: JSON whitespace, so that only the size is wrong.
        var body = new StringContent("{" + new string(' ', 30_000_100) + "}", Encoding.UTF8, "application/json");

        var response = await client.PostAsync(path, body, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("too large", text);
        if (path.Contains("mlflow", StringComparison.Ordinal)) Assert.Contains("\"error_code\"", text);
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz", TestContext.Current.CancellationToken);
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }
}
