using Tracker.Core;

namespace Tracker.Server.Components.Shared;

/// <summary>One named series of (x, y) points, drawn as a line, as markers, or both.</summary>
/// <param name="Name">Legend name.</param>
/// <param name="Points">The points, in drawing order.</param>
/// <param name="Color">Stroke and fill colour.</param>
/// <param name="Line">Whether to join the points. Defaults to true.</param>
/// <param name="Markers">Whether to mark each point. Defaults to true.</param>
/// <param name="Labels">A hover label per point (e.g. "trial #3"), or null for none. Defaults to none.</param>
/// <param name="Step">
/// Join the points as steps (across at the earlier value, then up or down), for a value that holds until it changes,
/// such as the best so far. Defaults to false: straight segments.
/// </param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, string Color, bool Line = true, bool Markers = true,
    IReadOnlyList<string>? Labels = null, bool Step = false);

/// <summary>The colours of compared series (experiments, runs, studies), told apart at a glance; they repeat after eight.</summary>
public static class ChartPalette
{
    private static readonly string[] Colors = ["#1e88e5", "#e53935", "#43a047", "#8e24aa", "#fb8c00", "#00897b", "#6d4c41", "#3949ab"];

    /// <summary>The colour of the <paramref name="index"/>-th compared series.</summary>
    public static string Color(int index) => Colors[index % Colors.Length];
}

/// <summary>How <see cref="ChartLayout"/> draws its axes.</summary>
/// <param name="LogX">A logarithmic x axis (for log-scaled parameters); points with x ≤ 0 are left out. Defaults to false.</param>
/// <param name="XCategories">Names for x = 0, 1, 2, …: the x axis becomes categorical (for choice parameters). Defaults to none.</param>
/// <param name="MaxPointsPerSeries">Longer series are decimated to about this many points. Defaults to <see cref="ChartLayout.DefaultMaxPoints"/>.</param>
/// <param name="IntegerX">
/// Ticks at whole numbers only, for an axis of counts (trial numbers) that also carries points between them.
/// Defaults to false: ticks are whole only when every x is.
/// </param>
public sealed record ChartOptions(bool LogX = false, IReadOnlyList<string>? XCategories = null, int MaxPointsPerSeries = ChartLayout.DefaultMaxPoints,
    bool IntegerX = false)
{
    /// <summary>Linear axes, default decimation.</summary>
    public static ChartOptions Default { get; } = new();
}

/// <summary>
/// The axes of a line or scatter chart, in the data's own units: the points each series keeps (finite, decimated), a
/// padded domain per axis and "nice" ticks labelled by <see cref="NumberText"/>. Pure logic, separate from the drawing
/// so that it can be tested; the chart library draws what it says.
/// </summary>
/// <param name="Series">The series with the points they keep.</param>
/// <param name="X">The x axis: its domain in axis units (decades on a log axis) and its ticks.</param>
/// <param name="Y">The y axis.</param>
/// <param name="Options">How the axes were made, kept so that a zoomed view gets ticks of the same kind.</param>
/// <param name="WholeX">Whether x ticks are whole numbers.</param>
public sealed record ChartLayout(IReadOnlyList<ChartLayout.PlacedSeries> Series, ChartLayout.Axis X, ChartLayout.Axis Y, ChartOptions Options, bool WholeX)
{
    /// <summary>The most points a series keeps by default (a few KB to send); see <see cref="Decimate"/>.</summary>
    public const int DefaultMaxPoints = 600;

    /// <summary>A point in data units with its hover text.</summary>
    public sealed record PlacedPoint(double X, double Y, string Label);

    /// <summary>A series as drawn.</summary>
    public sealed record PlacedSeries(string Name, string Color, bool Line, bool Markers, IReadOnlyList<PlacedPoint> Points, bool Step = false);

    /// <summary>An axis tick at a data value (not a decade: a log axis's tick at 0.001 has Value 0.001).</summary>
    public sealed record Tick(double Value, string Label);

    /// <summary>An axis: its domain in axis units (log10 of the values on a log axis) and its ticks.</summary>
    public sealed record Axis(double Low, double High, IReadOnlyList<Tick> Ticks)
    {
        /// <summary>No domain: an empty chart.</summary>
        public static Axis None { get; } = new(0, 1, []);
    }

    /// <summary>The x ticks.</summary>
    public IReadOnlyList<Tick> XTicks => X.Ticks;

    /// <summary>The y ticks.</summary>
    public IReadOnlyList<Tick> YTicks => Y.Ticks;

