namespace Tracker.Core.Tests;

/// <summary>The one way numbers are written for people: dashboard, command line and exports.</summary>
public sealed class NumberTextTests
{
    [Theory]
    [InlineData(5.379e-5, "5.379e-5")]    // small: exponent form, not .NET's 5.379E-05
    [InlineData(0.00023978553008078011, "2.398e-4")]
    [InlineData(0.001, "0.001")]
    [InlineData(0.018, "0.018")]
    [InlineData(0.123456, "0.1235")]      // four significant digits
    [InlineData(3.0, "3")]                // whole numbers as they are
    [InlineData(12345, "12345")]
    [InlineData(123456789, "1.235e8")]    // large: exponent form
    [InlineData(-0.5, "-0.5")]
    [InlineData(0, "0")]
    public void Number_FourSignificantDigits_ExponentFormOutsideTheReadableRange(double value, string expected) =>
        Assert.Equal(expected, NumberText.Number(value));

    [Theory]
    [InlineData(0.81234, "0.8123")]
    [InlineData(1.0, "1.0000")]
    [InlineData(double.NaN, "–")]
    [InlineData(null, "–")]
    public void Metric_FourDecimals_DashWhenThereIsNone(double? value, string expected) => Assert.Equal(expected, NumberText.Metric(value));
}
