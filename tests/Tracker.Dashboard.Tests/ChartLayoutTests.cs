using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

public sealed class ChartLayoutTests
{
    private static ChartSeries Series(params (double X, double Y)[] points) => new("s", points, "#000");

    // An axis domain: the values' range with the layout's padding at both ends.
    private static (double Low, double High) Padded(double low, double high, double padding) => (low - (high - low) * padding, high + (high - low) * padding);

    [Fact]
    public void Compute_LinearAxes_DomainsPaddedSoThatNoPointSitsOnAnAxis()
    {
        var layout = ChartLayout.Compute([Series((1, 0), (2, 5), (3, 10))]);

        Assert.Equal(Padded(1, 3, ChartLayout.XPadding), (layout.X.Low, layout.X.High));
        Assert.Equal(Padded(0, 10, ChartLayout.YPadding), (layout.Y.Low, layout.Y.High));
        Assert.True(layout.X.Low < 1 && layout.X.High > 3 && layout.Y.Low < 0 && layout.Y.High > 10);
        Assert.Equal([1.0, 2, 3], layout.Series[0].Points.Select(p => p.X)); // points keep their own values
        Assert.Equal(["1", "2", "3"], layout.XTicks.Select(t => t.Label)); // integer x: whole ticks
        Assert.Equal(["0", "5", "10"], layout.YTicks.Select(t => t.Label)); // 1-2-5 steps
        Assert.Equal("(2, 5)", layout.Series[0].Points[1].Label);
    }

    [Fact]
    public void Compute_IntegerX_WholeTicksAlthoughSomePointsLieBetween()
    {
        // Trial results at 0, 1, 2 and their first of two epochs 0.3 to the left, as on the experiment page.
        var series = Series((-0.3, 0.1), (0, 0.2), (0.7, 0.3), (1, 0.4), (1.7, 0.2), (2, 0.5));

        var plain = ChartLayout.Compute([series]);
        var whole = ChartLayout.Compute([series], new ChartOptions(IntegerX: true));

        Assert.Contains("0.5", plain.XTicks.Select(t => t.Label));
        Assert.Equal(["0", "1", "2"], whole.XTicks.Select(t => t.Label));
    }

    [Fact]
    public void Compute_NonFiniteValues_AreLeftOut()
    {
        var layout = ChartLayout.Compute([Series((1, 1), (2, double.NaN), (double.PositiveInfinity, 3), (3, 2))]);

        Assert.Equal(2, layout.PointCount);
    }

    [Fact]
    public void Compute_NearlyEqualLargeValues_FinishesWithAFewTicks()
    {
        // The tick step (5e-12) is below half the spacing of doubles near 1e5 (1.5e-11): stepping by adding it would never advance.
        var layout = ChartLayout.Compute([Series((1, 100_000), (2, 100_000.00000000002))]);

        Assert.InRange(layout.YTicks.Count, 1, 12);
        Assert.All(layout.YTicks, t => Assert.True(double.IsFinite(t.Value)));
        Assert.Equal(2, layout.PointCount);
    }

    [Fact]
    public void Compute_LogX_DomainInDecadesWithPowerOfTenTicks()
    {
        var layout = ChartLayout.Compute([Series((1e-4, 1), (1e-3, 2), (1e-2, 3), (0, 9), (-1, 9))], new ChartOptions(LogX: true));

        Assert.Equal(3, layout.PointCount); // x ≤ 0 has no place on a log axis
        Assert.Equal(Padded(-4, -2, ChartLayout.XPadding), (layout.X.Low, layout.X.High)); // in decades, as plotly's log axes take it
        Assert.Equal([1e-4, 1e-3, 1e-2], layout.XTicks.Select(t => t.Value));
        Assert.Equal(["1e-4", "0.001", "0.01"], layout.XTicks.Select(t => t.Label));
    }

    [Fact]
    public void Compute_LogXWithinOneDecade_OneTwoFiveTicksOfTheValues()
    {
        var layout = ChartLayout.Compute([Series((2, 1), (8, 2))], new ChartOptions(LogX: true));

        Assert.Equal(["2", "4", "6", "8"], layout.XTicks.Select(t => t.Label));
    }

    [Fact]
    public void TicksWithin_AZoomedView_TicksOfTheSameKindWithinIt()
    {
        var layout = ChartLayout.Compute([Series((0, 0), (100, 1))]);

        Assert.Equal(["10", "12", "14"], layout.XTicksWithin(10, 15.2).Select(t => t.Label));
        Assert.Equal(["0.5", "0.52", "0.54", "0.56", "0.58", "0.6"], layout.YTicksWithin(0.5, 0.6).Select(t => t.Label));
        Assert.Empty(layout.XTicksWithin(3, 3)); // an empty view has no ticks rather than an endless loop
    }

