using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Plugins.Bayesian;
using Tracker.Plugins.Grid;
using Tracker.Plugins.RandomSearch;
using Tracker.Plugins.Tpe;
using Tracker.Core.Benchmarks;

// Usage: dotnet run -c Release --project bench/Tracker.StrategyBench -- [--trials 50] [--seeds 20]
//        [--strategies random,grid,tpe,tpe-univariate,bayesian,bayesian-ucb,bayesian-mle] [--problems branin,hartmann6]
//        [--optuna results.json] [--markdown] [--detail] [--set option=value ...]
var arguments = Arguments.Parse(args);
var strategies = new List<(string Label, ISearchStrategyPlugin Plugin, Func<BenchmarkProblem, Dictionary<string, ParameterValue>> Options)>
{
    ("random", new RandomSearchPlugin(), _ => []),
    // A shuffled grid fine enough to hold the budget: the smallest points-per-dimension p (at least 3) with p^d >= trials.
    ("grid", new GridSearchPlugin(), p => new()
    {
        [GridSearchPlugin.Shuffle] = "true",
        [GridSearchPlugin.PointsPerDimension] = Math.Max(3, (int)Math.Ceiling(Math.Pow(arguments.Trials, 1.0 / p.Space.Parameters.Count) - 1e-9)),
    }),
    ("tpe", new TpePlugin(), _ => []),
    ("tpe-univariate", new TpePlugin(), _ => new() { ["multivariate"] = "false" }),
    ("bayesian", new BayesianPlugin(), _ => []),
    ("bayesian-ucb", new BayesianPlugin(), _ => new() { ["acquisition"] = "ucb" }),
    ("bayesian-mle", new BayesianPlugin(), _ => new() { ["fit"] = "mle" }),
};
var chosen = strategies.Where(s => arguments.Strategies.Contains(s.Label)).ToList();
var problems = BenchmarkProblem.All.Where(p => arguments.Problems.Contains(p.Key)).ToList();
int[] checkpoints = [.. new[] { 10, 20, 30, 50 }.Where(c => c <= arguments.Trials)];

Console.WriteLine($"{Environment.ProcessorCount} cores, {CpuModel()}; .NET {Environment.Version}; " +
    $"{arguments.Trials} trials x {arguments.Seeds} seeds (seeds 0..{arguments.Seeds - 1}), one seed at a time");
var optuna = arguments.OptunaJson is { } path ? OptunaResults.Load(path) : [];
var markdown = new StringBuilder();
foreach (var problem in problems)
{
    Console.WriteLine();
    Console.WriteLine($"{problem.Name} (minimum {problem.Minimum.ToString(CultureInfo.InvariantCulture)}): median simple regret after n trials");
    Console.WriteLine($"{"strategy",-26}" + string.Concat(checkpoints.Select(c => $"{"n=" + c,10}")) + $"{"wall s",10}");
    markdown.AppendLine($"**{problem.Name}** (minimum {problem.Minimum.ToString(CultureInfo.InvariantCulture)}), median simple regret over {arguments.Seeds} seeds:").AppendLine();
    markdown.AppendLine("| strategy | " + string.Join(" | ", checkpoints.Select(c => $"n={c}")) + " | wall s |");
    markdown.AppendLine("|---|" + string.Concat(checkpoints.Select(_ => "---:|")) + "---:|");
    foreach (var (label, plugin, options) in chosen)
    {
        var watch = Stopwatch.StartNew();
        var regrets = checkpoints.ToDictionary(c => c, _ => new List<double>());
        var seconds = new List<double>();
        for (int seed = 0; seed < arguments.Seeds; seed++)
        {
            var run = Stopwatch.StartNew();
            var best = Bench.Run(problem, plugin, options(problem), seed, arguments.Trials);
            seconds.Add(run.Elapsed.TotalSeconds);
            foreach (var c in checkpoints) regrets[c].Add(best[c - 1] - problem.Minimum);
        }
        double wall = watch.Elapsed.TotalSeconds;
        var medians = checkpoints.Select(c => StrategyBenchmark.Median(regrets[c])).ToList();
        Console.WriteLine($"{"tracker " + label,-26}" + string.Concat(medians.Select(m => $"{m,10:F4}")) + $"{wall,10:F1}");
        if (arguments.Detail)
        {
            var final = regrets[checkpoints[^1]].Order().ToList();
            Console.WriteLine($"    n={checkpoints[^1]} regret quartiles {StrategyBenchmark.Quantile(final, 0.25):G3} / {StrategyBenchmark.Quantile(final, 0.5):G3} / {StrategyBenchmark.Quantile(final, 0.75):G3}; " +
                $"seconds per study: median {StrategyBenchmark.Median(seconds):F2}, max {seconds.Max():F2} (seed {seconds.IndexOf(seconds.Max())})");
        }
        markdown.AppendLine($"| tracker {label} | " + string.Join(" | ", medians.Select(Format)) + $" | {wall.ToString("F1", CultureInfo.InvariantCulture)} |");
    }
    foreach (var row in optuna.Where(r => r.Problem == problem.Name))
    {
        var medians = checkpoints.Select(c => row.MedianRegret.TryGetValue(c.ToString(CultureInfo.InvariantCulture), out var m) ? m : double.NaN).ToList();
        Console.WriteLine($"{row.Strategy,-26}" + string.Concat(medians.Select(m => $"{m,10:F4}")) + $"{row.WallS,10:F1}");
        markdown.AppendLine($"| {row.Strategy} | " + string.Join(" | ", medians.Select(Format)) + $" | {row.WallS.ToString("F1", CultureInfo.InvariantCulture)} |");
    }
    markdown.AppendLine();
}
if (arguments.Markdown)
{
    Console.WriteLine();
    Console.Write(markdown);
}

