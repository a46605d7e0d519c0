using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Storage;
using Tracker.Storage;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker migrate</c>.</summary>
public sealed class MigrateSettings : CommandSettings
{
    /// <summary>The store to copy: a LiteDB file, or a PostgreSQL connection string.</summary>
    [CommandOption("--from <STORE>")]
    [Description("The store to copy: a LiteDB file (e.g. data/tracker.db), or a PostgreSQL connection string (\"Host=…;Database=…\").")]
    public string? From { get; set; }

    /// <summary>The empty store to copy into: a LiteDB file, or a PostgreSQL connection string.</summary>
    [CommandOption("--to <STORE>")]
    [Description("The empty store to copy into: a LiteDB file (made when missing), or a PostgreSQL connection string of an empty database.")]
    public string? To { get; set; }

    /// <summary>The source's artifact folder.</summary>
    [CommandOption("--from-artifacts <PATH>")]
    [Description("The source's artifact folder. Defaults to artifacts/ beside a LiteDB file, or data/artifacts under the current folder for PostgreSQL.")]
    public string? FromArtifacts { get; set; }

    /// <summary>The target's artifact folder.</summary>
    [CommandOption("--to-artifacts <PATH>")]
    [Description("The target's artifact folder (its Store:ArtifactRoot). Defaults to artifacts/ beside a LiteDB file, or data/artifacts under the current folder for PostgreSQL.")]
    public string? ToArtifacts { get; set; }

    /// <inheritdoc />
    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(From) ? ValidationResult.Error("Name the store to copy with --from <file or connection string>.")
        : string.IsNullOrWhiteSpace(To) ? ValidationResult.Error("Name the empty store to copy into with --to <file or connection string>.")
        : ValidationResult.Success();
}

/// <summary>
/// <c>tracker migrate</c>: copies everything one store holds (experiments, trials, series, reports, predictions, images,
/// artifact files and API keys) into another, empty one, e.g. a LiteDB file into a PostgreSQL database (<see cref="StoreCopy"/>).
/// </summary>
public sealed class MigrateCommand(IAnsiConsole console) : AsyncCommand<MigrateSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, MigrateSettings settings, CancellationToken cancellationToken)
    {
        var from = MigrationStore.Parse(settings.From!, settings.FromArtifacts, "--from");
        var to = MigrationStore.Parse(settings.To!, settings.ToArtifacts, "--to");
        if (from.Provider == to.Provider && string.Equals(from.Location, to.Location, StringComparison.Ordinal))
            throw new CliException("--from and --to name the same store; name a new, empty one with --to.", TrackerCli.InvalidInput);
        if (from.Provider == StoreOptions.LiteDb)
        {
            DatabaseFile.EnsureExists(from.Location, "Name the LiteDB file to copy with --from (e.g. --from data/tracker.db).", TrackerCli.InvalidInput);
            DatabaseFile.EnsureNotInUse(from.Location, "Stop it before migrating, so that nothing changes during the copy.");
        }
        if (to.Provider == StoreOptions.LiteDb)
            DatabaseFile.EnsureNotInUse(to.Location, "Name a new, empty file with --to.");

        console.MarkupLine($"Copying [bold]{Markup.Escape(from.Display)}[/] [grey](artifacts {Markup.Escape(from.ArtifactRoot)})[/]");
        console.MarkupLine($"     to [bold]{Markup.Escape(to.Display)}[/] [grey](artifacts {Markup.Escape(to.ArtifactRoot)})[/]");
        if (!Directory.Exists(from.ArtifactRoot))
            console.MarkupLine($"[yellow]note:[/] the source's artifact folder {Markup.Escape(from.ArtifactRoot)} does not exist, so no artifact files " +
                "will be copied; name the right one with --from-artifacts if there are any.");

        await using var source = await OpenAsync(from, "source", cancellationToken);
        await using var target = await OpenAsync(to, "target", cancellationToken);
        StoreCopyReport report;
        try
        {
            var progress = new ConsoleProgress(line => console.MarkupLine($"[grey]  {Markup.Escape(line)}[/]"));
            report = await new StoreCopy().CopyAsync(source.Stores, target.Stores, progress, cancellationToken);
        }
        catch (StoreNotEmptyException e)
        {
            throw new CliException($"{to.Display}: {e.Message}", TrackerCli.InvalidInput);
        }

        var table = new Table().AddColumns(Render.Column("copied"), Render.Column("count").RightAligned());
        void Row(string what, long count) => table.AddRow(Render.Cell(what), Render.Cell(count.ToString("N0", CultureInfo.InvariantCulture)));
        Row("experiments", report.Experiments);
        Row("trials", report.Trials);
        Row("metric series", report.Series);
        Row("metric points", report.Points);
        Row("reports", report.Reports);
        Row("prediction sets", report.Predictions);
        Row("sample images", report.SampleImages);
        Row("artifact files", report.ArtifactFiles);
        Row("artifact bytes", report.ArtifactBytes);
        if (report.ArtifactFilesInPlace > 0) Row("artifact files already in place (shared folder)", report.ArtifactFilesInPlace);
        Row("artifact records", report.ArtifactRecords);
        Row("API keys", report.ApiKeys);
        console.Write(table);
        console.MarkupLine(to.Provider == StoreOptions.Postgres
            ? $"[green]Done.[/] Start the server on it with --Store:Provider postgres --Store:ConnectionString \"…\" --Store:ArtifactRoot {Markup.Escape(to.ArtifactRoot)}"
            : $"[green]Done.[/] Start the server on it with --Store:ConnectionString {Markup.Escape(to.Location)}");
        return TrackerCli.Success;
    }

    private static async Task<OpenStore> OpenAsync(MigrationStore store, string role, CancellationToken cancellationToken)
    {
        try
        {
            return await StoreSelection.OpenAsync(new StoreOptions
            {
                Provider = store.Provider,
                ConnectionString = store.Location,
                ArtifactRoot = store.ArtifactRoot,
            }, cancellationToken);
        }
        catch (StoreInUseException e)
        {
            throw new CliException($"The {role} {e.Message}");
        }
        catch (DbException e)
        {
            throw new CliException($"The {role} database {store.Display} cannot be opened: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new CliException($"The {role} {store.Display} is not a store that can be opened: {e.Message}", TrackerCli.InvalidInput);
        }
        catch (IOException e)
        {
            throw new CliException($"The {role} {store.Display} cannot be opened: {e.Message}");
        }
    }

    /// <summary>Reports each line as it comes, on the calling thread (<see cref="Progress{T}"/> would post it to the thread pool).</summary>
    private sealed class ConsoleProgress(Action<string> write) : IProgress<string>
    {
        public void Report(string value) => write(value);
    }
}

