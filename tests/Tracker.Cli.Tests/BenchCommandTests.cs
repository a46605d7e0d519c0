using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Tracker.Core;
using Tracker.Core.Benchmarks;
using Tracker.Core.Plugins;

namespace Tracker.Cli.Tests;

[Collection(CliCollection.Name)]
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_prints_the_best_values_and_regret_of_the_plugin_over_seeds()
    {
        var (code, output) = await Cli.RunAsync("bench", "random", "--problem", "branin", "--trials", "20", "--seeds", "2");

        Assert.True(code == 0, output);
        Assert.Contains("random on Branin", output);
        // The same studies through the real plugin assembly the tool loads from the catalog.
        var catalog = new PluginCatalog([Path.Combine(TrackerPaths.ContentRoot(), "artifacts", "plugins")], NullLogger.Instance);
        var plugin = catalog.FindStrategy("random")!;
        var best = Enumerable.Range(0, 2).Select(seed => StrategyBenchmark.Run(BenchmarkProblem.Branin, plugin, new Dictionary<string, Abstractions.ParameterValue>(), seed, 20)[^1]).Order().ToList();
        var median = StrategyBenchmark.Median(best);

        var bestRow = Cells(output, "best value found");
        Assert.Equal(median.ToString("0.0000", CultureInfo.InvariantCulture), bestRow[1]);
        var regretRow = Cells(output, "regret (best - minimum)");
        Assert.All(regretRow, cell => Assert.True(double.TryParse(cell, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0, cell));
        Assert.Equal(median - BenchmarkProblem.Branin.Minimum, double.Parse(regretRow[1], CultureInfo.InvariantCulture), 3);
        Assert.All(Cells(output, "seconds per study"), cell => Assert.True(double.TryParse(cell, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v), cell));
    }

    [Fact]
    public async Task Bench_of_an_unknown_strategy_exits_2_and_lists_the_loaded_ones()
    {
        var (code, output) = await Cli.RunAsync("bench", "annealing");

        Assert.Equal(2, code);
        Assert.Contains("no active strategy plugin named 'annealing'", output);
        Assert.Contains("random", output);
        Assert.Contains("tpe", output);
    }

    /// <summary>The q1, median and q3 cells of the row labelled <paramref name="label"/>.</summary>
    private static string[] Cells(string output, string label)
    {
        var line = output.Split('\n').Single(l => l.Contains($"│ {label} "));
        return line.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1..];
    }
}
