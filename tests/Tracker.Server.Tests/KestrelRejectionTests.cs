using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tracker.Server.Tests;

/// <summary>
/// The answers Kestrel makes itself, before the application sees a request (a malformed request line or header, a URL
/// or headers over its limits), carry a problem-details body; the application's own answers on the same connection are
/// left as they are. On Kestrel itself, with raw bytes over TCP, since HttpClient sends nothing malformed.
/// </summary>
public sealed class KestrelRejectionTests : IAsyncLifetime
{
    private readonly TrackerServerFactory factory = new(TrackerServerFactory.NewDataFolder());
    private Uri address = null!;

    public ValueTask InitializeAsync()
    {
        factory.UseKestrel(0);
        factory.StartServer();
        using var kestrel = factory.CreateClient();
        address = kestrel.BaseAddress!;
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await factory.DisposeAsync();

    private string Host => $"Host: {address.Authority}\r\n";

    public static TheoryData<string, string, int> Rejections => new()
    {
        { "a request line that is not one", "GARBAGE\r\n\r\n", 400 },
        { "two spaces after the method", "GET  /healthz HTTP/1.1\r\n{host}\r\n", 400 },
        { "an unknown HTTP version", "GET /healthz HTTP/1.7\r\n{host}\r\n", 505 },
        { "a header without a colon", "GET /healthz HTTP/1.1\r\n{host}No colon here\r\n\r\n", 400 },
        { "HTTP/1.1 without a Host", "GET /healthz HTTP/1.1\r\n\r\n", 400 },
        { "a 20 KB URL", "GET /api/experiments?q=" + new string('a', 20_000) + " HTTP/1.1\r\n{host}\r\n", 414 },
        { "40 KB of headers", "GET /healthz HTTP/1.1\r\n{host}" + string.Concat(Enumerable.Range(0, 40).Select(i => $"X-Filler-{i}: {new string('b', 1000)}\r\n")) + "\r\n", 431 },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task KestrelsOwnRejection_HasAProblemDetailsBody(string what, string request, int status)
    {
        var responses = await SendAsync(request.Replace("{host}", Host));

        var response = Assert.Single(responses);
        Assert.True(response.Status == status, $"{what}: {response.Status} {response.Body}");
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        Assert.Equal(Encoding.UTF8.GetByteCount(response.Body).ToString(), response.Header("Content-Length"));
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()), what);
        Assert.Contains("Nothing was done", problem.GetProperty("detail").GetString());
        Assert.Equal("close", response.Header("Connection"));

        using var client = factory.CreateClient();
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz", TestContext.Current.CancellationToken);
        Assert.Equal("ok", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task TheApplicationsAnswers_OnTheSameConnection_AreUnchanged()
    {
        string auth = $"Authorization: Bearer {TrackerServerFactory.TestKey}\r\n";
        var responses = await SendAsync(
            $"GET /healthz HTTP/1.1\r\n{Host}{auth}\r\n"
            + $"GET /api/experiments/no-such-experiment HTTP/1.1\r\n{Host}{auth}\r\n"
            + "GARBAGE\r\n\r\n");

        Assert.Equal([200, 404, 400], responses.Select(r => r.Status));
        Assert.Equal("ok", JsonDocument.Parse(responses[0].Body).RootElement.GetProperty("status").GetString());
        Assert.Equal("application/problem+json", responses[1].Header("Content-Type"));
        Assert.Contains("no-such-experiment", responses[1].Body);
        Assert.Null(responses[1].Header("Connection"));
        Assert.Equal("application/problem+json", responses[2].Header("Content-Type"));
        Assert.Equal("Bad Request", JsonDocument.Parse(responses[2].Body).RootElement.GetProperty("title").GetString());
    }

    /// <summary>Sends <paramref name="request"/> as it is and reads every response until the server closes the connection.</summary>
    private async Task<List<RawResponse>> SendAsync(string request)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20)); // Kestrel answers at once; only its 408 waits (30 s)
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), timeout.Token);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, timeout.Token);
        return RawResponse.ParseAll(received.ToArray());
    }

    private sealed record RawResponse(int Status, IReadOnlyList<(string Name, string Value)> Headers, string Body)
    {
        public string? Header(string name) => Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

        public static List<RawResponse> ParseAll(byte[] bytes)
        {
            var responses = new List<RawResponse>();
            int at = 0;
            while (at < bytes.Length)
            {
                int end = bytes.AsSpan(at).IndexOf("\r\n\r\n"u8);
                Assert.True(end >= 0, $"A response without the end of its head: {Encoding.Latin1.GetString(bytes, at, bytes.Length - at)}");
                var lines = Encoding.Latin1.GetString(bytes, at, end).Split("\r\n");
                at += end + 4;
                int status = int.Parse(lines[0].Split(' ')[1]);
                var headers = lines.Skip(1).Select(l => (l[..l.IndexOf(':')], l[(l.IndexOf(':') + 1)..].Trim())).ToList();
                var response = new RawResponse(status, headers, "");
                byte[] body;
                if (response.Header("Content-Length") is { } length)
                {
                    body = bytes[at..(at + int.Parse(length))];
                    at += body.Length;
                }
                else if (response.Header("Transfer-Encoding") == "chunked")
                {
                    using var chunks = new MemoryStream();
                    while (true)
                    {
                        int line = bytes.AsSpan(at).IndexOf("\r\n"u8);
                        int size = Convert.ToInt32(Encoding.Latin1.GetString(bytes, at, line).Split(';')[0], 16);
                        at += line + 2;
                        chunks.Write(bytes, at, size);
                        at += size + 2;
                        if (size == 0) break;
                    }
                    body = chunks.ToArray();
                }
                else
                {
                    body = bytes[at..];
                    at = bytes.Length;
                }
                responses.Add(response with { Body = Encoding.UTF8.GetString(body) });
            }
            return responses;
        }
    }
}
