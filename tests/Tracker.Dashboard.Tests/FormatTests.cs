using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

public sealed class FormatTests
{
    [Theory]
    [InlineData(5.3791e-5, "5.379e-5")]
    [InlineData(-2.5e-7, "-2.5e-7")]
    [InlineData(0.002398, "0.002398")]
    [InlineData(0.1789, "0.1789")]
    [InlineData(64.0, "64")]
    [InlineData(12345.0, "12345")]
    [InlineData(1234.5, "1235")]
    [InlineData(0.99999, "1")]
    [InlineData(123456.0, "1.235e5")]
    [InlineData(0.0, "0")]
    public void Number_FourSignificantDigits_ScientificOnlyForVerySmallOrLarge(double value, string expected) =>
        Assert.Equal(expected, Format.Number(value));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(812, "812 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(10_547, "10.3 KiB")]
    [InlineData(251_658_240, "240 MiB")]
    [InlineData(3_221_225_472, "3 GiB")]
    public void Bytes_InTheLargestUnitBelow1024(long bytes, string expected) => Assert.Equal(expected, Format.Bytes(bytes));
}
