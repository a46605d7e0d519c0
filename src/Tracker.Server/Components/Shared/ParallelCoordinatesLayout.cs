using System.Globalization;
using Tracker.Abstractions;

namespace Tracker.Server.Components.Shared;

/// <summary>One line of a parallel-coordinates plot: a trial's parameter values and its objective.</summary>
/// <param name="Number">The trial number (hover text).</param>
/// <param name="Values">Its parameter values by name; a missing one (an inactive conditional parameter) is drawn below its axis.</param>
/// <param name="Objective">Its objective.</param>
public sealed record ParallelLine(int Number, IReadOnlyDictionary<string, ParameterValue> Values, double Objective);

/// <summary>
/// Lays out a parallel-coordinates plot: one vertical axis per searched parameter (linear, logarithmic for log-scaled
/// parameters, evenly spaced categories for choices) and a last axis for the objective; each trial is a polyline
/// across them, coloured from blue (lowest objective) to red (highest). Pure logic, tested without rendering.
/// </summary>
public sealed record ParallelCoordinatesLayout(double Width, IReadOnlyList<ParallelCoordinatesLayout.Axis> Axes, IReadOnlyList<ParallelCoordinatesLayout.Line> Lines)
{
    /// <summary>The SVG canvas height and the vertical extent of the axes.</summary>
    public const double Height = 300, Top = 34, Bottom = 270;

    /// <summary>Horizontal room per axis and margins.</summary>
    public const double AxisSpacing = 150, Margin = 70;

    /// <summary>Where an inactive parameter's value is drawn: just below its axis.</summary>
    public const double MissingY = Bottom + 16;

    /// <summary>How an axis maps values.</summary>
    public enum Scale
    {
        /// <summary>Linear numbers.</summary>
        Linear,

        /// <summary>Logarithmic numbers.</summary>
        Log,

        /// <summary>Evenly spaced categories.</summary>
        Categorical,
    }

    /// <summary>A tick at an SVG height with its label.</summary>
    public sealed record Tick(double Position, string Label);

    /// <summary>An axis at <paramref name="X"/> with its ticks.</summary>
    public sealed record Axis(string Name, double X, Scale Scale, IReadOnlyList<Tick> Ticks)
    {
        /// <summary>The heading shown above the axis.</summary>
        public string Heading => Scale == Scale.Log ? $"{Name} (log)" : Name;
    }

    /// <summary>A trial's polyline with its colour and hover text.</summary>
    public sealed record Line(int Number, string Points, string Color, string Title, double Objective);

    /// <summary>The objective axis's name when none is given.</summary>
    public const string ObjectiveName = "objective";

    /// <summary>The most lines drawn; more trials are thinned evenly over their objective ranks, keeping the best and the worst.</summary>
    public const int MaxLines = 500;

    /// <summary>
    /// Lays out <paramref name="lines"/> over the parameters of <paramref name="space"/> and the objective
    /// (named <paramref name="objective"/>). Lines with a non-finite objective are left out.
    /// </summary>
    public static ParallelCoordinatesLayout Compute(SearchSpace space, IReadOnlyList<ParallelLine> lines, string objective = ObjectiveName)
    {
        var parameters = space.Parameters;
        var usable = lines.Where(l => double.IsFinite(l.Objective)).OrderBy(l => l.Objective).ThenBy(l => l.Number).ToList();
        if (usable.Count > MaxLines)
            usable = Enumerable.Range(0, MaxLines).Select(k => usable[(int)Math.Round(k * (usable.Count - 1.0) / (MaxLines - 1))]).ToList();
        int count = parameters.Count + 1;
        double width = 2 * Margin + (count - 1) * AxisSpacing;
        double AxisX(int i) => Margin + i * AxisSpacing;
        double UnitToY(double unit) => Bottom - Math.Clamp(unit, 0, 1) * (Bottom - Top);

        var axes = new List<Axis>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            axes.Add(new Axis(p.Name, AxisX(i), ScaleOf(p), TickValues(p).Select(v => new Tick(UnitToY(p.ToUnit(v)), Label(v))).ToList()));
        }
        double low = usable.Count == 0 ? 0 : usable.Min(l => l.Objective), high = usable.Count == 0 ? 1 : usable.Max(l => l.Objective);
        if (high - low < 1e-12) { low -= 0.5; high += 0.5; }
        double ObjectiveUnit(double v) => (v - low) / (high - low);
        axes.Add(new Axis(objective, AxisX(parameters.Count), Scale.Linear,
            ChartLayout.Ticks(low, high).Select(t => new Tick(UnitToY(ObjectiveUnit(t)), Label(t))).ToList()));

