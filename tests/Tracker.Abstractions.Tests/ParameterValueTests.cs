using System.Text.Json;
using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class ParameterValueTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(3.0, "3")]
    [InlineData(-2.5e-7, "-2.5E-07")]
    [InlineData(1e300, "1E+300")]
    public void Serialize_Number_WritesBareNumberAndRoundTrips(double number, string json)
    {
        var value = ParameterValue.Of(number);

        string written = JsonSerializer.Serialize(value, Web);
        var read = JsonSerializer.Deserialize<ParameterValue>(written, Web);

        Assert.Equal(json, written);
        Assert.Equal(value, read);
        Assert.True(read.IsNumber);
        Assert.Equal(number, read.Number);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("")]
    [InlineData("0.1")]
    [InlineData("ünïcode \"quoted\"")]
    public void Serialize_String_WritesBareStringAndRoundTrips(string text)
    {
        var value = ParameterValue.Of(text);

        string written = JsonSerializer.Serialize(value, Web);
        var read = JsonSerializer.Deserialize<ParameterValue>(written, Web);

        Assert.Equal(JsonSerializer.Serialize(text, Web), written);
        Assert.Equal(value, read);
        Assert.False(read.IsNumber);
        Assert.Equal(text, read.Text);
    }

    [Fact]
    public void Serialize_Dictionary_RoundTrips()
    {
        var point = new Dictionary<string, ParameterValue> { ["lr"] = 0.001, ["batch"] = 32, ["optimizer"] = "adam" };

        string json = JsonSerializer.Serialize(point, Web);
        var read = JsonSerializer.Deserialize<Dictionary<string, ParameterValue>>(json, Web);

        Assert.Equal("""{"lr":0.001,"batch":32,"optimizer":"adam"}""", json);
        Assert.Equal(point, read);
    }

    [Theory]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    public void Deserialize_Boolean_GivesText(string json, string text)
    {
        Assert.Equal(ParameterValue.Of(text), JsonSerializer.Deserialize<ParameterValue>(json, Web));
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("""{"a":1}""")]
    [InlineData("null")]
    public void Deserialize_NotNumberOrString_Throws(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ParameterValue>(json, Web));
    }

    [Fact]
    public void Deserialize_NullableNull_GivesNull()
    {
        Assert.Null(JsonSerializer.Deserialize<ParameterValue?>("null", Web));
    }

    [Fact]
    public void Equals_NumberAndSameText_AreDifferent()
    {
        Assert.NotEqual(ParameterValue.Of(1), ParameterValue.Of("1"));
        Assert.Equal(ParameterValue.Of(1), ParameterValue.Of(1.0));
        Assert.Equal(ParameterValue.Of("a"), (ParameterValue)"a");
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(32, "32")]
    [InlineData(1e-5, "1E-05")]
    public void AsString_Number_IsInvariantRoundTrip(double number, string text)
    {
        Assert.Equal(text, ParameterValue.Of(number).AsString());
        Assert.Equal(text, ParameterValue.Of(number).ToString());
    }

    [Theory]
    [InlineData(2.4, 2)]
    [InlineData(2.6, 3)]
    [InlineData(-1.6, -2)]
    public void AsInt_Number_Rounds(double number, int expected)
    {
        Assert.Equal(expected, ParameterValue.Of(number).AsInt());
    }

    [Theory]
    [InlineData("1e-3", 1e-3)]
    [InlineData("42", 42)]
    [InlineData("-0.5", -0.5)]
    public void AsDouble_NumericText_Parses(string text, double expected)
    {
        Assert.Equal(expected, ParameterValue.Of(text).AsDouble());
    }

    [Fact]
    public void AsDouble_NonNumericText_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => ParameterValue.Of("adam").AsDouble());
    }

    [Fact]
    public void Of_NullString_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => ParameterValue.Of((string)null!));
    }

    [Fact]
    public void InputShape_ToString_IsChannelsByHeightByWidth()
    {
        Assert.Equal("3x32x28", new InputShape(3, 32, 28).ToString());
    }
}
