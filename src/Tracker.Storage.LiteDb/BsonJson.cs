using System.Text.Json;
using LiteDB;
using Tracker.Core;

namespace Tracker.Storage.LiteDb;

/// <summary>
/// Converts between System.Text.Json and BSON without going through text. LiteDB's own JSON writer rounds doubles
/// to a few digits, which would silently change stored parameters and metrics; this keeps every bit.
/// </summary>
internal static class BsonJson
{
    public static BsonValue ToBson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new BsonDocument(element.EnumerateObject().ToDictionary(p => p.Name, p => ToBson(p.Value))),
        JsonValueKind.Array => new BsonArray(element.EnumerateArray().Select(ToBson)),
        JsonValueKind.String => new BsonValue(element.GetString()),
        JsonValueKind.Number => element.TryGetInt32(out var i) ? new BsonValue(i)
            : element.TryGetInt64(out var l) ? new BsonValue(l)
            : new BsonValue(element.GetDouble()),
        JsonValueKind.True => new BsonValue(true),
        JsonValueKind.False => new BsonValue(false),
        _ => BsonValue.Null,
    };

    public static void Write(Utf8JsonWriter writer, BsonValue value)
    {
        switch (value.Type)
        {
            case BsonType.Document:
                writer.WriteStartObject();
                foreach (var (key, item) in value.AsDocument)
                {
                    writer.WritePropertyName(key);
                    Write(writer, item);
                }
                writer.WriteEndObject();
                break;
            case BsonType.Array:
                writer.WriteStartArray();
                foreach (var item in value.AsArray) Write(writer, item);
                writer.WriteEndArray();
                break;
            case BsonType.String: writer.WriteStringValue(value.AsString); break;
            case BsonType.Int32: writer.WriteNumberValue(value.AsInt32); break;
            case BsonType.Int64: writer.WriteNumberValue(value.AsInt64); break;
            case BsonType.Double:
                // Non-finite values travel as strings, as Tracker's JSON convention allows.
                double d = value.AsDouble;
                if (double.IsFinite(d)) writer.WriteNumberValue(d); else writer.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case BsonType.Decimal: writer.WriteNumberValue(value.AsDecimal); break;
            case BsonType.Boolean: writer.WriteBooleanValue(value.AsBoolean); break;
            case BsonType.DateTime: writer.WriteStringValue(value.AsDateTime.ToUniversalTime()); break;
            default: writer.WriteNullValue(); break;
        }
    }

    public static BsonDocument ToDocument<T>(T value) =>
        ToBson(System.Text.Json.JsonSerializer.SerializeToElement(value, TrackerJson.Options)).AsDocument;

    public static T? FromDocument<T>(BsonDocument document)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, document);
        return System.Text.Json.JsonSerializer.Deserialize<T>(buffer.WrittenSpan, TrackerJson.Options);
    }
}
