using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Tracker.Client;

/// <summary>
/// Sends one request with the API key, a per-attempt timeout and retries of transient failures (connection errors,
/// timeouts, 408, 429 honouring <c>Retry-After</c>, 5xx), with exponential backoff and jitter. An error answer that is
/// not transient, or still transient after the last attempt, becomes a <see cref="TrackerApiException"/>; a failure
/// with no answer at all is rethrown as it came (<see cref="HttpRequestException"/>, <see cref="TimeoutException"/>).
/// </summary>
internal sealed class TrackerHttp(HttpClient http, Uri baseAddress, TrackerClientOptions options)
{
    /// <summary>The header that makes a retried write count once on the server.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>Sends until success and returns the successful answer (the caller disposes it).</summary>
    /// <param name="method">The method.</param>
    /// <param name="path">The path and query relative to the server, without a leading slash (e.g. <c>api/runs</c>).</param>
    /// <param name="content">Makes the body for each attempt, or <c>null</c> for none.</param>
    /// <param name="cancellationToken">Cancels the request and its retries.</param>
    /// <param name="idempotencyKey">
    /// Sent as <c>Idempotency-Key</c> on every attempt, so that the server logs a retried write once even when an earlier
    /// attempt was stored but its answer lost; <c>null</c> for none.
    /// </param>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Func<HttpContent>? content, CancellationToken cancellationToken,
        string? idempotencyKey = null)
    {
        var uri = new Uri(baseAddress, path);
        for (int attempt = 1; ; attempt++)
        {
            bool last = attempt >= options.Retry.MaxAttempts;
            using var request = new HttpRequestMessage(method, uri) { Content = content?.Invoke() };
            if (options.ApiKey is { Length: > 0 } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (idempotencyKey is not null) request.Headers.Add(IdempotencyHeader, idempotencyKey);

            HttpResponseMessage response;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.RequestTimeout);
                try
                {
                    response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                }
                catch (HttpRequestException) when (!last && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    if (last) throw new TimeoutException($"{method} /{path} got no answer within {options.RequestTimeout.TotalSeconds:0.###} s, {attempt} time(s).");
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
            }

            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                if (IsTransient(response.StatusCode) && !last)
                {
                    var delay = RetryAfter(response) ?? Backoff(attempt);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                throw await ErrorAsync(method, path, response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends and reads the successful answer's JSON body as <typeparamref name="T"/>.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, Func<HttpContent>? content, CancellationToken cancellationToken,
        string? idempotencyKey = null)
    {
        using var response = await SendAsync(method, path, content, cancellationToken, idempotencyKey).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(ClientJson.Options, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException($"{method} /{path} answered {(int)response.StatusCode} with an empty body.");
    }

    /// <summary>A body factory for <paramref name="value"/> as JSON: serialised once, a fresh content per attempt.</summary>
    public static Func<HttpContent> Json<T>(T value)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(value, ClientJson.Options);
        return () =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            return content;
        };
    }

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The doubling delay before retry number <paramref name="attempt"/>, jittered into [½, 1] of itself so that clients do not retry in step.</summary>
    private TimeSpan Backoff(int attempt)
    {
        double full = Math.Min(options.Retry.MaxDelay.TotalMilliseconds, options.Retry.InitialDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(full * (0.5 + 0.5 * Random.Shared.NextDouble()));
    }

    /// <summary>The delay the server asked for, capped at <see cref="RetryOptions.MaxDelay"/>, or <c>null</c> when it named none.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (delay is not { } d) return null;
        return d < TimeSpan.Zero ? TimeSpan.Zero : d > options.Retry.MaxDelay ? options.Retry.MaxDelay : d;
    }

    private static async Task<TrackerApiException> ErrorAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? title = null, detail = null;
        Dictionary<string, string[]>? errors = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = Text(root, "title");
                detail = Text(root, "detail") ?? Text(root, "message"); // MLflow's shape names it message
                if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    errors = [];
                    foreach (var field in fields.EnumerateObject())
                    {
                        errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                            ? field.Value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText()).ToArray()
                            : [field.Value.ToString()];
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not problem details (a proxy's page, plain text): the body is kept as it came.
        }
        return new TrackerApiException(method.Method, "/" + path, response.StatusCode, title, detail, errors, body.Length == 0 ? null : body);

        static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
