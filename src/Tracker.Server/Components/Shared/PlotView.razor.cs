using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Logging;
using Microsoft.JSInterop;
using Plotly.Blazor;
using Plotly.Blazor.Interop;

namespace Tracker.Server.Components.Shared;

/// <summary>
/// A plotly.js chart of a <see cref="PlotlyFigure"/>. New figures are applied with plotly's <c>react</c>, which changes
/// only what differs, and a view the user zoomed into is kept (the figures' <c>uirevision</c>). When the user zooms,
/// the ticks are asked again for the new view, so that every tick label stays Tracker's own.
/// </summary>
public partial class PlotView : ComponentBase
{
    private readonly string elementId = $"plot-{Guid.NewGuid():N}";
    private PlotlyChart? chart;
    private Config config = PlotlyFigures.Config("chart");
    private bool drawn;
    private PlotlyFigure? shown;

    [Inject] private IJSRuntime JS { get; set; } = default!;

    [Inject] private ILogger<PlotView> Log { get; set; } = default!;

    /// <summary>The figure to draw.</summary>
    [Parameter, EditorRequired] public PlotlyFigure Figure { get; set; } = default!;

    /// <summary>The name of a PNG export, without extension. Defaults to "chart".</summary>
    [Parameter] public string FileName { get; set; } = "chart";

    /// <summary>The x ticks for a zoomed view (axis units), or null to keep the figure's. Defaults to null.</summary>
    [Parameter] public Func<double, double, IReadOnlyList<ChartLayout.Tick>>? XTicksWithin { get; set; }

    /// <summary>The y ticks for a zoomed view, or null to keep the figure's. Defaults to null.</summary>
    [Parameter] public Func<double, double, IReadOnlyList<ChartLayout.Tick>>? YTicksWithin { get; set; }

    /// <inheritdoc />
    protected override void OnParametersSet() => config = PlotlyFigures.Config(FileName);

    /// <inheritdoc />
    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        // The chart component draws its first figure itself; every later, different figure is applied here. A parent
        // re-renders its charts on every live event, and sending an unchanged figure again would cost a round trip each.
        if (firstRender || chart is null)
        {
            shown = Figure;
            return;
        }
        if (drawn && !ReferenceEquals(shown, Figure))
        {
            shown = Figure;
            await chart.React();
        }
    }

    private void Subscribe()
    {
        drawn = true;
        if (chart is not null && (XTicksWithin is not null || YTicksWithin is not null)) _ = chart.SubscribeRelayoutEvent();
    }

    private void OnRelayout(RelayoutEventData e) => _ = InvokeAsync(async () =>
    {
        try
        {
            await RetickAsync(e);
        }
        catch (JSDisconnectedException)
        {
            // The page went away: there is no chart left to tick.
        }
        catch (Exception ex)
        {
            // Ticks of a zoomed view are a nicety: the chart keeps its own, and the page goes on.
            Log.LogWarning(ex, "Could not update the ticks of a zoomed chart.");
        }
    });

    private async Task RetickAsync(RelayoutEventData e)
    {
        var xAxis = Figure.Layout.XAxis?.FirstOrDefault();
        var yAxis = Figure.Layout.YAxis?.FirstOrDefault();
        var update = new Dictionary<string, object>();
        // A zoom names the new range; a reset (double click) names autorange and returns to the figure's own range.
        if (XTicksWithin is not null && ViewOf(e.RawData, "xaxis", xAxis?.Range) is var (x0, x1))
        {
            var ticks = XTicksWithin(x0, x1);
            update["xaxis.tickvals"] = ticks.Select(t => t.Value).ToArray();
            update["xaxis.ticktext"] = ticks.Select(t => t.Label).ToArray();
        }
        if (YTicksWithin is not null && ViewOf(e.RawData, "yaxis", yAxis?.Range) is var (y0, y1))
        {
            var ticks = YTicksWithin(y0, y1);
            update["yaxis.tickvals"] = ticks.Select(t => t.Value).ToArray();
            update["yaxis.ticktext"] = ticks.Select(t => t.Label).ToArray();
        }
        // Through Tracker's own script: the chart component's relayout call failed here with a JSON error ("Expected
        // startObject") and changed nothing.
        if (update.Count > 0) await JS.InvokeVoidAsync("trackerCharts.retick", elementId, update);
    }

    /// <summary>The view of one axis that a relayout event sets, or null when it leaves that axis as it was.</summary>
    internal static (double Low, double High)? ViewOf(IDictionary<string, JsonElement>? raw, string axis, IList<object>? initial)
    {
        if (raw is null) return null;
        if (raw.TryGetValue($"{axis}.range[0]", out var low) && raw.TryGetValue($"{axis}.range[1]", out var high)
            && low.ValueKind == JsonValueKind.Number && high.ValueKind == JsonValueKind.Number)
        {
            return (low.GetDouble(), high.GetDouble());
        }
        if (raw.TryGetValue($"{axis}.range", out var range) && range.ValueKind == JsonValueKind.Array && range.GetArrayLength() == 2)
        {
            return (range[0].GetDouble(), range[1].GetDouble());
        }
        if (raw.ContainsKey($"{axis}.autorange") && initial is [double a, double b]) return (a, b);
        return null;
    }
}