        var placed = usable.Select(l =>
        {
            var points = parameters.Select((p, i) => (X: AxisX(i),
                    Y: l.Values.TryGetValue(p.Name, out var v) && p.Check(v) is null ? UnitToY(p.ToUnit(v)) : MissingY))
                .Append((X: AxisX(parameters.Count), Y: UnitToY(ObjectiveUnit(l.Objective))));
            string title = $"trial #{l.Number}: {objective} {Label(l.Objective)} · " +
                string.Join(", ", parameters.Select(p => $"{p.Name}={(l.Values.TryGetValue(p.Name, out var v) ? Label(v) : "–")}"));
            return new Line(l.Number, string.Join(' ', points.Select(pt => $"{F(pt.X)},{F(pt.Y)}")), Color(ObjectiveUnit(l.Objective)), title, l.Objective);
        }).ToList();
        return new ParallelCoordinatesLayout(width, axes, placed);
    }

    /// <summary>The colour of <paramref name="t"/> in [0, 1] on a blue → purple → red scale.</summary>
    public static string Color(double t)
    {
        t = double.IsFinite(t) ? Math.Clamp(t, 0, 1) : 0;
        (int R, int G, int B) blue = (30, 136, 229), red = (229, 57, 53);
        int Mix(int a, int b) => (int)Math.Round(a + (b - a) * t);
        return $"#{Mix(blue.R, red.R):x2}{Mix(blue.G, red.G):x2}{Mix(blue.B, red.B):x2}";
    }

    private static Scale ScaleOf(ParameterSpec p) => p switch
    {
        ChoiceParameter => Scale.Categorical,
        FloatParameter { Log: true } or IntParameter { Log: true } => Scale.Log,
        _ => Scale.Linear,
    };

    /// <summary>The values to tick on a parameter's axis: every category, powers of ten on log axes, else 1-2-5 steps.</summary>
    internal static IReadOnlyList<ParameterValue> TickValues(ParameterSpec p)
    {
        switch (p)
        {
            case ChoiceParameter c:
                return c.Values;
            case FloatParameter { Log: true } f:
                return LogTicks(f.Low, f.High).Select(v => (ParameterValue)v).ToList();
            case IntParameter { Log: true } n:
                return LogTicks(n.Low, n.High).Select(v => (ParameterValue)Math.Round(v)).Distinct().ToList();
            case FloatParameter f:
                return ChartLayout.Ticks(f.Low, f.High).Select(v => (ParameterValue)v).ToList();
            case IntParameter n:
                long count = ((long)n.High - n.Low) / n.Step + 1;
                if (count <= 10) return Enumerable.Range(0, (int)count).Select(k => (ParameterValue)(n.Low + (double)k * n.Step)).ToList();
                // Nice ticks, moved onto the parameter's grid.
                return ChartLayout.Ticks(n.Low, n.High, integers: true)
                    .Select(v => n.Low + Math.Round((v - n.Low) / n.Step) * n.Step).Where(v => v >= n.Low && v <= n.High)
                    .Distinct().Select(v => (ParameterValue)v).ToList();
            default:
                return [];
        }
    }

    /// <summary>Powers of ten in [low, high] (thinned to about six), with the bounds when fewer than two fall inside.</summary>
    private static List<double> LogTicks(double low, double high)
    {
        int first = (int)Math.Ceiling(Math.Log10(low) - 1e-9), last = (int)Math.Floor(Math.Log10(high) + 1e-9);
        var powers = Enumerable.Range(first, Math.Max(0, last - first + 1)).Select(e => Math.Pow(10, e)).ToList();
        if (powers.Count > 6)
        {
            int every = (powers.Count + 5) / 6;
            powers = powers.Where((_, i) => i % every == 0).ToList();
        }
        return powers.Count >= 2 ? powers : [low, .. powers.Where(v => v > low && v < high), high];
    }

    private static string Label(ParameterValue v) => v.Number is { } n ? Label(n) : v.Text ?? "";

    private static string Label(double v) =>
        (v == 0 ? 0 : v).ToString(Math.Abs(v) >= 10000 || (Math.Abs(v) < 0.01 && v != 0) ? "0.##e0" : "0.####", CultureInfo.InvariantCulture);

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
