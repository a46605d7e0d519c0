using System.Globalization;

namespace Tracker.Server.Components.Shared;

/// <summary>One bar series: a value (and optional error) per group.</summary>
/// <param name="Name">Legend name (e.g. a model).</param>
/// <param name="Values">Value per group, NaN for none.</param>
/// <param name="Errors">Half-length of the error bar per group (e.g. one standard deviation), or null.</param>
/// <param name="Color">Fill colour.</param>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors, string Color);

/// <summary>Places grouped bars with error bars in SVG coordinates; pure logic, testable without rendering.</summary>
public sealed record BarChartLayout(IReadOnlyList<BarChartLayout.Bar> Bars, IReadOnlyList<BarChartLayout.Group> Groups, IReadOnlyList<ChartLayout.Tick> YTicks)
{
    /// <summary>The SVG canvas and plot area.</summary>
    public const double Width = 600, Height = 260, Left = 56, Right = 590, Top = 10, Bottom = 220;

    /// <summary>
    /// A placed bar with its error whisker (ErrorLow = ErrorHigh = Y when there is none), its hover label, and the number
    /// written above it (<see cref="ValueY"/>). A bar of zero is a hairline, so that it is seen to be there.
    /// </summary>
    public sealed record Bar(string Series, string Group, double X, double Y, double W, double H, double ErrorLow, double ErrorHigh, string Color, string Label,
        string ValueText = "")
    {
        /// <summary>Where the number's baseline goes: just above the bar or its whisker, whichever is higher.</summary>
        public double ValueY => Math.Min(Y, Math.Min(ErrorLow, ErrorHigh)) - 4;
    }

    /// <summary>Room above the tallest bar, as a share of the axis, for the number written over it.</summary>
    public const double Headroom = 0.12;

    /// <summary>A group label at its centre.</summary>
    public sealed record Group(string Label, double X);

    /// <summary>Lays out <paramref name="series"/> over <paramref name="groups"/>, y from 0 (or the lowest value) up.</summary>
    public static BarChartLayout Compute(IReadOnlyList<string> groups, IReadOnlyList<BarSeries> series)
    {
        var tops = series.SelectMany(s => s.Values.Select((v, i) => v + (s.Errors is { } e && i < e.Count && double.IsFinite(e[i]) ? e[i] : 0)))
            .Where(double.IsFinite).ToList();
        if (groups.Count == 0 || series.Count == 0 || tops.Count == 0) return new([], [], []);
        double lowest = series.SelectMany(s => s.Values).Where(double.IsFinite).Min();
        double y0 = Math.Min(0, lowest), y1 = Math.Max(tops.Max(), y0 + 1e-9);
        y1 += (y1 - y0) * Headroom;
        double SY(double y) => Bottom - (y - y0) / (y1 - y0) * (Bottom - Top);
        double groupWidth = (Right - Left) / groups.Count, barWidth = groupWidth * 0.8 / series.Count;
        var bars = new List<Bar>();
        for (int g = 0; g < groups.Count; g++)
        {
            for (int s = 0; s < series.Count; s++)
            {
                double v = g < series[s].Values.Count ? series[s].Values[g] : double.NaN;
                if (!double.IsFinite(v)) continue;
                double e = series[s].Errors is { } errors && g < errors.Count && double.IsFinite(errors[g]) ? errors[g] : 0;
                double x = Left + g * groupWidth + groupWidth * 0.1 + s * barWidth;
                double top = SY(v), zero = SY(Math.Max(y0, 0));
                // A bar shorter than a pixel (a zero) is drawn as a one-pixel line standing on the axis.
                var (y, height) = Math.Abs(zero - top) < 1 ? (zero - 1, 1.0) : (Math.Min(top, zero), Math.Abs(zero - top));
                bars.Add(new Bar(series[s].Name, groups[g], x, y, barWidth * 0.9, height,
                    SY(v - e), SY(v + e), series[s].Color,
                    e > 0 ? $"{series[s].Name} · {groups[g]}: {F(v)} ± {F(e)}" : $"{series[s].Name} · {groups[g]}: {F(v)}",
                    Tracker.Core.NumberText.Number(v)));
            }
        }
        return new BarChartLayout(bars,
            groups.Select((label, g) => new Group(label, Left + (g + 0.5) * groupWidth)).ToList(),
            ChartLayout.Ticks(y0, y1).Select(t => new ChartLayout.Tick(SY(t), F(t))).ToList());
    }

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
