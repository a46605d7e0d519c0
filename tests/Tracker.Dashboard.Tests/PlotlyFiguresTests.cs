using Plotly.Blazor.Traces;
using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>The plotly.js figures say what Tracker's layouts decided: domains, ticks, step lines, log axes, bar numbers.</summary>
public sealed class PlotlyFiguresTests
{
    [Fact]
    public void Line_AxesCarryTheLayoutsDomainsTicksAndTitles()
    {
        var layout = ChartLayout.Compute([new ChartSeries("loss", [(0, 0.9), (1, 0.5), (2, 0.4)], "#1e88e5")]);

        var figure = PlotlyFigures.Line(layout, "step", "loss");

        var x = figure.Layout.XAxis.Single();
        var y = figure.Layout.YAxis.Single();
        Assert.Equal([layout.X.Low, layout.X.High], x.Range.Cast<double>());
        Assert.Equal([layout.Y.Low, layout.Y.High], y.Range.Cast<double>());
        Assert.Equal(layout.YTicks.Select(t => t.Label), y.TickText.Cast<string>());
        Assert.Equal(layout.XTicks.Select(t => t.Value), x.TickVals.Cast<double>());
        Assert.Equal(("step", "loss"), (x.Title.Text, y.Title.Text));
        var trace = Assert.IsType<Scatter>(figure.Data.Single());
        Assert.Equal([0.9, 0.5, 0.4], trace.Y.Cast<double>());
        Assert.Equal("(1, 0.5)", trace.HoverTextArray[1]); // hover values written by the shared formatter
        Assert.False(figure.Layout.ShowLegend); // one series needs no legend
    }

    [Fact]
    public void Line_BestSoFarIsAStepLine_ATrialsPointsAreMarkersOnly()
    {
        var layout = ChartLayout.Compute([
            new ChartSeries("trials", [(0, 0.5), (1, 0.7)], "#000", Line: false),
            new ChartSeries("best so far", [(0, 0.5), (1, 0.7)], "#f00", Markers: false, Step: true)]);

        var figure = PlotlyFigures.Line(layout, "trial", "F1");

        var trials = (Scatter)figure.Data[0];
        var best = (Scatter)figure.Data[1];
        Assert.Equal(Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers, trials.Mode);
        Assert.Equal(Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, best.Mode);
        Assert.Equal(Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Hv, best.Line.Shape);
        Assert.Equal(Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Linear, trials.Line.Shape);
        Assert.True(figure.Layout.ShowLegend);
    }

    [Fact]
    public void Line_LogParameter_LogAxisOverDecades()
    {
        var layout = ChartLayout.Compute([new ChartSeries("f1", [(1e-4, 0.3), (1e-2, 0.6)], "#000", Line: false)], new ChartOptions(LogX: true));

        var x = PlotlyFigures.Line(layout, "learning_rate", "F1").Layout.XAxis.Single();

        Assert.Equal(Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log, x.Type);
        Assert.Equal(-4.04, (double)x.Range[0], 9); // plotly's log ranges are in decades
        Assert.Equal(["1e-4", "0.001", "0.01"], x.TickText.Cast<string>());
    }

    [Fact]
    public void Bars_NumbersWrittenOnEveryBar_ErrorBarsWhereThereAreErrors()
    {
        var layout = BarChartLayout.Compute(["×0.1", "×1"], [
            new BarSeries("mobilenet", [0.5, 0.8], [0.1, 0.05], "#000"),
            new BarSeries("importance", [0, 0.2], null, "#111")]);

        var figure = PlotlyFigures.Bars(layout, "learning rate factor");

        var withErrors = Assert.IsType<Bar>(figure.Data[0]);
        var plain = Assert.IsType<Bar>(figure.Data[1]);
        Assert.Equal(["0.5", "0.8"], withErrors.TextArray);
        Assert.Equal([0.1, 0.05], withErrors.ErrorY.Array.Cast<double>());
        // The number sits at the foot of a bar whose whisker runs through its top.
        Assert.Equal((Plotly.Blazor.Traces.BarLib.TextPositionEnum.Inside, Plotly.Blazor.Traces.BarLib.InsideTextAnchorEnum.Start),
            (withErrors.TextPosition, withErrors.InsideTextAnchor));
        Assert.Equal(["0", "0.2"], plain.TextArray); // a zero still says so
        Assert.Null(plain.ErrorY);
        Assert.Equal(Plotly.Blazor.Traces.BarLib.TextPositionEnum.Outside, plain.TextPosition);
        Assert.Equal([layout.Y.Low, layout.Y.High], figure.Layout.YAxis.Single().Range.Cast<double>());
    }

    [Fact]
    public void Config_NoLogoAndAPngNamedAfterTheChart()
    {
        var config = PlotlyFigures.Config("val_f1");

        Assert.False(config.DisplayLogo);
        Assert.Contains("\"filename\":\"val_f1\"", System.Text.Json.JsonSerializer.Serialize(config.ToImageButtonOptions));
    }
}
