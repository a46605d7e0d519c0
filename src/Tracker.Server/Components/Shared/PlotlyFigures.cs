using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using ScatterLine = Plotly.Blazor.Traces.ScatterLib.Line;
using ScatterMarker = Plotly.Blazor.Traces.ScatterLib.Marker;

namespace Tracker.Server.Components.Shared;

/// <summary>A plotly.js figure: its traces and its layout.</summary>
/// <param name="Data">The traces.</param>
/// <param name="Layout">Axes, margins and legend.</param>
public sealed record PlotlyFigure(IList<ITrace> Data, Plotly.Blazor.Layout Layout);

/// <summary>
/// Turns the dashboard's chart layouts into plotly.js figures. Tracker decides the axes (padded domains, "nice" ticks
/// written by <see cref="Tracker.Core.NumberText"/>, log axes, step lines) and plotly.js draws them with hover values,
/// zoom and pan, legend toggles and PNG export. Pure logic: tests read the figures without a browser.
/// </summary>
public static class PlotlyFigures
{
    /// <summary>The height of a chart in CSS pixels.</summary>
    public const int Height = 280;

    /// <summary>The options every chart shares: no plotly.com link or logo, a PNG named after the chart, sized to its box.</summary>
    public static Config Config(string fileName) => new()
    {
        DisplayLogo = false,
        Responsive = true,
        // Selection tools select nothing on these charts; the rest (zoom, pan, reset, PNG) stay.
        ModeBarButtonsToRemove = new[] { "select2d", "lasso2d", "toggleSpikelines" },
        ToImageButtonOptions = new { format = "png", filename = string.IsNullOrWhiteSpace(fileName) ? "chart" : fileName, scale = 2 },
    };

    /// <summary>A line or scatter chart of <paramref name="layout"/> with axis titles.</summary>
    public static PlotlyFigure Line(ChartLayout layout, string xTitle, string yTitle)
    {
        var traces = layout.Series.Select(s => (ITrace)new Scatter
        {
            Name = s.Name,
            X = s.Points.Select(p => (object)p.X).ToList(),
            Y = s.Points.Select(p => (object)p.Y).ToList(),
            Mode = s.Line && s.Markers ? Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers
                : s.Line ? Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines : Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
            Line = new ScatterLine
            {
                Color = s.Color,
                Width = 2,
                // "hv": across at the earlier value, then up or down, for a value that holds until it changes.
                Shape = s.Step ? Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Hv : Plotly.Blazor.Traces.ScatterLib.LineLib.ShapeEnum.Linear,
            },
            Marker = new ScatterMarker { Color = s.Color, Size = 6 },
            // A marker on the domain's edge is drawn whole rather than cut in half by the plot area.
            ClipOnAxis = false,
            HoverTextArray = s.Points.Select(p => p.Label).ToList(),
            HoverInfo = Plotly.Blazor.Traces.ScatterLib.HoverInfoFlag.Text | Plotly.Blazor.Traces.ScatterLib.HoverInfoFlag.Name,
        }).ToList();
        var xAxis = Axis(layout.X, xTitle);
        if (layout.Options.LogX) xAxis.Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Log;
        return new PlotlyFigure(traces, Frame(xAxis, YAxis(layout.Y, yTitle), showLegend: layout.Series.Count > 1));
    }

    /// <summary>Grouped bars with their numbers written above them and error bars where there are errors.</summary>
    public static PlotlyFigure Bars(BarChartLayout layout, string xTitle)
    {
        var traces = layout.Series.Select(s => (ITrace)new Bar
        {
            Name = s.Name,
            X = s.Bars.Select(b => (object)b.Group).ToList(),
            Y = s.Bars.Select(b => (object)b.Value).ToList(),
            TextArray = s.Bars.Select(b => b.ValueText).ToList(),
            // Above the bar, so that a zero still shows its number on the axis; where a whisker stands above and through
            // the bar's top, at the bar's foot instead.
            TextPosition = s.Bars.Any(b => b.Error > 0) ? Plotly.Blazor.Traces.BarLib.TextPositionEnum.Inside : Plotly.Blazor.Traces.BarLib.TextPositionEnum.Outside,
            InsideTextAnchor = Plotly.Blazor.Traces.BarLib.InsideTextAnchorEnum.Start,
            Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = s.Color },
            HoverTextArray = s.Bars.Select(b => b.Label).ToList(),
            HoverInfo = Plotly.Blazor.Traces.BarLib.HoverInfoFlag.Text,
            ErrorY = s.Bars.Any(b => b.Error > 0)
                ? new Plotly.Blazor.Traces.BarLib.ErrorY
                {
                    Type = Plotly.Blazor.Traces.BarLib.ErrorYLib.TypeEnum.Data,
                    Array = s.Bars.Select(b => (object)b.Error).ToList(),
                    Color = "#455a64",
                    Visible = true,
                }
                : null,
        }).ToList();
        var xAxis = new XAxis
        {
            Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = xTitle },
            Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Category,
            // Every group in order, bars or not.
            CategoryArray = layout.Groups.Select(g => (object)g).ToList(),
            CategoryOrder = Plotly.Blazor.LayoutLib.XAxisLib.CategoryOrderEnum.Array,
            };
        return new PlotlyFigure(traces, Frame(xAxis, YAxis(layout.Y, ""), showLegend: layout.Series.Count > 1));
    }

    /// <summary>An x axis over <paramref name="axis"/>'s domain with its ticks.</summary>
    internal static XAxis Axis(ChartLayout.Axis axis, string title) => new()
    {
        Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = title },
        Range = [axis.Low, axis.High],
        AutoRange = Plotly.Blazor.LayoutLib.XAxisLib.AutoRangeEnum.False,
        TickMode = Plotly.Blazor.LayoutLib.XAxisLib.TickModeEnum.Array,
        TickVals = axis.Ticks.Select(t => (object)t.Value).ToList(),
        TickText = axis.Ticks.Select(t => (object)t.Label).ToList(),
        ZeroLine = false,
    };

    /// <summary>A y axis over <paramref name="axis"/>'s domain with its ticks.</summary>
    internal static YAxis YAxis(ChartLayout.Axis axis, string title) => new()
    {
        Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = title },
        Range = [axis.Low, axis.High],
        AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.False,
        TickMode = Plotly.Blazor.LayoutLib.YAxisLib.TickModeEnum.Array,
        TickVals = axis.Ticks.Select(t => (object)t.Value).ToList(),
        TickText = axis.Ticks.Select(t => (object)t.Label).ToList(),
        ZeroLine = false,
    };

    private static Plotly.Blazor.Layout Frame(XAxis x, YAxis y, bool showLegend) => new()
    {
        XAxis = [x],
        YAxis = [y],
        Height = Height,
        Margin = new Margin { L = 56, R = 16, T = 12, B = 44 },
        ShowLegend = showLegend,
        Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, Y = 1.02m, YAnchor = Plotly.Blazor.LayoutLib.LegendLib.YAnchorEnum.Bottom }],
        HoverMode = HoverModeEnum.Closest,
        PaperBgColor = "rgba(0,0,0,0)",
        PlotBgColor = "rgba(0,0,0,0)",
        // Kept across live updates: a view the user zoomed into stays put while points arrive.
        UiRevision = "keep",
    };
}
