using System.Text;
using Tracker.Core.Tracking;
using Tracker.Server.Api;

namespace Tracker.Server.Tests;

/// <summary>The metrics endpoint's body parser: what it reads, and what it leaves to the serializer.</summary>
public sealed class MetricBatchReaderTests
{
    private const long Now = 1_700_000_000_000;

    private static bool Read(string json, out List<LoggedMetric> points) => MetricBatchReader.TryRead(Encoding.UTF8.GetBytes(json), Now, out points);

    [Fact]
    public void ReadsEveryField()
    {
        Assert.True(Read("""{ "points": [ { "key": "loss", "value": 0.25, "step": 3, "timestamp": 1700000000123 }, { "key": "acc", "value": -1e-3, "step": -2, "timestamp": 0 } ] }""", out var points));
        Assert.Equal([new LoggedMetric("loss", 0.25, 1700000000123, 3), new LoggedMetric("acc", -1e-3, 0, -2)], points);
    }

    [Fact]
    public void AbsentOrNullFieldsTakeTheirDefaults()
    {
        Assert.True(Read("""{"points":[{"value":1},{"key":null,"value":2,"step":null,"timestamp":null}]}""", out var points));
        Assert.Equal([new LoggedMetric("", 1, Now, 0), new LoggedMetric("", 2, Now, 0)], points);
    }

    [Fact]
    public void NamesInAnyCaseAndOrder_UnknownPropertiesIgnored()
    {
        Assert.True(Read("""{"extra":{"a":[1,2,{"b":null}]},"Points":[{"TIMESTAMP":5,"Step":7,"other":"x","Value":1.5,"KEY":"m"}],"more":true}""", out var points));
        Assert.Equal([new LoggedMetric("m", 1.5, 5, 7)], points);
    }

    [Fact]
    public void EscapedNamesAndKeys()
    {
        Assert.True(Read("""{"\u0070oints":[{"k\u0065y":"l\u00f6ss","value":1},{"key":"l\u00f6ss","value":2},{"key":"löss","value":3}]}""", out var points));
        Assert.All(points, p => Assert.Equal("löss", p.Key));
        Assert.Equal([1.0, 2.0, 3.0], points.Select(p => p.Value));
    }

    [Fact]
    public void RepeatedKeysShareOneString()
    {
        Assert.True(Read("""{"points":[{"key":"loss","value":1},{"key":"acc","value":2},{"key":"loss","value":3}]}""", out var points));
        Assert.Same(points[0].Key, points[2].Key);
        Assert.Equal(["loss", "acc", "loss"], points.Select(p => p.Key));
    }

    [Fact]
    public void EmptyBatch()
    {
        Assert.True(Read("""{"points":[]}""", out var points));
        Assert.Empty(points);
    }

    [Fact]
    public void ValuesTheSerializerWouldParseAlike()
    {
        Assert.True(Read("""{"points":[{"key":"a","value":1e308,"step":2147483648,"timestamp":9223372036854775807},{"key":"b","value":-0.0}]}""", out var points));
        Assert.Equal(1e308, points[0].Value);
        Assert.Equal(2147483648L, points[0].Step); // out of int range: the ingest's rules refuse it, as before
        Assert.Equal(long.MaxValue, points[0].Timestamp);
        Assert.True(double.IsNegative(points[1].Value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"points":null}""")]
    [InlineData("""{"points":{}}""")]
    [InlineData("""{"points":[null]}""")]
    [InlineData("""{"points":[1]}""")]
    [InlineData("""{"points":[{"key":"a"}]}""")]
    [InlineData("""{"points":[{"key":"a","value":null}]}""")]
    [InlineData("""{"points":[{"key":"a","value":"NaN"}]}""")]
    [InlineData("""{"points":[{"key":"a","value":"1"}]}""")]
    [InlineData("""{"points":[{"key":"a","value":true}]}""")]
    [InlineData("""{"points":[{"key":1,"value":1}]}""")]
    [InlineData("""{"points":[{"key":"a","value":1,"step":1.5}]}""")]
    [InlineData("""{"points":[{"key":"a","value":1,"step":"1"}]}""")]
    [InlineData("""{"points":[{"key":"a","value":1,"timestamp":1e3}]}""")]
    [InlineData("""{"points":[{"key":"a","value":1,"value":2}]}""")]
    [InlineData("""{"points":[{"key":"a","value":1}],"points":[]}""")]
    [InlineData("""{ "points": [""")]
    [InlineData("""{"points":[{"key":"a","value":1}]} {}""")]
    [InlineData("""{"points":[{"key":"a","value":1},]}""")]
    [InlineData("""{"points":[{"key":"a","value":1}]} // comment""")]
    [InlineData("""{"points":[{"key":"a","value":01}]}""")]
    public void LeavesAnythingElseToTheSerializer(string json) => Assert.False(Read(json, out _));

    [Fact]
    public void InvalidUtf8InAKey_IsLeftToTheSerializer()
    {
        byte[] json = [.. "{\"points\":[{\"key\":\""u8, 0xC3, 0x28, .. "\",\"value\":1}]}"u8];
        Assert.False(MetricBatchReader.TryRead(json, Now, out _));
    }
}
