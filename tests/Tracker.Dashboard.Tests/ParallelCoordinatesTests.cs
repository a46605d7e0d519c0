using Tracker.Abstractions;
using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

public sealed class ParallelCoordinatesTests
{
    private static readonly SearchSpace Space = new(
    [
        new FloatParameter { Name = "learning_rate", Low = 1e-4, High = 1e-1, Log = true },
        new IntParameter { Name = "width", Low = 8, High = 64, Step = 8 },
        new ChoiceParameter { Name = "optimizer", Values = ["adam", "sgd", "rmsprop"] },
    ]);

    private static ParallelLine Line(int number, double lr, int width, string optimizer, double objective) =>
        new(number, new Dictionary<string, ParameterValue> { ["learning_rate"] = lr, ["width"] = width, ["optimizer"] = optimizer }, objective);

    private static double[] Ys(ParallelCoordinatesLayout.Line line) =>
        line.Points.Split(' ').Select(p => double.Parse(p.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void Compute_ThreeParameters_OneAxisEachPlusTheObjective()
    {
        var layout = ParallelCoordinatesLayout.Compute(Space, [Line(0, 1e-3, 16, "sgd", 0.5)], "val_f1_macro");

        Assert.Equal(["learning_rate", "width", "optimizer", "val_f1_macro"], layout.Axes.Select(a => a.Name));
        Assert.Equal([ParallelCoordinatesLayout.Scale.Log, ParallelCoordinatesLayout.Scale.Linear, ParallelCoordinatesLayout.Scale.Categorical, ParallelCoordinatesLayout.Scale.Linear],
            layout.Axes.Select(a => a.Scale));
        Assert.Equal("learning_rate (log)", layout.Axes[0].Heading);
        Assert.Equal(4, layout.Lines[0].Points.Split(' ').Length);
        Assert.Equal(layout.Axes.Select(a => a.X).Distinct().Count(), layout.Axes.Count);
    }

    [Fact]
    public void Compute_LogAxis_DecadesEquallySpacedWithPowerOfTenTicks()
    {
        var layout = ParallelCoordinatesLayout.Compute(Space, [Line(0, 1e-4, 8, "adam", 0), Line(1, 1e-2, 8, "adam", 1)]);

        var axis = layout.Axes[0];
        Assert.Equal(["1e-4", "1e-3", "0.01", "0.1"], axis.Ticks.Select(t => t.Label));
        var gaps = axis.Ticks.Zip(axis.Ticks.Skip(1), (a, b) => a.Position - b.Position).ToList();
        Assert.All(gaps, g => Assert.Equal(gaps[0], g, 9));
        // 1e-4 sits at the bottom, 1e-2 two thirds of the way up.
        var low = layout.Lines.Single(l => l.Number == 0);
        var high = layout.Lines.Single(l => l.Number == 1);
        Assert.Equal(ParallelCoordinatesLayout.Bottom, Ys(low)[0], tolerance: 0.01);
        Assert.Equal(axis.Ticks[2].Position, Ys(high)[0], tolerance: 0.01);
    }

    [Fact]
    public void Compute_IntAxisWithStep_TicksOnTheGrid()
    {
        var small = ParallelCoordinatesLayout.Compute(Space, [Line(0, 1e-3, 16, "adam", 1)]);
        var wide = ParallelCoordinatesLayout.Compute(new SearchSpace([new IntParameter { Name = "units", Low = 16, High = 1024, Step = 16 }]), []);

        Assert.Equal(["8", "16", "24", "32", "40", "48", "56", "64"], small.Axes[1].Ticks.Select(t => t.Label));
        Assert.Equal(small.Axes[1].Ticks[1].Position, Ys(small.Lines[0])[1], tolerance: 0.01);
        Assert.All(wide.Axes[0].Ticks, t => Assert.Equal(0, int.Parse(t.Label) % 16));
        Assert.InRange(wide.Axes[0].Ticks.Count, 2, 8);
    }

    [Fact]
    public void Compute_CategoricalAxis_CategoriesEvenlySpaced()
    {
        var layout = ParallelCoordinatesLayout.Compute(Space, [Line(0, 1e-3, 8, "rmsprop", 1)]);

        var ticks = layout.Axes[2].Ticks;
        Assert.Equal(["adam", "sgd", "rmsprop"], ticks.Select(t => t.Label));
        Assert.Equal(ticks[0].Position - ticks[1].Position, ticks[1].Position - ticks[2].Position, 9);
        Assert.Equal(ticks[2].Position, Ys(layout.Lines[0])[2], tolerance: 0.01);
    }

    [Fact]
    public void Compute_Objective_ColouredBlueToRedAndBestDrawnLast()
    {
        var layout = ParallelCoordinatesLayout.Compute(Space, [Line(0, 1e-3, 8, "adam", 0.9), Line(1, 1e-3, 8, "adam", 0.1), Line(2, 1e-3, 8, "adam", double.NaN)]);

        Assert.Equal([1, 0], layout.Lines.Select(l => l.Number)); // NaN left out; lowest first so the highest is on top
        Assert.Equal(ParallelCoordinatesLayout.Color(0), layout.Lines[0].Color);
        Assert.Equal(ParallelCoordinatesLayout.Color(1), layout.Lines[1].Color);
        Assert.Equal("#1e88e5", ParallelCoordinatesLayout.Color(0));
        Assert.Equal("#e53935", ParallelCoordinatesLayout.Color(1));
        Assert.StartsWith("trial #0: objective 0.9", layout.Lines[1].Title);
        Assert.Equal(ParallelCoordinatesLayout.Top, Ys(layout.Lines[1])[3], tolerance: 0.01);
        Assert.Equal(ParallelCoordinatesLayout.Bottom, Ys(layout.Lines[0])[3], tolerance: 0.01);
    }

    [Fact]
    public void Compute_ThousandsOfTrials_ThinnedKeepingBestAndWorst()
    {
        var lines = Enumerable.Range(0, 5000).Select(i => Line(i, 1e-3, 8, "adam", (i * 7919) % 5000 / 5000.0)).ToList();

        var layout = ParallelCoordinatesLayout.Compute(Space, lines);

        Assert.Equal(ParallelCoordinatesLayout.MaxLines, layout.Lines.Count);
        Assert.Equal(0, layout.Lines[0].Objective);
        Assert.Equal(4999 / 5000.0, layout.Lines[^1].Objective);
        Assert.Equal(layout.Lines.Count, layout.Lines.Select(l => l.Number).Distinct().Count());
    }

    [Fact]
    public void Compute_InactiveParameter_DrawnBelowItsAxis()
    {
        var line = new ParallelLine(0, new Dictionary<string, ParameterValue> { ["learning_rate"] = 1e-3, ["optimizer"] = "sgd" }, 0.5);

        var layout = ParallelCoordinatesLayout.Compute(Space, [line]);

        Assert.Equal(ParallelCoordinatesLayout.MissingY, Ys(layout.Lines[0])[1], tolerance: 0.01);
        Assert.Contains("width=–", layout.Lines[0].Title);
    }
}
