using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tracker.Core;

/// <summary>The one JSON convention of Tracker (API, specs, store): camelCase, enums as strings, NaN allowed.</summary>
public static class TrackerJson
{
    /// <summary>Applies the convention to <paramref name="options"/> (e.g. ASP.NET's options) and returns it.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        // A polymorphic value's "type" may come anywhere in its object, as JSON objects are unordered
        // ({"name":"lr","type":"float",...} as well as {"type":"float","name":"lr",...}).
        options.AllowOutOfOrderMetadataProperties = true;
        if (!options.Converters.OfType<JsonStringEnumConverter>().Any())
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }

    /// <summary>A shared, configured instance.</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
