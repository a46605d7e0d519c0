using System.Globalization;
using System.Text.Json;
using Tracker.Core.Tracking;

namespace Tracker.Server.Api.Mlflow;

/// <summary>MLflow's error codes and the HTTP status each travels with.</summary>
public static class MlflowErrorCodes
{
    /// <summary>A request value is missing, malformed or not allowed (HTTP 400).</summary>
    public const string InvalidParameterValue = "INVALID_PARAMETER_VALUE";

    /// <summary>The experiment, run or tag does not exist (HTTP 404).</summary>
    public const string ResourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST";

    /// <summary>An experiment of that name exists (HTTP 400, as MLflow answers).</summary>
    public const string ResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS";

    /// <summary>No such endpoint (HTTP 404).</summary>
    public const string EndpointNotFound = "ENDPOINT_NOT_FOUND";

    /// <summary>The server failed (HTTP 500).</summary>
    public const string InternalError = "INTERNAL_ERROR";

    /// <summary>The request needs an API key, or its key is not valid (HTTP 401).</summary>
    public const string Unauthenticated = "UNAUTHENTICATED";

    /// <summary>The request's key or session has a role that may not do this (HTTP 403).</summary>
    public const string PermissionDenied = "PERMISSION_DENIED";

    /// <summary>Too many requests of a kind from one client, e.g. wrong API keys (HTTP 429).</summary>
    public const string RequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED";

    /// <summary>The server cannot keep writes now, e.g. its disk is full; try again later (HTTP 503).</summary>
    public const string TemporarilyUnavailable = "TEMPORARILY_UNAVAILABLE";

    /// <summary>The HTTP status of a code.</summary>
    public static int StatusOf(string code) => code switch
    {
        ResourceDoesNotExist or EndpointNotFound => 404,
        InternalError => 500,
        Unauthenticated => 401,
        PermissionDenied => 403,
        RequestLimitExceeded => 429,
        TemporarilyUnavailable => 503,
        _ => 400,
    };

    /// <summary>The code of a tracking problem.</summary>
    public static string CodeOf(TrackingErrorKind kind) => kind switch
    {
        TrackingErrorKind.NotFound => ResourceDoesNotExist,
        TrackingErrorKind.AlreadyExists => ResourceAlreadyExists,
        _ => InvalidParameterValue,
    };
}

/// <summary>
/// An MLflow error on its way to the response. The adapter throws it from request parsing and from unwrapping
/// the tracking services' results, so each endpoint reads as one straight line; the endpoint wrapper turns it into
/// <c>{"error_code", "message"}</c>.
/// </summary>
internal sealed class MlflowException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    public static MlflowException Invalid(string message) => new(MlflowErrorCodes.InvalidParameterValue, message);

    public static T Unwrap<T>(TrackingResult<T> result) =>
        result.Succeeded ? result.Value! : throw new MlflowException(MlflowErrorCodes.CodeOf(result.Error!.Kind), result.Error.Message);
}

/// <summary>
/// The fields of one MLflow request: the JSON body of a POST, or the query string of a GET (MLflow's own split).
/// Like MLflow's protobuf parsing, it takes int64 fields as numbers or strings, doubles also as "NaN"/"Infinity",
/// and ignores unknown fields.
/// </summary>
internal sealed class MlflowRequest
{
    private const string Docs = " See the API docs for more information about request parameters.";
    private readonly JsonElement body;
    private readonly IQueryCollection? query;

    private MlflowRequest(JsonElement body, IQueryCollection? query) => (this.body, this.query) = (body, query);