static string Format(double value) => value.ToString(value < 0.01 ? "0.0e+0" : "F3", CultureInfo.InvariantCulture);

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
    }
    catch (IOException) { }
    catch (UnauthorizedAccessException) { }
    return "unknown CPU";
}

internal static class Bench
{
    /// <summary>Options from --set key=value, applied on top of every strategy's own (for experiments).</summary>
    public static Dictionary<string, ParameterValue> Extra { get; } = [];

    /// <summary>One study (see <see cref="StrategyBenchmark.Run"/>) with the --set options on top of <paramref name="overrides"/>.</summary>
    public static double[] Run(BenchmarkProblem problem, ISearchStrategyPlugin plugin, IReadOnlyDictionary<string, ParameterValue> overrides, int seed, int trials)
    {
        var options = new Dictionary<string, ParameterValue>(overrides);
        foreach (var (k, v) in Extra) options[k] = v;
        return StrategyBenchmark.Run(problem, plugin, options, seed, trials);
    }
}

internal sealed record Arguments(int Trials, int Seeds, HashSet<string> Strategies, HashSet<string> Problems, string? OptunaJson, bool Markdown, bool Detail = false)
{
    private Arguments Set(string assignment)
    {
        var (key, value) = (assignment[..assignment.IndexOf('=')], assignment[(assignment.IndexOf('=') + 1)..]);
        Bench.Extra[key] = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : value;
        return this;
    }

    public static Arguments Parse(string[] args)
    {
        var result = new Arguments(50, 20, ["random", "grid", "tpe", "tpe-univariate", "bayesian"], ["branin", "hartmann6"], null, false);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            result = args[i] switch
            {
                "--trials" => result with { Trials = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--seeds" => result with { Seeds = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--strategies" => result with { Strategies = [.. Value().Split(',')] },
                "--problems" => result with { Problems = [.. Value().Split(',').Select(p => p.ToLowerInvariant().Replace("-", ""))] },
                "--optuna" => result with { OptunaJson = Value() },
                "--markdown" => result with { Markdown = true },
                "--detail" => result with { Detail = true },
                "--set" => result.Set(Value()),
                var other => throw new ArgumentException($"unknown argument {other}"),
            };
        }
        return result;
    }
}

/// <summary>Rows of the JSON that bench/optuna_baseline.py --json writes.</summary>
internal sealed record OptunaResults(string Problem, string Strategy, Dictionary<string, double> MedianRegret, double WallS)
{
    public static List<OptunaResults> Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.GetProperty("results").EnumerateArray().Select(r => new OptunaResults(
            r.GetProperty("problem").GetString()!,
            r.GetProperty("strategy").GetString()!,
            r.GetProperty("median_regret").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()),
            r.GetProperty("wall_s").GetDouble()))];
    }
}
