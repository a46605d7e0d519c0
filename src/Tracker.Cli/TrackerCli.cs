using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Cli.Commands;

namespace Tracker.Cli;

/// <summary>The command tree of <c>tracker</c> and its exit codes.</summary>
public static class TrackerCli
{
    /// <summary>The command did what was asked (for <c>run</c>: the experiment completed).</summary>
    public const int Success = 0;

    /// <summary>The command could not do it: the experiment failed, the database is in use, the server did not answer...</summary>
    public const int Failure = 1;

    /// <summary>The input is wrong: an invalid experiment spec, an unknown strategy, conflicting options.</summary>
    public const int InvalidInput = 2;

    /// <summary>Interrupted by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    /// <summary>Runs <c>tracker</c> with <paramref name="args"/>, writing to <paramref name="console"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(IEnumerable<string> args, IAnsiConsole console, CancellationToken cancel = default) =>
        Create(console).RunAsync(args, cancel);

    /// <summary>The configured application, writing to <paramref name="console"/>.</summary>
    public static CommandApp Create(IAnsiConsole console)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("tracker");
            config.ConfigureConsole(console);
            config.CancellationExitCode(Cancelled);
            config.SetExceptionHandler((exception, _) =>
            {
                // Problems the commands foresee carry their own message and exit code; anything else is a bug worth its stack.
                if (exception is CliException known)
                {
                    console.MarkupLine($"[red]error:[/] {Markup.Escape(known.Message)}");
                    return known.ExitCode;
                }
                if (exception is CommandAppException usage)
                {
                    if (usage.Pretty is { } pretty) console.Write(pretty);
                    else console.MarkupLine($"[red]error:[/] {Markup.Escape(usage.Message)}");
                    return InvalidInput;
                }
                console.WriteException(exception, ExceptionFormats.ShortenPaths);
                return Failure;
            });

            config.AddCommand<RunCommand>("run")
                .WithDescription("Run an experiment headless, in this process, with a live progress display.")
                .WithExample("run", "spec.json")
                .WithExample("run", "spec.json", "--db", "data/headless.db");
            config.AddBranch("experiments", experiments =>
            {
                experiments.SetDescription("Experiments in a database or on a server.");
                experiments.AddCommand<ExperimentsListCommand>("list").WithDescription("List experiments with their trial counts and best objective.");
            });
            config.AddBranch("runs", runs =>
            {
                runs.SetDescription("Runs (trials) in a database or on a server.");
                runs.AddCommand<RunsListCommand>("list").WithDescription("List the runs of an experiment.")
                    .WithExample("runs", "list", "--experiment", "3f2a9c1b7d4e", "--state", "completed");
            });
            config.AddCommand<ExportCommand>("export")
                .WithDescription("Export runs as CSV or JSON, the same file the REST API's /api/trials/export gives.")
                .WithExample("export", "--experiment", "3f2a9c1b7d4e", "--format", "json", "--out", "runs.json");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Compare experiments: the best trial's F1, the median F1 and the completed trials of each.")
                .WithExample("compare", "3f2a9c1b7d4e", "9e8d7c6b5a41");
            config.AddCommand<MigrateCommand>("migrate")
                .WithDescription("Copy everything a store holds into another, empty one: e.g. a LiteDB file into a PostgreSQL database.")
                .WithExample("migrate", "--from", "data/tracker.db", "--to", "\"Host=db.example;Username=tracker;Database=tracker\"", "--to-artifacts", "/srv/tracker/artifacts");
            config.AddBranch("db", db =>
            {
                db.SetDescription("The LiteDB database file.");
                db.AddCommand<DbCheckCommand>("check").WithDescription("Check a database file without changing it: its pages, its log and every record.")
                    .WithExample("db", "check", "data/tracker.db");
                db.AddCommand<DbBackupCommand>("backup").WithDescription("Copy a database no server holds into a new file, with its artifact folder, and check the copy.")
                    .WithExample("db", "backup", "backups/tracker-2025-06-01.db")
                    .WithExample("db", "backup", "backups/tracker-2025-06-01.db", "--db", "data/tracker.db");
            });
            config.AddCommand<BenchCommand>("bench")
                .WithDescription("Benchmark a strategy plugin on a test function (Branin, Hartmann-6).")
                .WithExample("bench", "tpe", "--problem", "hartmann6", "--trials", "50", "--seeds", "5");
        });
        return app;
    }
}

/// <summary>A problem a command foresaw, with the message to show and the exit code to end with.</summary>
public sealed class CliException(string message, int exitCode = TrackerCli.Failure) : Exception(message)
{
    /// <summary>The exit code.</summary>
    public int ExitCode { get; } = exitCode;
}
