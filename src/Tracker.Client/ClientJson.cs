using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tracker.Client;

/// <summary>
/// The JSON convention of the server (camelCase names, enums as camelCase strings, "NaN" and "Infinity" as strings),
/// read tolerantly: unknown fields are ignored and unknown enum values read as <c>Unknown</c>, so a newer server does
/// not break an older client.
/// </summary>
internal static class ClientJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new TolerantEnumConverter<RunState>());
        options.Converters.Add(new TolerantEnumConverter<ExperimentState>());
        return options;
    }
}

/// <summary>
/// Reads an enum from its name in any case, and any name it does not know as the enum's zero value (<c>Unknown</c>);
/// writes the camelCase name, as the server expects.
/// </summary>
internal sealed class TolerantEnumConverter<T> : JsonConverter<T> where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"Expected a string for {typeof(T).Name}, not {reader.TokenType}.");
        return Enum.TryParse<T>(reader.GetString(), ignoreCase: true, out var value) && Enum.IsDefined(value) ? value : default;
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        writer.WriteStringValue(JsonNamingPolicy.CamelCase.ConvertName(value.ToString()));
}