    /// <summary>
    /// Reads the request: a GET's query string when it has one, else the JSON body (MLflow's rule); a body over
    /// <paramref name="maxBytes"/> or one that is not a JSON object is refused.
    /// </summary>
    public static async Task<MlflowRequest> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method) && request.QueryString.HasValue) return new MlflowRequest(default, request.Query);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > maxBytes)
            throw MlflowException.Invalid($"Batched logging API requests must be at most {maxBytes} bytes, got a request of size {buffer.Length}.");
        if (buffer.Length == 0) return new MlflowRequest(JsonDocument.Parse("{}").RootElement, null);
        JsonElement root;
        try
        {
            using var json = JsonDocument.Parse(buffer.ToArray());
            root = json.RootElement.Clone();
            // Older MLflow clients post their JSON encoded a second time, as a string.
            if (root.ValueKind == JsonValueKind.String)
            {
                using var inner = JsonDocument.Parse(root.GetString()!);
                root = inner.RootElement.Clone();
            }
        }
        catch (JsonException e)
        {
            throw MlflowException.Invalid($"Malformed request: the body is not valid JSON ({e.Message}).");
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw MlflowException.Invalid($"Malformed request: the body must be a JSON object, not {Kind(root)}.");
        return new MlflowRequest(root, null);
    }

    /// <summary>A string field, or <c>null</c> when absent; numbers are taken as their text (ids sent as numbers).</summary>
    public string? Text(string name)
    {
        if (query is not null) return query.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => throw WrongType(name, value),
        };
    }

    /// <summary>A string field that must be present and not empty.</summary>
    public string Required(string name) => Text(name) is { Length: > 0 } text ? text : throw Missing(name);

    /// <summary>The run id: <c>run_id</c>, else the older <c>run_uuid</c>; required.</summary>
    public string RunId() => Text("run_id") is { Length: > 0 } id ? id : Text("run_uuid") is { Length: > 0 } uuid ? uuid : throw Missing("run_id");

    /// <summary>An integer field (a number or a numeric string), or <c>null</c>.</summary>
    public long? Long(string name)
    {
        if (query is not null)
            return Text(name) is not { } text ? null
                : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed
                : throw Invalid(name, $"\"{text}\"", "str");
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)) return number;
        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var fromText))
            return fromText;
        throw WrongType(name, value);
    }

    /// <summary>A 32-bit integer field, or <c>null</c>.</summary>
    public int? Int(string name) =>
        Long(name) is not { } value ? null : value is >= int.MinValue and <= int.MaxValue ? (int)value : throw Invalid(name, value.ToString(CultureInfo.InvariantCulture), "int");

    /// <summary>A double field (a number, a numeric string, or "NaN", "Infinity", "-Infinity"), or <c>null</c>.</summary>
    public double? Double(string name)
    {
        string? text;
        if (query is not null) text = Text(name);
        else if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        else if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        else if (value.ValueKind == JsonValueKind.String) text = value.GetString();
        else throw WrongType(name, value);
        if (text is null) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : throw Invalid(name, $"\"{text}\"", "str");
    }

    /// <summary>A repeated string field (a JSON array, or repeated query parameters); empty when absent.</summary>
    public IReadOnlyList<string> TextList(string name)
    {
        if (query is not null)
            return query.Where(q => q.Key == name || q.Key.StartsWith(name + "[", StringComparison.Ordinal))
                .SelectMany(q => q.Value).OfType<string>().ToList();
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind == JsonValueKind.String) return [value.GetString()!];
        if (value.ValueKind != JsonValueKind.Array) throw WrongType(name, value);
        return value.EnumerateArray().Select(item => item.ValueKind switch
        {
            JsonValueKind.String => item.GetString()!,
            JsonValueKind.Number => item.GetRawText(),
            _ => throw WrongType(name, item),
        }).ToList();
    }

    /// <summary>A repeated message field (a JSON array of objects); empty when absent.</summary>
    public IReadOnlyList<MlflowRequest> Objects(string name)
    {
        if (query is not null || !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return [];
        if (value.ValueKind != JsonValueKind.Array) throw WrongType(name, value);
        return value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.Object ? new MlflowRequest(item, null) : throw WrongType(name, item)).ToList();
    }

    /// <summary>Key/value messages (tags, params): the key is required, a missing value is "".</summary>
    public IReadOnlyList<KeyValuePair<string, string>> KeyValues(string name) =>
        Objects(name).Select(o => new KeyValuePair<string, string>(o.Text("key") ?? throw Missing($"{name}.key"), o.Text("value") ?? "")).ToList();

    /// <summary>A view type (ACTIVE_ONLY, DELETED_ONLY, ALL, or their numbers 1, 2, 3); active only when absent.</summary>
    public ViewType View(string name) => Text(name)?.ToUpperInvariant() switch
    {
        null or "" or "ACTIVE_ONLY" or "1" => ViewType.ActiveOnly,
        "DELETED_ONLY" or "2" => ViewType.DeletedOnly,
        "ALL" or "3" => ViewType.All,
        var other => throw MlflowException.Invalid($"Invalid value '{other}' for parameter '{name}': use ACTIVE_ONLY, DELETED_ONLY or ALL."),
    };

    /// <summary>A run status (RUNNING, SCHEDULED, FINISHED, FAILED, KILLED, or their numbers 1 to 5), or <c>null</c>.</summary>
    public RunStatus? Status(string name) => Text(name)?.ToUpperInvariant() switch
    {
        null or "" => null,
        "RUNNING" or "1" => RunStatus.Running,
        "SCHEDULED" or "2" => RunStatus.Scheduled,
        "FINISHED" or "3" => RunStatus.Finished,
        "FAILED" or "4" => RunStatus.Failed,
        "KILLED" or "5" => RunStatus.Killed,
        var other => throw MlflowException.Invalid($"Invalid value '{other}' for parameter '{name}': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED."),
    };

    public static MlflowException Missing(string name) =>
        MlflowException.Invalid($"Missing value for required parameter '{name}'.{Docs}");

    private static MlflowException Invalid(string name, string value, string type) =>
        MlflowException.Invalid($"Invalid value {value} for parameter '{name}' supplied. Hint: Value was of type '{type}'.{Docs}");

    private static MlflowException WrongType(string name, JsonElement value) => Invalid(name, value.GetRawText(), Kind(value));

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "dict",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "str",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "null",
    };
}
