using Tracker.Storage;
using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Abstractions;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker run</c>.</summary>
public sealed class RunSettings : CommandSettings
{
    /// <summary>The experiment spec: the JSON <c>POST /api/experiments</c> takes.</summary>
    [CommandArgument(0, "<spec.json>")]
    [Description("The experiment spec: the same JSON POST /api/experiments takes.")]
    public string Spec { get; set; } = "";

    /// <summary>The database to record the experiment in; defaults to <c>Store:ConnectionString</c>.</summary>
    [CommandOption("--db <PATH>")]
    [Description("The database file to record the experiment in. Defaults to Store:ConnectionString of appsettings.json.")]
    public string? Database { get; set; }

    /// <summary>The configuration (store, plugins, data sets, runner) to run with.</summary>
    [CommandOption("--config <PATH>")]
    [Description("The appsettings.json to run with (store, plugins, data sets, runner). Defaults to the repository's.")]
    public string? Config { get; set; }
}

/// <summary>
/// <c>tracker run</c>: runs one experiment headless in this process, on the engine the server uses (a generic host
/// with <see cref="CoreServiceCollectionExtensions.AddTrackerCore"/>), with a live progress display fed by the
/// <see cref="MetricFeed"/>, and ends with a table of its trials. Exit code 0 when the experiment completed, 1 when it
/// failed, 2 when the spec is invalid, 130 when Ctrl+C cancelled it (its running trials end Interrupted).
/// </summary>
/// <remarks>
/// The runner runs every experiment the database has in the running state, as the server does when it starts: other
/// experiments left running in the same file resume beside this one.
/// </remarks>
public sealed class RunCommand(IAnsiConsole console) : AsyncCommand<RunSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        var spec = ReadSpec(settings.Spec);
        var location = TrackerLocation.Resolve(settings.Config);
        DatabaseFile.EnsureNotInUse(location.DatabasePath(settings.Database));

        using var host = BuildHost(location, settings.Database);
        try
        {
            await host.StartAsync(CancellationToken.None);
        }
        catch (OptionsValidationException e)
        {
            throw new CliException($"The configuration {location.ConfigFile} is invalid: {string.Join(" ", e.Failures)}", TrackerCli.InvalidInput);
        }
        var services = host.Services;
        var stores = services.GetRequiredService<TrackerStores>();
        var store = stores.Trials;
        var experiments = services.GetRequiredService<ExperimentService>();

        var errors = experiments.Validate(spec);
        if (errors.Count > 0)
        {
            await host.StopAsync(CancellationToken.None);
            PrintErrors(settings.Spec, errors);
            return TrackerCli.InvalidInput;
        }

        // Subscribed before the experiment exists, so that no event of it can be missed; the handler only queues.
        var events = Channel.CreateUnbounded<FeedEvent>(new UnboundedChannelOptions { SingleReader = true });
        using var subscription = services.GetRequiredService<MetricFeed>().Subscribe(e => events.Writer.TryWrite(e));
        var experiment = (await experiments.CreateAsync(spec, CancellationToken.None)).Experiment!;
        var options = services.GetRequiredService<IOptions<StoreOptions>>().Value;
        string where = options.Provider == StoreOptions.LiteDb ? options.ConnectionString : "PostgreSQL";
        console.MarkupLine($"Experiment [bold]{Markup.Escape(experiment.Spec.Name)}[/] ({experiment.Id}) in {Markup.Escape(where)}");

        bool interrupted = false;
        try
        {
            await console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(ctx => Follow(ctx, experiment, stores.Experiments, events.Reader, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            interrupted = true;
            console.MarkupLine("[yellow]Interrupted: cancelling the experiment and its running trials...[/]");
            await experiments.CancelAsync(experiment.Id, CancellationToken.None);
            // Running trials stop at their next batch and record why; stopping the host before that would record a shutdown instead.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await store.ListTrialsAsync(experiment.Id, CancellationToken.None)).Any(t => !t.IsFinished) && DateTime.UtcNow < deadline)
                await Task.Delay(100, CancellationToken.None);
        }
        // Stopping the host waits for the runner, and so for every trial to record its end.
        await host.StopAsync(CancellationToken.None);

        var final = (await stores.Experiments.GetExperimentAsync(experiment.Id, CancellationToken.None))!;
        PrintTrials(final, await store.ListTrialsAsync(experiment.Id, CancellationToken.None));
        console.MarkupLine($"Experiment {Render.State(final.State)}{(final.Message is { } m ? $": {Markup.Escape(m)}" : "")}");
        return interrupted ? TrackerCli.Cancelled
            : final.State == ExperimentState.Completed ? TrackerCli.Success
            : TrackerCli.Failure;
    }

    private static ExperimentSpec ReadSpec(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot read the spec {path}: {e.Message}", TrackerCli.InvalidInput);
        }
        try
        {
            return JsonSerializer.Deserialize<ExperimentSpec>(text, TrackerJson.Options)
                ?? throw new CliException($"The spec {path} is empty (null); it must be an experiment spec object.", TrackerCli.InvalidInput);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException) // the latter: a value without its "type"
        {
            throw new CliException($"The spec {path} is not a valid experiment spec: {e.Message}", TrackerCli.InvalidInput);
        }
    }

    private static IHost BuildHost(TrackerLocation location, string? database)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = location.ContentRoot,
            Args = [],
            // Only the files and variables named below: not appsettings.json of whatever folder this runs in.
            DisableDefaults = true,
        });
        builder.Configuration.AddJsonFile(location.ConfigFile, optional: true).AddEnvironmentVariables();
        if (database is not null)
            builder.Configuration.AddInMemoryCollection([new("Store:ConnectionString", Path.GetFullPath(database))]);
        // The progress display owns the terminal; what went wrong with a trial is in the table at the end.
        builder.Logging.ClearProviders();
        builder.AddTrackerCore();
        builder.AddTrackerStore();
        builder.Services.AddSingleton<IHostLifetime, HeadlessLifetime>();
        return builder.Build();
    }

    /// <summary>Follows the experiment's events on the progress display until it ends; returns its final state.</summary>
    private static async Task<ExperimentState> Follow(ProgressContext ctx, Experiment experiment, IExperimentStore store, ChannelReader<FeedEvent> events, CancellationToken cancel)
    {
        var spec = experiment.Spec;
        var trialsTask = ctx.AddTask("Trials", maxValue: spec.MaxTrials);
        var epochsTask = ctx.AddTask("Epochs (waiting for a trial)", maxValue: spec.Epochs);
        var trials = new Dictionary<string, Trial>();
        string? current = null;
        while (true)
        {
            FeedEvent? e = null;
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                // Events drive the display; a look at the store every second is a safety net that never lets it wait forever.
                tick.CancelAfter(TimeSpan.FromSeconds(1));
                try { e = await events.ReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested) { }
            }
            cancel.ThrowIfCancellationRequested();

            if (e is TrialChanged { Trial: var trial } && trial.ExperimentId == experiment.Id)
            {
                trials[trial.Id] = trial;
                if (!trial.IsFinished || current is null) current = trial.Id;
                var shown = trials[current];
                epochsTask.Description = Markup.Escape($"Trial #{shown.Number} epochs ({Render.State(shown.State)})");
                epochsTask.MaxValue = Math.Max(1, shown.Epochs);
                epochsTask.Value = shown.EpochsDone;
                trialsTask.Value = trials.Values.Count(t => t.IsFinished);
                var best = ExperimentSummary.Best(spec.Objective.Direction, trials.Values);
                trialsTask.Description = Markup.Escape(best is null ? "Trials"
                    : $"Trials (best {spec.Objective.Metric} {Render.Metric(best.Objective)}, #{best.Number})");
            }

            var state = e is ExperimentChanged { Experiment: var changed } && changed.Id == experiment.Id ? changed.State
                : e is null ? (await store.GetExperimentAsync(experiment.Id, CancellationToken.None))?.State ?? ExperimentState.Failed
                : ExperimentState.Running;
            if (state is ExperimentState.Completed or ExperimentState.Failed or ExperimentState.Cancelled)
            {
                // A search may end before its budget (a grid runs out of points): the bar shows what ran.
                trialsTask.MaxValue = Math.Max(1, trialsTask.Value);
                trialsTask.StopTask();
                epochsTask.StopTask();
                return state;
            }
        }
    }

    private void PrintErrors(string path, IReadOnlyDictionary<string, string[]> errors)
    {
        console.MarkupLine($"[red]The experiment spec {Markup.Escape(path)} is invalid:[/]");
        var table = new Table().AddColumns("field", "problem");
        foreach (var (field, messages) in errors.OrderBy(e => e.Key, StringComparer.Ordinal))
            foreach (var message in messages)
                table.AddRow(Render.Cell(field), Render.Cell(message));
        console.Write(table);
    }

    private void PrintTrials(Experiment experiment, IReadOnlyList<Trial> trials)
    {
        var table = new Table().AddColumns(Render.Column("#"), new TableColumn("parameters"), Render.Column("state"),
            Render.Column($"objective ({experiment.Spec.Objective.Metric})"), Render.Column("test F1"));
        foreach (var t in trials)
            table.AddRow(Render.Cell(t.Number.ToString(CultureInfo.InvariantCulture)), Render.Cell(Render.Parameters(t.Parameters)),
                new Markup(Render.StateMarkup(t.State)), Render.Cell(Render.Metric(t.Objective)),
                Render.Cell(Render.Metric(ExperimentComparison.MetricOf(t, ExperimentComparison.DefaultMetric))));
        console.Write(table);
        foreach (var t in trials.Where(t => t.Error is not null))
            console.MarkupLine($"[grey]#{t.Number}: {Markup.Escape(t.Error!)}[/]");
    }

    /// <summary>
    /// A host lifetime that leaves Ctrl+C to the command: the console lifetime would stop the host at once, while the
    /// command first cancels its experiment so that the trials are recorded as interrupted.
    /// </summary>
    private sealed class HeadlessLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
