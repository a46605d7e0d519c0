// Tracker's own calls into plotly.js, beside those Plotly.Blazor makes. Each returns nothing: plotly's promises resolve
// to the chart's element, which the interop would otherwise try to send back to the server.
window.trackerCharts = {
    // New ticks for a zoomed view, written by the server's formatter.
    retick(id, update) {
        const element = document.getElementById(id);
        if (element && window.Plotly) window.Plotly.relayout(element, update);
    },
};
