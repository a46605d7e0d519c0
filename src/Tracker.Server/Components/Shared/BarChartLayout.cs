using Tracker.Core;

namespace Tracker.Server.Components.Shared;

/// <summary>One bar series: a value (and optional error) per group.</summary>
/// <param name="Name">Legend name (e.g. a model).</param>
/// <param name="Values">Value per group, NaN for none.</param>
/// <param name="Errors">Half-length of the error bar per group (e.g. one standard deviation), or null.</param>
/// <param name="Color">Fill colour.</param>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values, IReadOnlyList<double>? Errors, string Color);

/// <summary>
/// Grouped bars with error bars in the data's units: the bars each series has (finite values only), their numbers
/// and hover text, and a y axis from 0 (or the lowest value) with room above the tallest bar for its number.
/// Pure logic, testable without drawing.
/// </summary>
/// <param name="Groups">The group labels along x, in order.</param>
/// <param name="Series">Each series with its bars.</param>
/// <param name="Y">The y axis.</param>
public sealed record BarChartLayout(IReadOnlyList<string> Groups, IReadOnlyList<BarChartLayout.PlacedSeries> Series, ChartLayout.Axis Y)
{
    /// <summary>A bar: its group, value, error (0 for none), hover text and the number written on it.</summary>
    public sealed record Bar(string Group, double Value, double Error, string Label, string ValueText);

    /// <summary>A series with the bars it has.</summary>
    public sealed record PlacedSeries(string Name, string Color, IReadOnlyList<Bar> Bars);

    /// <summary>Room above the tallest bar, as a share of the axis, for the number written over it.</summary>
    public const double Headroom = 0.12;

    /// <summary>Every bar of every series.</summary>
    public IReadOnlyList<Bar> Bars => Series.SelectMany(s => s.Bars).ToList();

    /// <summary>Whether <paramref name="other"/> draws the same bars on the same axis.</summary>
    public bool SameAs(BarChartLayout other) =>
        Groups.SequenceEqual(other.Groups) && Y.Low == other.Y.Low && Y.High == other.Y.High // ticks follow from these
        && Series.Count == other.Series.Count
        && Series.Zip(other.Series).All(p => (p.First.Name, p.First.Color) == (p.Second.Name, p.Second.Color) && p.First.Bars.SequenceEqual(p.Second.Bars));

    /// <summary>Lays out <paramref name="series"/> over <paramref name="groups"/>, y from 0 (or the lowest value) up.</summary>
    public static BarChartLayout Compute(IReadOnlyList<string> groups, IReadOnlyList<BarSeries> series)
    {
        static double ErrorAt(BarSeries s, int g) => s.Errors is { } e && g < e.Count && double.IsFinite(e[g]) && e[g] > 0 ? e[g] : 0;
        var placed = series.Select(s => new PlacedSeries(s.Name, s.Color, groups.Select((group, g) => (group, g))
            .Where(x => x.g < s.Values.Count && double.IsFinite(s.Values[x.g]))
            .Select(x =>
            {
                double v = s.Values[x.g], e = ErrorAt(s, x.g);
                string label = e > 0 ? $"{s.Name} · {x.group}: {NumberText.Number(v)} ± {NumberText.Number(e)}" : $"{s.Name} · {x.group}: {NumberText.Number(v)}";
                return new Bar(x.group, v, e, label, NumberText.Number(v));
            }).ToList())).ToList();
        var bars = placed.SelectMany(s => s.Bars).ToList();
        if (bars.Count == 0) return new BarChartLayout([], [], ChartLayout.Axis.None);
        double y0 = Math.Min(0, bars.Min(b => b.Value - b.Error)), y1 = Math.Max(bars.Max(b => b.Value + b.Error), y0 + 1e-9);
        y1 += (y1 - y0) * Headroom;
        return new BarChartLayout(groups, placed, new ChartLayout.Axis(y0, y1, ChartLayout.LinearTicks(y0, y1)));
    }
}
