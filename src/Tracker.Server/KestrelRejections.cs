using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.WebUtilities;

namespace Tracker.Server;

/// <summary>
/// Gives the answers Kestrel makes on its own a problem-details body. Kestrel refuses a request whose request line or
/// headers it cannot take (malformed, or over its limits: 400, 414 URI Too Long, 431, 505, 408 when they come too slowly)
/// before the application sees it, with an empty body, and offers no hook to change that.
/// </summary>
/// <remarks>
/// <para>
/// How: a connection middleware wraps each connection's output, and the first middleware of the application counts the
/// requests of the connection that are inside the application (from their start until Kestrel has written the whole
/// response, <see cref="HttpResponse.OnCompleted(Func{Task})"/>). Whatever Kestrel writes on a connection while none is
/// is Kestrel's own: it is held until Kestrel flushes it, and when it is a whole HTTP/1.x error response of
/// <c>Content-Length: 0</c> that closes the connection, the body (<c>application/problem+json</c> with type, title, status
/// and detail) is added and the <c>Content-Length</c> set to it. Anything else (HTTP/2 frames, bytes that are not a
/// response) is passed on unchanged, and the connection is not looked at again.
/// </para>
/// <para>
/// Not covered: connections Kestrel encrypts itself (HTTPS endpoints), whose bytes this sees before TLS, so those
/// answers keep their empty body; HTTP/2 and HTTP/3, which refuse a stream with a reset, not a response; and a
/// connection Kestrel closes without any answer.
/// </para>
/// </remarks>
public static class KestrelRejections
{
    /// <summary>Adds the connection middleware (to every endpoint, as Kestrel's endpoint defaults) and the request count.</summary>
    public static IServiceCollection AddKestrelRejectionBodies(this IServiceCollection services)
    {
        services.Configure<KestrelServerOptions>(options =>
            options.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
            {
                var requests = new RequestsInApp();
                connection.Features.Set(requests);
                connection.Transport = new Transport(connection.Transport, new RejectionBodyWriter(connection.Transport.Output, requests));
                return next(connection);
            })));
        services.AddSingleton<IStartupFilter, CountRequestsFilter>();
        return services;
    }

    /// <summary>
    /// When <paramref name="response"/> is a whole HTTP/1.x error response with an empty body that closes the connection
    /// (how Kestrel refuses a request), the same response with a problem-details body; else <c>null</c>.
    /// </summary>
    public static byte[]? WithProblemBody(ReadOnlySpan<byte> response)
    {
        int end = response.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 != response.Length || !response.StartsWith("HTTP/1."u8)) return null;
        var lines = Encoding.Latin1.GetString(response[..end]).Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !int.TryParse(status[1], out int code) || code is < 400 or > 599) return null;
        bool empty = false, closes = false;
        foreach (var line in lines.AsSpan(1))
        {
            if (IsHeader(line, "Content-Length")) empty = HeaderValue(line) == "0";
            else if (IsHeader(line, "Connection")) closes = HeaderValue(line).Equals("close", StringComparison.OrdinalIgnoreCase);
            else if (IsHeader(line, "Content-Type") || IsHeader(line, "Transfer-Encoding")) return null;
        }
        if (!empty || !closes) return null;

        byte[] body = ProblemBody(code);
        var head = new StringBuilder(lines[0]).Append("\r\n");
        foreach (var line in lines.AsSpan(1))
        {
            if (IsHeader(line, "Content-Length")) head.Append("Content-Type: application/problem+json\r\nContent-Length: ").Append(body.Length);
            else head.Append(line);
            head.Append("\r\n");
        }
        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    private static bool IsHeader(string line, string name) =>
        line.Length > name.Length && line[name.Length] == ':' && line.StartsWith(name, StringComparison.OrdinalIgnoreCase);

    private static string HeaderValue(string line) => line[(line.IndexOf(':') + 1)..].Trim();

    private static byte[] ProblemBody(int status)
    {
        var (type, detail) = status switch
        {
            400 => ("https://tools.ietf.org/html/rfc9110#section-15.5.1",
                "The server could not read the request: its request line or headers are malformed. Nothing was done."),
            408 => ("https://tools.ietf.org/html/rfc9110#section-15.5.9",
                "The request line and headers did not arrive in time (Kestrel's RequestHeadersTimeout). Nothing was done."),
            411 => ("https://tools.ietf.org/html/rfc9110#section-15.5.12",
                "A body needs a Content-Length or chunked Transfer-Encoding. Nothing was done."),
            414 => ("https://tools.ietf.org/html/rfc9110#section-15.5.15",
                "The request line (method, URL and version) is longer than the server accepts (Kestrel's MaxRequestLineSize). Nothing was done; send long queries in a body."),
            431 => ("https://tools.ietf.org/html/rfc6585#section-5",
                "The request headers are larger or more than the server accepts (Kestrel's MaxRequestHeadersTotalSize and MaxRequestHeaderCount). Nothing was done."),
            505 => ("https://tools.ietf.org/html/rfc9110#section-15.6.6",
                "The server speaks HTTP/1.0, HTTP/1.1 and HTTP/2. Nothing was done."),
            _ => (null, "The server refused the request before reading it. Nothing was done."),
        };
        string title = ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Request refused";
        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["type"] = type,
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
        }.Where(p => p.Value is not null).ToDictionary());
    }

    /// <summary>The requests of one connection that are inside the application.</summary>
    internal sealed class RequestsInApp
    {
        private int count;

        public bool Any => Volatile.Read(ref count) > 0;

        public void Enter() => Interlocked.Increment(ref count);

        public void Leave() => Interlocked.Decrement(ref count);
    }

    // First in the pipeline: a request is counted from its start until Kestrel has written all of its response
    // (OnCompleted runs after that). Kestrel's request features fall back to the connection's, where RequestsInApp is.
    private sealed class CountRequestsFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Features.Get<RequestsInApp>() is { } requests)
                {
                    requests.Enter();
                    context.Response.OnCompleted(static state =>
                    {
                        ((RequestsInApp)state).Leave();
                        return Task.CompletedTask;
                    }, requests);
                }
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    private sealed class Transport(IDuplexPipe inner, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;

        public PipeWriter Output => output;
    }

    /// <summary>
    /// The connection's output: passed through while a request is in the application; otherwise held until flushed, and
    /// given a body when it is Kestrel's empty error response (<see cref="WithProblemBody"/>).
    /// </summary>
    internal sealed class RejectionBodyWriter(PipeWriter inner, RequestsInApp requests) : PipeWriter
    {
        private ArrayBufferWriter<byte>? held;
        private bool passThrough;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes + (held?.WrittenCount ?? 0);

        private bool Holding
        {
            get
            {
                if (held is not null) return true;
                if (passThrough || requests.Any) return false;
                held = new ArrayBufferWriter<byte>(512);
                return true;
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => Holding ? held!.GetMemory(sizeHint) : inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Holding ? held!.GetSpan(sizeHint) : inner.GetSpan(sizeHint);

        public override void Advance(int bytes)
        {
            if (held is not null) held.Advance(bytes);
            else inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Release();
            return inner.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            Release();
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            Release();
            return inner.CompleteAsync(exception);
        }

        // Hands what was held to the connection: with a body when it is Kestrel's empty error response.
        private void Release()
        {
            if (held is not { } bytes) return;
            held = null;
            if (bytes.WrittenCount == 0) return;
            ReadOnlySpan<byte> written = bytes.WrittenSpan;
            if (!written.StartsWith("HTTP/1."u8)) passThrough = true; // not HTTP/1.x (HTTP/2 frames, TLS): never looked at again
            else if (WithProblemBody(written) is { } answered) written = answered;
            inner.Write(written);
        }
    }
}
