using System.Text.Json;
using Tracker.Core;
using Tracker.Core.Tracking;

namespace Tracker.Server.Api;

/// <summary>
/// Reads the body of <c>POST /api/runs/{id}/metrics</c> (<c>{ "points": [ { "key", "value", "step", "timestamp" } ] }</c>)
/// in one pass of a <see cref="Utf8JsonReader"/> straight into <see cref="LoggedMetric"/>s, without an object per point.
/// </summary>
/// <remarks>
/// It reads what <see cref="RunEndpoints.LogMetricsRequest"/> binds with <see cref="TrackerJson.Options"/> (property names
/// in any case and order, unknown properties ignored, <c>null</c> for an absent field) and nothing else: anything it does
/// not take as plainly valid (a value that is not a JSON number, a point that is not an object, no points, a repeated
/// property, malformed JSON) makes <see cref="TryRead"/> return <c>false</c>, and the caller binds the body with
/// <see cref="JsonSerializer"/> as before, so that bad input gets exactly the answer it always did.
/// </remarks>
internal static class MetricBatchReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = TrackerJson.Options.AllowTrailingCommas,
        CommentHandling = TrackerJson.Options.ReadCommentHandling,
        MaxDepth = TrackerJson.Options.MaxDepth == 0 ? 64 : TrackerJson.Options.MaxDepth,
    };

    private const int MaxCachedKeys = 16;

    [Flags]
    private enum Field
    {
        None = 0,
        Key = 1,
        Value = 2,
        Step = 4,
        Timestamp = 8,
    }

    /// <summary>
    /// The points of <paramref name="json"/>, a point's absent step as 0 and absent time as <paramref name="now"/> (ms
    /// since the Unix epoch) and absent key as ""; <c>false</c> when the body is anything but a well-formed object whose
    /// <c>points</c> is an array of objects that each have a numeric <c>value</c>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> json, long now, out List<LoggedMetric> points)
    {
        points = null!;
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            List<LoggedMetric>? read = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isPoints = Is(ref reader, "points"u8, "points");
                if (!reader.Read()) return false;
                if (!isPoints)
                {
                    reader.Skip();
                    continue;
                }
                if (read is not null || reader.TokenType != JsonTokenType.StartArray) return false;
                read = new List<LoggedMetric>(Math.Clamp(json.Length / 64, 4, 16_384));
                if (!ReadPoints(ref reader, now, read)) return false;
            }
            if (reader.TokenType != JsonTokenType.EndObject || read is null) return false;
            // Nothing may follow the body's object (the reader throws on anything but whitespace and allowed comments).
            if (reader.Read()) return false;
            points = read;
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Malformed JSON, or a string that is not valid UTF-8: the serializer words the problem.
            return false;
        }
    }

    // From the array's start to its end.
    private static bool ReadPoints(ref Utf8JsonReader reader, long now, List<LoggedMetric> points)
    {
        var keys = new KeyCache();
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.EndArray) return true;
            if (reader.TokenType != JsonTokenType.StartObject) return false;
            string? key = null;
            double value = 0;
            long step = 0, timestamp = now;
            var seen = Field.None;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = Name(ref reader);
                if (field != Field.None && (seen & field) != 0) return false;
                seen |= field;
                if (!reader.Read()) return false;
                switch (field)
                {
                    case Field.Key:
                        if (reader.TokenType == JsonTokenType.String) key = keys.Get(ref reader);
                        else if (reader.TokenType == JsonTokenType.Null) key = null;
                        else return false;
                        break;
                    case Field.Value:
                        // A null value is refused by the endpoint; a string ("NaN") is for the serializer's named literals.
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out value)) return false;
                        break;
                    case Field.Step:
                        if (reader.TokenType == JsonTokenType.Null) step = 0;
                        else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out step)) return false;
                        break;
                    case Field.Timestamp:
                        if (reader.TokenType == JsonTokenType.Null) timestamp = now;
                        else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out timestamp)) return false;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || (seen & Field.Value) == 0) return false;
            points.Add(new LoggedMetric(key ?? "", value, timestamp, step));
        }
        return false;
    }

    private static Field Name(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            if (name.SequenceEqual("key"u8)) return Field.Key;
            if (name.SequenceEqual("value"u8)) return Field.Value;
            if (name.SequenceEqual("step"u8)) return Field.Step;
            if (name.SequenceEqual("timestamp"u8)) return Field.Timestamp;
        }
        // Property names match in any case, as the serializer's options say.
        string text = reader.GetString()!;
        return text.Equals("key", StringComparison.OrdinalIgnoreCase) ? Field.Key
            : text.Equals("value", StringComparison.OrdinalIgnoreCase) ? Field.Value
            : text.Equals("step", StringComparison.OrdinalIgnoreCase) ? Field.Step
            : text.Equals("timestamp", StringComparison.OrdinalIgnoreCase) ? Field.Timestamp
            : Field.None;
    }

    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string name) =>
        !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual(utf8) || reader.GetString()!.Equals(name, StringComparison.OrdinalIgnoreCase);

    /// <summary>The strings of the few keys a batch repeats, so that a point's key costs no allocation.</summary>
    private struct KeyCache
    {
        private (byte[] Utf8, string Text)[]? entries;
        private int count;

        public string Get(ref Utf8JsonReader reader)
        {
            if (!reader.ValueIsEscaped && entries is not null)
            {
                var raw = reader.ValueSpan;
                for (int i = 0; i < count; i++)
                    if (raw.SequenceEqual(entries[i].Utf8)) return entries[i].Text;
            }
            string text = reader.GetString()!;
            if (!reader.ValueIsEscaped && count < MaxCachedKeys)
            {
                entries ??= new (byte[], string)[MaxCachedKeys];
                entries[count++] = (reader.ValueSpan.ToArray(), text);
            }
            return text;
        }
    }
}
