using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Storage;
using Tracker.Storage;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker db check</c>.</summary>
public sealed class DbCheckSettings : CommandSettings
{
    /// <summary>The LiteDB file to check.</summary>
    [CommandArgument(0, "[FILE]")]
    [Description("The LiteDB file to check. Defaults to data/tracker.db.")]
    public string File { get; set; } = "data/tracker.db";
}

/// <summary>
/// <c>tracker db check</c>: checks a LiteDB database without changing it: the file and its log first (what the store
/// refuses to open), then every experiment and trial record, which must read back.
/// Exit code 0 when it is sound, 1 (with the reason) when it is not.
/// </summary>
public sealed class DbCheckCommand(IAnsiConsole console) : AsyncCommand<DbCheckSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, DbCheckSettings settings, CancellationToken cancellationToken)
    {
        string path = Path.GetFullPath(settings.File);
        DatabaseFile.EnsureExists(path, "Name the LiteDB file to check (e.g. tracker db check data/tracker.db).", TrackerCli.InvalidInput);
        DatabaseFile.EnsureNotInUse(path, "Stop it first: a database in use is checked by the server that holds it when it starts.");
        try
        {
            var read = await StoreCheck.CheckLiteDbAsync(path, cancellationToken: cancellationToken);
            console.MarkupLine($"[green]ok:[/] {Markup.Escape(path)}: {read.Records:N0} records read back, {read.Experiments:N0} experiments and {read.Trials:N0} trials among them.");
            return TrackerCli.Success;
        }
        catch (StoreDamagedException damaged)
        {
            throw new CliException(damaged.Message);
        }
    }
}