    /// <summary>The number of points drawn.</summary>
    public int PointCount => Series.Sum(s => s.Points.Count);

    /// <summary>Lays out <paramref name="series"/> with linear axes.</summary>
    public static ChartLayout Compute(IReadOnlyList<ChartSeries> series) => Compute(series, ChartOptions.Default);

    /// <summary>Lays out <paramref name="series"/> as <paramref name="options"/> say.</summary>
    public static ChartLayout Compute(IReadOnlyList<ChartSeries> series, ChartOptions options)
    {
        bool Usable((double X, double Y) p) => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!options.LogX || p.X > 0);
        // Indices of the points each series keeps: usable ones, decimated.
        var kept = series.Select(s =>
        {
            var usable = Enumerable.Range(0, s.Points.Count).Where(i => Usable(s.Points[i])).ToList();
            return Decimate(usable.Select(i => s.Points[i]).ToList(), options.MaxPointsPerSeries).Select(k => usable[k]).ToList();
        }).ToList();
        var finite = series.SelectMany((s, k) => kept[k].Select(i => s.Points[i])).ToList();
        if (finite.Count == 0) return new ChartLayout([], Axis.None, Axis.None, options, WholeX: false);
        bool wholeX = options.IntegerX || finite.All(p => p.X == Math.Floor(p.X));
        var (x0, x1) = options.XCategories is { Count: > 0 } categories
            ? (-0.5, categories.Count - 0.5)
            : Domain(finite.Select(p => options.LogX ? Math.Log10(p.X) : p.X), XPadding, wholeX);
        var (y0, y1) = Domain(finite.Select(p => p.Y), YPadding, integers: false);
        var placed = series.Select((s, k) => new PlacedSeries(s.Name, s.Color, s.Line, s.Markers,
            kept[k].Select(i => new PlacedPoint(s.Points[i].X, s.Points[i].Y,
                (s.Labels is { } labels && i < labels.Count ? labels[i] + ": " : "") + $"({XLabel(options, s.Points[i].X)}, {Label(s.Points[i].Y)})")).ToList(), s.Step)).ToList();
        var layout = new ChartLayout(placed, Axis.None, Axis.None, options, wholeX);
        return layout with { X = new Axis(x0, x1, layout.XTicksWithin(x0, x1)), Y = new Axis(y0, y1, layout.YTicksWithin(y0, y1)) };
    }

    /// <summary>
    /// The x ticks of a view from <paramref name="low"/> to <paramref name="high"/> (axis units), of the same kind as
    /// the whole chart's: category names, powers of ten, or whole or 1-2-5 numbers. Asked again when the view is zoomed.
    /// </summary>
    public IReadOnlyList<Tick> XTicksWithin(double low, double high)
    {
        if (!(high > low) || !double.IsFinite(high - low)) return [];
        if (Options.XCategories is { Count: > 0 } c)
        {
            return Enumerable.Range(0, c.Count).Where(i => i >= low && i <= high).Select(i => new Tick(i, c[i])).ToList();
        }
        var values = Options.LogX ? LogTicks(low, high) : Ticks(low, high, WholeX);
        return values.Select(v => new Tick(v, Label(v))).ToList();
    }

    /// <summary>The y ticks of a view from <paramref name="low"/> to <paramref name="high"/>.</summary>
    public IReadOnlyList<Tick> YTicksWithin(double low, double high) => LinearTicks(low, high);

    /// <summary>1-2-5 ticks from <paramref name="low"/> to <paramref name="high"/>, labelled; none for an empty range.</summary>
    internal static IReadOnlyList<Tick> LinearTicks(double low, double high) =>
        high > low && double.IsFinite(high - low) ? Ticks(low, high).Select(v => new Tick(v, Label(v))).ToList() : [];

    /// <summary>Whether <paramref name="other"/> draws the same picture: the same series, points and axes.</summary>
    public bool SameAs(ChartLayout other) =>
        WholeX == other.WholeX && Options.LogX == other.Options.LogX && SameItems(Options.XCategories ?? [], other.Options.XCategories ?? [])
        && X.Low == other.X.Low && X.High == other.X.High && Y.Low == other.Y.Low && Y.High == other.Y.High // ticks follow from these
        && Series.Count == other.Series.Count
        && Series.Zip(other.Series).All(pair => (pair.First.Name, pair.First.Color, pair.First.Line, pair.First.Markers, pair.First.Step)
            == (pair.Second.Name, pair.Second.Color, pair.Second.Line, pair.Second.Markers, pair.Second.Step) && SameItems(pair.First.Points, pair.Second.Points));

    private static bool SameItems<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => a.Count == b.Count && a.SequenceEqual(b);

    private static string XLabel(ChartOptions options, double x) =>
        options.XCategories is { } names && x == Math.Floor(x) && x >= 0 && x < names.Count ? names[(int)x] : Label(x);

    /// <summary>
    /// Picks at most about <paramref name="max"/> of <paramref name="points"/> (x-ordered, as a line is) and returns
    /// their indices in order: the first and the last, and in each of equal buckets between them the points with the
    /// lowest and the highest y, so that spikes and dips survive. A series of at most <paramref name="max"/> points is kept whole.
    /// </summary>
    public static IReadOnlyList<int> Decimate(IReadOnlyList<(double X, double Y)> points, int max)
    {
        int n = points.Count;
        if (n <= Math.Max(max, 4)) return Enumerable.Range(0, n).ToList();
        int buckets = Math.Max(1, (max - 2) / 2);
        var kept = new List<int>(2 * buckets + 2) { 0 };
        double width = (double)(n - 2) / buckets;
        for (int b = 0; b < buckets; b++)
        {
            int start = 1 + (int)Math.Floor(b * width), end = Math.Min(n - 1, 1 + (int)Math.Floor((b + 1) * width));
            if (start >= end) continue;
            int low = start, high = start;
            for (int i = start + 1; i < end; i++)
            {
                if (points[i].Y < points[low].Y) low = i;
                if (points[i].Y > points[high].Y) high = i;
            }
            kept.Add(Math.Min(low, high));
            if (low != high) kept.Add(Math.Max(low, high));
        }
        kept.Add(n - 1);
        return kept;
    }

    /// <summary>Ticks of a log10 axis from <paramref name="low"/> to <paramref name="high"/> (exponents): powers of ten, or 1-2-5 steps within one decade.</summary>
    private static IEnumerable<double> LogTicks(double low, double high)
    {
        var powers = Enumerable.Range((int)Math.Ceiling(low - 1e-9), Math.Max(0, (int)Math.Floor(high + 1e-9) - (int)Math.Ceiling(low - 1e-9) + 1))
            .Select(e => Math.Pow(10, e)).ToList();
        if (powers.Count > 6)
        {
            int every = (powers.Count + 5) / 6;
            return powers.Where((_, i) => i % every == 0);
        }
        if (powers.Count >= 2) return powers;
        // Less than a decade: 1-2-5 steps of the values themselves, placed logarithmically.
        return Ticks(Math.Pow(10, low), Math.Pow(10, high)).Where(t => t > 0);
    }

    /// <summary>The share of the values' range left free at each end of the x and the y axis, so that no point sits on an axis.</summary>
    public const double XPadding = 0.02, YPadding = 0.05;

    /// <summary>
    /// The axis domain of <paramref name="values"/>: their range with <paramref name="padding"/> of it free at each
    /// end. A single value sits in the middle of ±10 % of itself (±1 at zero, ±0.5 on a whole-number axis), so
    /// that an F1 of 0.018 reads 0.018 on its axis rather than 0 on a −0.5 to 0.5 one.
    /// </summary>
    internal static (double Low, double High) Domain(IEnumerable<double> values, double padding, bool integers)
    {
        double low = values.Min(), high = values.Max(), span = high - low;
        if (span <= 1e-12 * Math.Max(1, Math.Abs(high)))
        {
            double half = integers ? 0.5 : low == 0 ? 1 : Math.Abs(low) * 0.1;
            return (low - half, high + half);
        }
        return (low - span * padding, high + span * padding);
    }

    /// <summary>About five ticks at multiples of 1, 2 or 5 times a power of ten, within [low, high].</summary>
    /// <remarks>With <paramref name="integers"/> the step is at least 1, so epochs and trial numbers get whole ticks.</remarks>
    internal static IReadOnlyList<double> Ticks(double low, double high, bool integers = false)
    {
        double raw = (high - low) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        if (integers) step = Math.Max(1, Math.Round(step));
        // Counted by index, not by adding the step: near large values a tiny step is below the spacing of doubles, and
        // t += step would never move. A range wider than the step allows gives no more than a dozen ticks either way.
        double first = Math.Ceiling(low / step);
        var ticks = new List<double>();
        for (int i = 0; i < 12 && (first + i) * step <= high + step * 1e-9; i++) ticks.Add((first + i) * step);
        return ticks;
    }

    // One formatter for ticks and hover text, as for every number the dashboard and the command line write; -0 reads 0.
    private static string Label(double v) => NumberText.Number(v == 0 ? 0 : v);
}
