using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>Bars carry their numbers, a bar of zero is still drawn, and the tallest bar leaves room for its number.</summary>
public sealed class BarChartLayoutTests
{
    [Fact]
    public void Bars_CarryTheirNumbers_ZeroIsAHairline_RoomAboveTheTallest()
    {
        var layout = BarChartLayout.Compute(["lr", "momentum", "dropout"], [new BarSeries("importance", [0.8234, 0, 5.379e-5], null, "#000")]);

        Assert.Equal(["0.8234", "0", "5.379e-5"], layout.Bars.Select(b => b.ValueText));
        var zero = layout.Bars[1];
        Assert.Equal(1, zero.H);
        Assert.Equal(BarChartLayout.Bottom, zero.Y + zero.H, 9); // standing on the axis
        var tallest = layout.Bars[0];
        Assert.True(tallest.ValueY > BarChartLayout.Top + 8, $"no room for the number: {tallest.ValueY}");
        Assert.True(tallest.ValueY < tallest.Y);
    }

    [Fact]
    public void ErrorBars_TheNumberGoesAboveTheWhisker()
    {
        var layout = BarChartLayout.Compute(["×0.1", "×1"], [new BarSeries("f1", [0.5, 0.8], [0.1, 0.05], "#000")]);

        foreach (var bar in layout.Bars) Assert.True(bar.ValueY < Math.Min(bar.ErrorLow, bar.ErrorHigh));
        Assert.Contains("± 0.1", layout.Bars[0].Label);
    }
}
