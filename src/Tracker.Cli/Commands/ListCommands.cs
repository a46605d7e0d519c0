using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Cli.Commands;

/// <summary><c>tracker experiments list</c>: every experiment with its trial counts and best objective.</summary>
public sealed class ExperimentsListCommand(IAnsiConsole console) : AsyncCommand<SourceSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, SourceSettings settings, CancellationToken cancellationToken)
    {
        using var source = RunSource.Open(settings);
        var experiments = await source.ListExperimentsAsync(cancellationToken);
        if (experiments.Count == 0)
        {
            console.MarkupLine("[grey]No experiments.[/]");
            return TrackerCli.Success;
        }
        var table = new Table().AddColumns(Render.Column("id"), new TableColumn("name [grey](model / strategy)[/]"), Render.Column("state"),
            Render.Column("done"), Render.Column("best"), Render.Column("created"));
        foreach (var s in experiments)
        {
            var e = s.Experiment;
            table.AddRow(Render.Cell(e.Id), new Markup($"{Markup.Escape(e.Spec.Name)}\n[grey]{Markup.Escape($"{e.Spec.Model} / {e.Spec.Strategy}")}[/]"),
                Render.Cell(Render.State(e.State)), Render.Cell($"{s.TrialsByState.GetValueOrDefault(TrialState.Completed)}/{s.TrialCount}"),
                Render.Cell(Render.Metric(s.BestObjective)), Render.Cell(e.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }
        console.Write(table);
        console.MarkupLine("[grey]done: completed trials of all trials; best: the best trial's objective (see `tracker runs list`).[/]");
        return TrackerCli.Success;
    }
}

/// <summary>The options of <c>tracker runs list</c>.</summary>
public sealed class RunsListSettings : SourceSettings
{
    /// <summary>The experiment whose runs to list.</summary>
    [CommandOption("-e|--experiment <ID>")]
    [Description("The experiment whose runs to list.")]
    public string Experiment { get; set; } = "";

    /// <summary>Only runs in these states (comma-separated or repeated).</summary>
    [CommandOption("-s|--state <STATE>")]
    [Description("Only runs in this state: queued, running, completed, pruned, failed, interrupted (comma-separated or repeated).")]
    public string[] States { get; set; } = [];

    /// <inheritdoc />
    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Experiment) ? ValidationResult.Error("Name the experiment with --experiment <ID> (see `tracker experiments list`).") : base.Validate();
}

/// <summary><c>tracker runs list</c>: the runs of one experiment in number order.</summary>
public sealed class RunsListCommand(IAnsiConsole console) : AsyncCommand<RunsListSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, RunsListSettings settings, CancellationToken cancellationToken)
    {
        using var source = RunSource.Open(settings);
        if (await source.GetExperimentAsync(settings.Experiment, cancellationToken) is null)
            throw new CliException($"There is no experiment '{settings.Experiment}' (see `tracker experiments list`).");
        List<KeyValuePair<string, string?>> query = [new("experiment", settings.Experiment), new("sort", "number"), new("desc", "false"),
            .. settings.States.Select(s => new KeyValuePair<string, string?>("state", s))];
        var rows = await source.QueryTrialsAsync(query, cancellationToken);
        if (rows.Count == 0)
        {
            console.MarkupLine("[grey]No runs match.[/]");
            return TrackerCli.Success;
        }
        var table = new Table().AddColumns(Render.Column("#"), Render.Column("id"), Render.Column("state"), new TableColumn("parameters"),
            Render.Column("objective"), Render.Column("test F1"));
        foreach (var t in rows.Select(r => r.Trial))
        {
            table.AddRow(Render.Cell(t.Number.ToString(CultureInfo.InvariantCulture)), Render.Cell(t.Id), new Markup(Render.StateMarkup(t.State)),
                Render.Cell(Render.Parameters(t.Parameters)), Render.Cell(Render.Metric(t.Objective)),
                Render.Cell(Render.Metric(ExperimentComparison.MetricOf(t, ExperimentComparison.DefaultMetric))));
        }
        console.Write(table);
        console.MarkupLine($"[grey]{rows.Count} run(s).[/]");
        return TrackerCli.Success;
    }
}