    [Fact]
    public void Compute_XCategories_TicksNamedAtEachIndex()
    {
        var layout = ChartLayout.Compute([Series((0, 0.5), (2, 0.7))], new ChartOptions(XCategories: ["adam", "sgd", "rmsprop"]));

        Assert.Equal(["adam", "sgd", "rmsprop"], layout.XTicks.Select(t => t.Label));
        Assert.Equal([0.0, 1, 2], layout.XTicks.Select(t => t.Value));
        Assert.Equal((-0.5, 2.5), (layout.X.Low, layout.X.High)); // half a category of room at each end
        Assert.StartsWith("(rmsprop, ", layout.Series[0].Points[1].Label);
    }

    [Fact]
    public void Compute_Labels_PrefixTheHoverText()
    {
        var layout = ChartLayout.Compute([new ChartSeries("trials", [(1, 2)], "#000", Line: false, Labels: ["trial #4"])]);

        Assert.Equal("trial #4: (1, 2)", layout.Series[0].Points[0].Label);
    }

    [Fact]
    public void Compute_LongSeries_DecimatedToAtMostTheLimitKeepingEndsAndExtremes()
    {
        var points = Enumerable.Range(0, 100_000).Select(i => (X: (double)i, Y: Math.Sin(i / 1000.0))).ToList();
        points[12_345] = (12_345, 50);   // a spike
        points[67_890] = (67_890, -50);  // a dip

        var layout = ChartLayout.Compute([new ChartSeries("long", points, "#000")]);

        var placed = layout.Series[0].Points;
        Assert.InRange(placed.Count, 2, ChartLayout.DefaultMaxPoints);
        Assert.Equal(0, placed[0].X);
        Assert.Equal(99_999, placed[^1].X);
        Assert.Equal(50, placed.Max(p => p.Y)); // the spike survives
        Assert.Equal(-50, placed.Min(p => p.Y)); // and the dip
        Assert.True(placed.Zip(placed.Skip(1)).All(pair => pair.First.X <= pair.Second.X), "the order is kept");
    }

    [Fact]
    public void Compute_SinglePoint_InTheMiddleOfAxesAboutItsOwnValue()
    {
        var layout = ChartLayout.Compute([Series((0, 0.018))], new ChartOptions(IntegerX: true));

        Assert.Equal((-0.5, 0.5), (layout.X.Low, layout.X.High)); // the point is in the middle, not at the far right
        Assert.Equal(["0"], layout.XTicks.Select(t => t.Label)); // one whole tick, under the point
        Assert.Equal(0.018, (layout.Y.Low + layout.Y.High) / 2, 12);
        // The y axis runs over 0.018 ± 10 % with a tick at 0.018: not 0 on a −0.4 to 0.4 axis.
        Assert.Equal(0.0162, layout.Y.Low, 12);
        Assert.Contains("0.018", layout.YTicks.Select(t => t.Label));
        Assert.DoesNotContain("0", layout.YTicks.Select(t => t.Label));
    }

    [Fact]
    public void Compute_SinglePointAtZero_AxisFromMinusOneToOne()
    {
        var layout = ChartLayout.Compute([Series((3, 0))]);

        Assert.Equal(["-1", "-0.5", "0", "0.5", "1"], layout.YTicks.Select(t => t.Label));
    }

    [Fact]
    public void Compute_EmptyOrNonFiniteSeries_NoPointsNoTicks()
    {
        var layout = ChartLayout.Compute([Series(), Series((double.NaN, 1))]);

        Assert.Equal(0, layout.PointCount);
        Assert.Empty(layout.XTicks);
        Assert.Empty(layout.YTicks);
    }

    [Fact]
    public void SameAs_EqualPicturesFromNewLists_OnlyThose()
    {
        ChartLayout Of(params (double X, double Y)[] points) => ChartLayout.Compute([new ChartSeries("loss", points.ToList(), "#000")]);

        Assert.True(Of((0, 1), (1, 0.5)).SameAs(Of((0, 1), (1, 0.5))));
        Assert.False(Of((0, 1), (1, 0.5)).SameAs(Of((0, 1), (1, 0.4))));
        Assert.False(Of((0, 1), (1, 0.5)).SameAs(Of((0, 1), (1, 0.5), (2, 0.4))));
        Assert.False(Of((0, 1)).SameAs(ChartLayout.Compute([new ChartSeries("loss", [(0, 1)], "#fff")])));
    }

    [Fact]
    public void Decimate_ShortSeries_KeptWhole()
    {
        var points = Enumerable.Range(0, 600).Select(i => ((double)i, (double)i)).ToList();

        Assert.Equal(Enumerable.Range(0, 600), ChartLayout.Decimate(points, 600));
    }

    [Fact]
    public void Decimate_MinMaxPerBucket_KeepsFirstLastAndEachBucketsExtremesInOrder()
    {
        // 2 + 4·3 points: 4 buckets of 3 between the ends; max = 10 gives 4 buckets.
        double[] ys = [0, 1, 5, 2, 9, 8, 7, 3, 3, 3, -4, 6, 0, 1];
        var points = ys.Select((y, i) => ((double)i, y)).ToList();

        var kept = ChartLayout.Decimate(points, 10);

        Assert.Equal([0, 1, 2, 4, 6, 7, 10, 11, 13], kept);
    }
}
