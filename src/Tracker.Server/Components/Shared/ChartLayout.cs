using System.Globalization;

namespace Tracker.Server.Components.Shared;

/// <summary>One named series of (x, y) points, drawn as a line, as markers, or both.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color, bool Line = true, bool Markers = true);

/// <summary>
/// Maps series into SVG coordinates with "nice" axis ticks. Pure logic, separate from the markup so it can be
/// tested. Non-finite values are left out.
/// </summary>
public sealed record ChartLayout(IReadOnlyList<ChartLayout.PlacedSeries> Series, IReadOnlyList<ChartLayout.Tick> XTicks, IReadOnlyList<ChartLayout.Tick> YTicks)
{
    /// <summary>The SVG canvas and plot area.</summary>
    public const double Width = 600, Height = 260, Left = 56, Right = 590, Top = 10, Bottom = 230;

    /// <summary>A point in SVG coordinates with its label.</summary>
    public sealed record PlacedPoint(double X, double Y, string Label);

    /// <summary>A series in SVG coordinates.</summary>
    public sealed record PlacedSeries(string Name, string Color, bool Line, bool Markers, IReadOnlyList<PlacedPoint> Points)
    {
        /// <summary>The SVG polyline "points" attribute.</summary>
        public string Polyline => string.Join(' ', Points.Select(p => $"{F(p.X)},{F(p.Y)}"));
    }

    /// <summary>An axis tick at an SVG position.</summary>
    public sealed record Tick(double Position, string Label);

    /// <summary>The number of points drawn.</summary>
    public int PointCount => Series.Sum(s => s.Points.Count);

    /// <summary>Lays out <paramref name="series"/>.</summary>
    public static ChartLayout Compute(IReadOnlyList<ChartSeries> series)
    {
        var finite = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        if (finite.Count == 0) return new ChartLayout([], [], []);
        var (x0, x1) = Range(finite.Select(p => p.X));
        var (y0, y1) = Range(finite.Select(p => p.Y));
        double SX(double x) => Left + (x - x0) / (x1 - x0) * (Right - Left);
        double SY(double y) => Bottom - (y - y0) / (y1 - y0) * (Bottom - Top);
        var placed = series.Select(s => new PlacedSeries(s.Name, s.Color, s.Line, s.Markers,
            s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
                .Select(p => new PlacedPoint(SX(p.X), SY(p.Y), $"({Label(p.X)}, {Label(p.Y)})")).ToList())).ToList();
        bool integerX = finite.All(p => p.X == Math.Floor(p.X));
        return new ChartLayout(placed,
            Ticks(x0, x1, integerX).Select(t => new Tick(SX(t), Label(t))).ToList(),
            Ticks(y0, y1).Select(t => new Tick(SY(t), Label(t))).ToList());
    }

    private static (double Low, double High) Range(IEnumerable<double> values)
    {
        double low = values.Min(), high = values.Max();
        if (high - low < 1e-12) { low -= 0.5; high += 0.5; }
        return (low, high);
    }

    /// <summary>About five ticks at multiples of 1, 2 or 5 times a power of ten, within [low, high].</summary>
    /// <remarks>With <paramref name="integers"/> the step is at least 1, so epochs and trial numbers get whole ticks.</remarks>
    internal static IReadOnlyList<double> Ticks(double low, double high, bool integers = false)
    {
        double raw = (high - low) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        if (integers) step = Math.Max(1, Math.Round(step));
        var ticks = new List<double>();
        for (double t = Math.Ceiling(low / step) * step; t <= high + step * 1e-9; t += step) ticks.Add(Math.Round(t / step) * step);
        return ticks;
    }

    private static string Label(double v) => (v == 0 ? 0 : v).ToString(Math.Abs(v) >= 1000 || (Math.Abs(v) < 0.01 && v != 0) ? "0.##e0" : "0.###", CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
