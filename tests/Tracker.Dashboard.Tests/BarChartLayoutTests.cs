using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>Bars carry their numbers, a bar of zero is still there, and the tallest bar leaves room for its number.</summary>
public sealed class BarChartLayoutTests
{
    [Fact]
    public void Bars_CarryTheirNumbers_ZeroIsKept_RoomAboveTheTallest()
    {
        var layout = BarChartLayout.Compute(["lr", "momentum", "dropout"], [new BarSeries("importance", [0.8234, 0, 5.379e-5], null, "#000")]);

        Assert.Equal(["0.8234", "0", "5.379e-5"], layout.Bars.Select(b => b.ValueText));
        Assert.Equal(["lr", "momentum", "dropout"], layout.Bars.Select(b => b.Group));
        Assert.Equal(0, layout.Y.Low);
        Assert.Equal(0.8234 * (1 + BarChartLayout.Headroom), layout.Y.High, 12);
        Assert.Equal("0", layout.Y.Ticks[0].Label);
    }

    [Fact]
    public void ErrorBars_TheAxisReachesAboveTheWhisker()
    {
        var layout = BarChartLayout.Compute(["×0.1", "×1", "×10"], [new BarSeries("f1", [0.5, 0.8, double.NaN], [0.1, 0.05, 0.2], "#000")]);

        Assert.Equal(2, layout.Bars.Count); // no bar where there is no value
        Assert.Equal(0.85 * (1 + BarChartLayout.Headroom), layout.Y.High, 12);
        Assert.Equal("f1 · ×0.1: 0.5 ± 0.1", layout.Bars[0].Label);
        Assert.Equal(0.1, layout.Bars[0].Error);
    }
}
