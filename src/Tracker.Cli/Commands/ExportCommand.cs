using System.ComponentModel;
using System.Text;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core.Storage;

namespace Tracker.Cli.Commands;

/// <summary>The options of <c>tracker export</c>.</summary>
public sealed class ExportSettings : SourceSettings
{
    /// <summary>The experiment whose runs to export; every experiment's when not given.</summary>
    [CommandOption("-e|--experiment <ID>")]
    [Description("The experiment whose runs to export. Every experiment's runs when not given.")]
    public string? Experiment { get; set; }

    /// <summary><c>csv</c> or <c>json</c>.</summary>
    [CommandOption("-f|--format <FORMAT>")]
    [Description("csv or json.")]
    [DefaultValue("csv")]
    public string Format { get; set; } = "csv";

    /// <summary>The file to write; standard output when not given.</summary>
    [CommandOption("-o|--out <FILE>")]
    [Description("The file to write. Standard output when not given.")]
    public string? Out { get; set; }

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        Format = Format.Trim().ToLowerInvariant();
        return TrialExport.Formats.Contains(Format) ? base.Validate()
            : ValidationResult.Error($"'{Format}' is not an export format; use {string.Join(" or ", TrialExport.Formats)}.");
    }
}

/// <summary><c>tracker export</c>: the runs as CSV or JSON, the same file <c>GET /api/trials/export</c> gives.</summary>
public sealed class ExportCommand(IAnsiConsole console) : AsyncCommand<ExportSettings>
{
    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        using var source = RunSource.Open(settings);
        if (settings.Experiment is { } id && await source.GetExperimentAsync(id, cancellationToken) is null)
            throw new CliException($"There is no experiment '{id}' (see `tracker experiments list`).");
        List<KeyValuePair<string, string?>> query = [new("experiment", settings.Experiment), new("sort", "number"), new("desc", "false")];
        if (settings.Out is { } path)
        {
            var full = Path.GetFullPath(path);
            await using (var file = File.Create(full))
                await source.ExportAsync(query, settings.Format, file, cancellationToken);
            // The note goes to standard error so that it never mixes with an export piped from standard output elsewhere.
            Console.Error.WriteLine($"Wrote {full}");
            return TrackerCli.Success;
        }
        // Written as it is, not through the console's renderer, which would wrap long lines at the terminal's width.
        using var buffer = new MemoryStream();
        await source.ExportAsync(query, settings.Format, buffer, cancellationToken);
        var writer = console.Profile.Out.Writer;
        await writer.WriteAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        if (settings.Format == "json") await writer.WriteLineAsync();
        await writer.FlushAsync(cancellationToken);
        return TrackerCli.Success;
    }
}
