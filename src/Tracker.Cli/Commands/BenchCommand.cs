using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Benchmarks;
using Tracker.Core.Plugins;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker bench</c>.</summary>
public sealed class BenchSettings : CommandSettings
{
    /// <summary>The strategy plugin's name.</summary>
    [CommandArgument(0, "<strategy>")]
    [Description("The strategy plugin to benchmark (e.g. random, grid, tpe, bayesian).")]
    public string Strategy { get; set; } = "";

    /// <summary>The test function.</summary>
    [CommandOption("-p|--problem <PROBLEM>")]
    [Description("The test function: branin or hartmann6.")]
    [DefaultValue("branin")]
    public string Problem { get; set; } = "branin";

    /// <summary>Trials per study.</summary>
    [CommandOption("-t|--trials <N>")]
    [Description("Trials per study.")]
    [DefaultValue(50)]
    public int Trials { get; set; } = 50;

    /// <summary>Studies, one per seed (0, 1, ...).</summary>
    [CommandOption("-s|--seeds <N>")]
    [Description("Studies to run, with seeds 0, 1, ...")]
    [DefaultValue(5)]
    public int Seeds { get; set; } = 5;

    /// <summary>The configuration whose <c>Plugins</c> section names the plugin folders.</summary>
    [CommandOption("--config <PATH>")]
    [Description("The appsettings.json whose Plugins section names the plugin folders. Defaults to the repository's.")]
    public string? Config { get; set; }

    /// <inheritdoc />
    public override ValidationResult Validate() =>
        BenchmarkProblem.Find(Problem) is null ? ValidationResult.Error($"'{Problem}' is not a test function; use {string.Join(" or ", BenchmarkProblem.All.Select(p => p.Key))}.")
        : Trials < 1 ? ValidationResult.Error("--trials must be at least 1.")
        : Seeds < 1 ? ValidationResult.Error("--seeds must be at least 1.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>tracker bench</c>: runs a strategy plugin, loaded from the plugin catalog as the server loads it, on a test
/// function once per seed (<see cref="StrategyBenchmark"/>), and prints the best value found and the regret against
/// the known minimum (median and quartiles over seeds) with the time taken.
/// </summary>
public sealed class BenchCommand(IAnsiConsole console) : Command<BenchSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken)
    {
        var problem = BenchmarkProblem.Find(settings.Problem)!;
        var location = TrackerLocation.Resolve(settings.Config);
        var options = new PluginOptions();
        location.Configuration().GetSection("Plugins").Bind(options);
        var folders = new[] { options.BuiltInFolder, options.DropInFolder }.Select(f => Path.GetFullPath(Path.Combine(location.ContentRoot, f)));
        var catalog = new PluginCatalog(folders, NullLogger.Instance);
        var plugin = catalog.FindStrategy(settings.Strategy)
            ?? throw new CliException($"There is no active strategy plugin named '{settings.Strategy}' (available: {string.Join(", ", catalog.Strategies.Select(s => s.Name).Order())}).",
                TrackerCli.InvalidInput);

        var best = new List<double>();
        var seconds = new List<double>();
        for (int seed = 0; seed < settings.Seeds; seed++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            best.Add(StrategyBenchmark.Run(problem, plugin, new Dictionary<string, Abstractions.ParameterValue>(), seed, settings.Trials)[^1]);
            seconds.Add(watch.Elapsed.TotalSeconds);
        }

        var sorted = best.Order().ToList();
        var regret = sorted.Select(b => b - problem.Minimum).ToList();
        static string S(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        static string F(double v) => v.ToString(Math.Abs(v) < 0.01 && v != 0 ? "0.000e+0" : "0.0000", CultureInfo.InvariantCulture);
        console.MarkupLine($"[bold]{Markup.Escape(problem.Name)}[/] (minimum {problem.Minimum.ToString(CultureInfo.InvariantCulture)}), " +
            $"{settings.Trials} trials × {settings.Seeds} seeds (0..{settings.Seeds - 1})");
        var table = new Table { Title = new TableTitle(Markup.Escape($"{plugin.Name} on {problem.Name}")) }
            .AddColumns(new TableColumn("over seeds"), Render.Column("q1").RightAligned(), Render.Column("median").RightAligned(), Render.Column("q3").RightAligned());
        table.AddRow(Render.Cell("best value found"), Render.Cell(F(StrategyBenchmark.Quantile(sorted, 0.25))), Render.Cell(F(StrategyBenchmark.Median(sorted))),
            Render.Cell(F(StrategyBenchmark.Quantile(sorted, 0.75))));
        table.AddRow(Render.Cell("regret (best - minimum)"), Render.Cell(F(StrategyBenchmark.Quantile(regret, 0.25))), Render.Cell(F(StrategyBenchmark.Median(regret))),
            Render.Cell(F(StrategyBenchmark.Quantile(regret, 0.75))));
        var secondsSorted = seconds.Order().ToList();
        table.AddRow(Render.Cell("seconds per study"), Render.Cell(S(StrategyBenchmark.Quantile(secondsSorted, 0.25))), Render.Cell(S(StrategyBenchmark.Median(secondsSorted))),
            Render.Cell(S(StrategyBenchmark.Quantile(secondsSorted, 0.75))));
        console.Write(table);
        console.MarkupLine($"[grey]{settings.Seeds} studies in {S(seconds.Sum())} s.[/]");
        return TrackerCli.Success;
    }
}
