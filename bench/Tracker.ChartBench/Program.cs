using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tracker.Server.Components.Shared;

// Usage: dotnet run -c Release --project bench/Tracker.ChartBench -- [--repeat 200]
int repeat = args.SkipWhile(a => a != "--repeat").Skip(1).Select(int.Parse).FirstOrDefault(200);
var json = new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
Console.WriteLine($"{Environment.ProcessorCount} cores; .NET {Environment.Version}; {RuntimeInfo()}");
Console.WriteLine("| points | plotly figure bytes | build ms | SVG update bytes | ratio |");
Console.WriteLine("|---:|---:|---:|---:|---:|");
foreach (int n in new[] { 50, 600, 5_000 })
{
    var points = Enumerable.Range(0, n).Select(i => ((double)i, 1.0 / (i + 1))).ToList();
    PlotlyFigure Build() => PlotlyFigures.Line(ChartLayout.Compute([new ChartSeries("val_f1", points, "#1e88e5")]), "step", "val_f1");
    Build(); // warm-up
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < repeat; i++) Build();
    double buildMs = clock.Elapsed.TotalMilliseconds / repeat;
    var figure = Build();
    int plotly = JsonSerializer.Serialize(new { data = figure.Data.Cast<object>().ToList(), layout = figure.Layout }, json).Length;
    int svg = SvgUpdateBytes(ChartLayout.Compute([new ChartSeries("val_f1", points, "#1e88e5")]));
    Console.WriteLine(FormattableString.Invariant($"| {n:N0} | {plotly:N0} | {buildMs:0.00} | {svg:N0} | {(double)plotly / svg:0.0}× |"));
}

// The hand-drawn chart's update for one new point: its polyline's "points" attribute, rewritten whole in a 600×260
// box, and one new circle with its hover title, as Blazor's diff carried them.
static int SvgUpdateBytes(ChartLayout layout)
{
    var series = layout.Series.Single();
    double Sx(double x) => 56 + (x - layout.X.Low) / (layout.X.High - layout.X.Low) * 534;
    double Sy(double y) => 230 - (y - layout.Y.Low) / (layout.Y.High - layout.Y.Low) * 220;
    string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    string polyline = string.Join(' ', series.Points.Select(p => $"{F(Sx(p.X))},{F(Sy(p.Y))}"));
    var last = series.Points[^1];
    string circle = $"<circle cx=\"{F(Sx(last.X))}\" cy=\"{F(Sy(last.Y))}\" r=\"3\" fill=\"{series.Color}\"><title>{series.Name}: {last.Label}</title></circle>";
    return polyline.Length + circle.Length;
}

static string RuntimeInfo()
{
    string model = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "" : "";
    return string.IsNullOrEmpty(model) ? Environment.OSVersion.ToString() : model;
}