/// <summary>One side of a migration: a LiteDB file or a PostgreSQL database, with its artifact folder.</summary>
/// <param name="Provider"><see cref="StoreOptions.LiteDb"/> or <see cref="StoreOptions.Postgres"/>.</param>
/// <param name="Location">The absolute path of the file, or the connection string.</param>
/// <param name="ArtifactRoot">The absolute artifact folder.</param>
/// <param name="Display">How to name it in messages (a connection string without its password).</param>
public sealed record MigrationStore(string Provider, string Location, string ArtifactRoot, string Display)
{
    /// <summary>
    /// Reads <c>--from</c> or <c>--to</c>: text with an <c>=</c> is a PostgreSQL connection string (its artifacts default to
    /// <c>data/artifacts</c> under the current folder), anything else a LiteDB file (artifacts beside it).
    /// </summary>
    public static MigrationStore Parse(string value, string? artifacts, string option)
    {
        value = value.Trim();
        string? root = string.IsNullOrWhiteSpace(artifacts) ? null : Path.GetFullPath(artifacts);
        if (value.Contains('='))
        {
            try
            {
                _ = new DbConnectionStringBuilder { ConnectionString = value };
            }
            catch (ArgumentException e)
            {
                throw new CliException($"{option} looks like a connection string (it has '='), but it cannot be read: {e.Message}", TrackerCli.InvalidInput);
            }
            return new MigrationStore(StoreOptions.Postgres, value, root ?? Path.GetFullPath("data/artifacts"), "PostgreSQL " + WithoutPassword(value));
        }
        string file = Path.GetFullPath(value);
        if (Directory.Exists(file))
            throw new CliException($"{option} names the folder {file}; name the LiteDB file (e.g. {Path.Combine(value, "tracker.db")}).", TrackerCli.InvalidInput);
        return new MigrationStore(StoreOptions.LiteDb, file, root ?? Path.Combine(Path.GetDirectoryName(file)!, "artifacts"), "LiteDB " + file);
    }

    /// <summary>The connection string with the value of <c>Password</c> (or <c>Pwd</c>) hidden.</summary>
    public static string WithoutPassword(string connectionString) =>
        string.Join(';', connectionString.Split(';').Select(part =>
        {
            int equals = part.IndexOf('=');
            string key = equals < 0 ? "" : part[..equals].Trim();
            return key.Equals("password", StringComparison.OrdinalIgnoreCase) || key.Equals("pwd", StringComparison.OrdinalIgnoreCase)
                ? $"{part[..equals]}=***" : part;
        }));
}
