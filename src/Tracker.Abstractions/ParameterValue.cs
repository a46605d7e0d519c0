using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tracker.Abstractions;

/// <summary>
/// One hyperparameter value: either a number or a string. Integers are numbers with no fractional part.
/// Serialises to a plain JSON number or string.
/// </summary>
[JsonConverter(typeof(ParameterValueJsonConverter))]
public readonly record struct ParameterValue
{
    private ParameterValue(double? number, string? text) => (Number, Text) = (number, text);

    /// <summary>The numeric value, or <c>null</c> when this value is a string.</summary>
    public double? Number { get; }

    /// <summary>The string value, or <c>null</c> when this value is a number.</summary>
    public string? Text { get; }

    /// <summary><c>true</c> when the value is a number.</summary>
    public bool IsNumber => Number.HasValue;

    /// <summary>Creates a numeric value.</summary>
    public static ParameterValue Of(double value) => new(value, null);

    /// <summary>Creates a string value. <paramref name="value"/> must not be null.</summary>
    public static ParameterValue Of(string value) => new(null, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Converts a number implicitly.</summary>
    public static implicit operator ParameterValue(double value) => Of(value);

    /// <summary>Converts a string implicitly.</summary>
    public static implicit operator ParameterValue(string value) => Of(value);

    /// <summary>The value as a double; throws <see cref="InvalidOperationException"/> for a string that is not a number.</summary>
    public double AsDouble() => Number ?? (double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
        ? d : throw new InvalidOperationException($"'{Text}' is not a number."));

    /// <summary>The value rounded to the nearest integer (see <see cref="AsDouble"/>).</summary>
    public int AsInt() => (int)Math.Round(AsDouble());

    /// <summary>The value as text; numbers use the invariant culture and round-trip format.</summary>
    public string AsString() => Text ?? Number!.Value.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string ToString() => AsString();
}

/// <summary>Reads and writes <see cref="ParameterValue"/> as a bare JSON number or string.</summary>
public sealed class ParameterValueJsonConverter : JsonConverter<ParameterValue>
{
    /// <inheritdoc />
    public override ParameterValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => ParameterValue.Of(reader.GetDouble()),
            JsonTokenType.String => ParameterValue.Of(reader.GetString()!),
            JsonTokenType.True => ParameterValue.Of("true"),
            JsonTokenType.False => ParameterValue.Of("false"),
            _ => throw new JsonException($"A parameter value must be a number or a string, not {reader.TokenType}."),
        };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ParameterValue value, JsonSerializerOptions options)
    {
        if (value.Number is { } n) writer.WriteNumberValue(n);
        else writer.WriteStringValue(value.Text);
    }
}
