using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Experiments;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker compare</c>.</summary>
public sealed class CompareSettings : SourceSettings
{
    /// <summary>The experiments to compare, in the order to show them.</summary>
    [CommandArgument(0, "<experiment-id>")]
    [Description("The experiments to compare.")]
    public string[] ExperimentIds { get; set; } = [];

    /// <summary>The final metric compared.</summary>
    [CommandOption("-m|--metric <METRIC>")]
    [Description("The final metric to compare.")]
    [DefaultValue(ExperimentComparison.DefaultMetric)]
    public string Metric { get; set; } = ExperimentComparison.DefaultMetric;
}

/// <summary>
/// <c>tracker compare</c>: per experiment, the metric of its best trial (the trial the dashboard's compare page shows),
/// the median over completed trials, how many completed, and the best trial's parameters; figures from
/// <see cref="ExperimentComparison"/>.
/// </summary>
public sealed class CompareCommand(IAnsiConsole console) : AsyncCommand<CompareSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, CompareSettings settings, CancellationToken cancellationToken)
    {
        using var source = RunSource.Open(settings);
        var comparisons = new List<ExperimentComparison>();
        foreach (var id in settings.ExperimentIds.Distinct())
        {
            var summary = await source.GetExperimentAsync(id, cancellationToken)
                ?? throw new CliException($"There is no experiment '{id}' (see `tracker experiments list`).");
            comparisons.Add(ExperimentComparison.From(summary.Experiment, await source.ListTrialsAsync(id, cancellationToken), settings.Metric));
        }

        // One column per experiment, one row per figure and then per parameter, as the dashboard's parameter diff reads.
        var table = new Table().AddColumn(new TableColumn(""));
        foreach (var c in comparisons) table.AddColumn(new TableColumn(Markup.Escape(c.Experiment.Spec.Name)));
        void Row(string label, Func<ExperimentComparison, string> cell) =>
            table.AddRow([new Markup($"[bold]{Markup.Escape(label)}[/]"), .. comparisons.Select(c => Render.Cell(cell(c)))]);
        Row("id", c => c.Experiment.Id);
        Row("model / strategy", c => $"{c.Experiment.Spec.Model} / {c.Experiment.Spec.Strategy}");
        Row("completed trials", c => c.Completed.ToString(CultureInfo.InvariantCulture));
        Row("best trial", c => c.Best is { } best ? $"#{best.Number} ({best.Id})" : "–");
        Row($"best trial's {settings.Metric}", c => Render.Metric(c.BestValue));
        Row($"median {settings.Metric}", c => Render.Metric(c.Median));
        var names = comparisons.Where(c => c.Best is not null).SelectMany(c => c.Best!.Parameters.Keys).Distinct().Order(StringComparer.Ordinal);
        foreach (var name in names)
            Row(name, c => c.Best is not null && c.Best.Parameters.TryGetValue(name, out var v) ? Render.Value(v) : "–");
        console.Write(table);
        console.MarkupLine($"[grey]The best trial is the best by each experiment's objective; the median is over its completed trials that recorded {Markup.Escape(settings.Metric)}.[/]");
        return TrackerCli.Success;
    }
}
