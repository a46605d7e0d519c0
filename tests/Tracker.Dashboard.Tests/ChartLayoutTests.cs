using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

public sealed class ChartLayoutTests
{
    private static ChartSeries Series(params (double X, double Y)[] points) => new("s", points, "#000");

    // Where a value lands on an axis from low to high (SVG from start to end), with the layout's padding.
    private static double At(double value, double low, double high, double padding, double start, double end)
    {
        double pad = (high - low) * padding;
        return start + (value - (low - pad)) / (high - low + 2 * pad) * (end - start);
    }

    [Fact]
    public void Compute_LinearAxes_PointsSpanThePlotAreaWithRoomAtBothEnds()
    {
        var layout = ChartLayout.Compute([Series((1, 0), (2, 5), (3, 10))]);

        var points = layout.Series[0].Points;
        double XAt(double x) => At(x, 1, 3, ChartLayout.XPadding, ChartLayout.Left, ChartLayout.Right);
        double YAt(double y) => At(y, 0, 10, ChartLayout.YPadding, ChartLayout.Bottom, ChartLayout.Top);
        Assert.Equal([XAt(1), (ChartLayout.Left + ChartLayout.Right) / 2, XAt(3)], points.Select(p => p.X));
        Assert.Equal([YAt(0), (ChartLayout.Top + ChartLayout.Bottom) / 2, YAt(10)], points.Select(p => p.Y));
        // No point on an axis: the lowest sits above the x axis, the first right of the y axis.
        Assert.True(points[0].X > ChartLayout.Left && points[^1].X < ChartLayout.Right);
        Assert.True(points[0].Y < ChartLayout.Bottom && points[^1].Y > ChartLayout.Top);
        Assert.Equal(["1", "2", "3"], layout.XTicks.Select(t => t.Label)); // integer x: whole ticks
        Assert.Equal("(2, 5)", points[1].Label);
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
        Assert.All(layout.YTicks, t => Assert.True(double.IsFinite(t.Position)));
        Assert.Equal(2, layout.PointCount);
    }

    [Fact]
    public void Compute_LogX_DecadesEquallySpacedWithPowerOfTenTicks()
    {
        var layout = ChartLayout.Compute([Series((1e-4, 1), (1e-3, 2), (1e-2, 3), (0, 9), (-1, 9))], new ChartOptions(LogX: true));

        var xs = layout.Series[0].Points.Select(p => p.X).ToList();
        Assert.Equal(3, xs.Count); // x ≤ 0 has no place on a log axis
        Assert.Equal(xs[1] - xs[0], xs[2] - xs[1], 9);
        Assert.Equal(At(-4, -4, -2, ChartLayout.XPadding, ChartLayout.Left, ChartLayout.Right), xs[0], 9);
        Assert.Equal(At(-2, -4, -2, ChartLayout.XPadding, ChartLayout.Left, ChartLayout.Right), xs[2], 9);
        Assert.Equal(["1e-4", "1e-3", "0.01"], layout.XTicks.Select(t => t.Label));
        Assert.All(xs.Zip(layout.XTicks), pair => Assert.Equal(pair.First, pair.Second.Position, 9));
    }

    [Fact]
    public void Compute_LogXWithinOneDecade_TicksPlacedLogarithmically()
    {
        var layout = ChartLayout.Compute([Series((2, 1), (8, 2))], new ChartOptions(LogX: true));

        var tick4 = layout.XTicks.Single(t => t.Label == "4");
        // 4 is the geometric middle of 2 and 8.
        Assert.Equal((ChartLayout.Left + ChartLayout.Right) / 2, tick4.Position, 9);
    }

    [Fact]
    public void Compute_XCategories_TicksNamedAtEachIndex()
    {
        var layout = ChartLayout.Compute([Series((0, 0.5), (2, 0.7))], new ChartOptions(XCategories: ["adam", "sgd", "rmsprop"]));

        Assert.Equal(["adam", "sgd", "rmsprop"], layout.XTicks.Select(t => t.Label));
        Assert.Equal(layout.XTicks[0].Position, layout.Series[0].Points[0].X, 9);
        Assert.Equal(layout.XTicks[2].Position, layout.Series[0].Points[1].X, 9);
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
        Assert.Equal(At(0, 0, 99_999, ChartLayout.XPadding, ChartLayout.Left, ChartLayout.Right), placed[0].X, 9);
        Assert.Equal(At(99_999, 0, 99_999, ChartLayout.XPadding, ChartLayout.Left, ChartLayout.Right), placed[^1].X, 9);
        Assert.Equal(At(50, -50, 50, ChartLayout.YPadding, ChartLayout.Bottom, ChartLayout.Top), placed.Min(p => p.Y), 9); // the spike is the top
        Assert.Equal(At(-50, -50, 50, ChartLayout.YPadding, ChartLayout.Bottom, ChartLayout.Top), placed.Max(p => p.Y), 9); // the dip the bottom
        Assert.True(placed.Zip(placed.Skip(1)).All(pair => pair.First.X <= pair.Second.X), "the order is kept");
    }

    [Fact]
    public void Compute_SinglePoint_InTheMiddleOfAxesAboutItsOwnValue()
    {
        var layout = ChartLayout.Compute([Series((0, 0.018))], new ChartOptions(IntegerX: true));

        var point = layout.Series[0].Points.Single();
        Assert.Equal((ChartLayout.Left + ChartLayout.Right) / 2, point.X, 9);
        Assert.Equal((ChartLayout.Top + ChartLayout.Bottom) / 2, point.Y, 9);
        Assert.Equal(["0"], layout.XTicks.Select(t => t.Label)); // one whole tick, under the point
        Assert.Equal(point.X, layout.XTicks[0].Position, 9);
        // The y ticks are about 0.018 (±10 %), and the one at 0.018 is level with the point: not 0 on a −0.5 to 0.5 axis.
        var middle = layout.YTicks.Single(t => Math.Abs(t.Position - point.Y) < 1e-6);
        Assert.Equal("0.018", middle.Label);
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
    public void StepSeries_GoesAcrossAtTheEarlierValueThenUpOrDown()
    {
        var layout = ChartLayout.Compute([new ChartSeries("best so far", [(0, 1), (1, 1), (2, 3)], "#000", Step: true)]);

        var p = layout.Series[0].Points;
        string F(double v) => v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        string expected = string.Join(' ', new[] { (p[0].X, p[0].Y), (p[1].X, p[0].Y), (p[1].X, p[1].Y), (p[2].X, p[1].Y), (p[2].X, p[2].Y) }.Select(v => $"{F(v.Item1)},{F(v.Item2)}"));
        Assert.Equal(expected, layout.Series[0].Polyline);
        var straight = ChartLayout.Compute([new ChartSeries("s", [(0, 1), (1, 1), (2, 3)], "#000")]);
        Assert.Equal(3, straight.Series[0].Polyline.Split(' ').Length);
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
