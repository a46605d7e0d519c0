using System.Globalization;
using System.Text;
using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Storage;

/// <summary>
/// The trial export in its two formats, CSV and JSON, written from a store: one writer for the REST API's
/// <c>GET /api/trials/export</c> and the command line's <c>tracker export</c>, so both give the same file.
/// </summary>
public static class TrialExport
{
    /// <summary>The formats an export can be written in.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["csv", "json"];

    /// <summary>One exported trial: the columns of the CSV export, with parameters and metrics as objects.</summary>
    public sealed record Row(
        string Experiment, string ExperimentId, int Number, string Id, TrialState State,
        IReadOnlyDictionary<string, ParameterValue> Parameters, IReadOnlyDictionary<string, double> Metrics,
        double? Objective, IReadOnlyList<string> Tags, string? Notes, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
    {
        /// <summary>The export row of a query row.</summary>
        public static Row From(TrialRow row) => new(row.ExperimentName, row.Trial.ExperimentId, row.Trial.Number, row.Trial.Id,
            row.Trial.State, row.Trial.Parameters, row.Trial.FinalMetrics, row.Trial.Objective, row.Trial.Tags, row.Trial.Notes,
            row.Trial.CreatedAt, row.Trial.FinishedAt);
    }

    /// <summary>Writes every trial <paramref name="query"/> matches (ignoring its paging) as a JSON array of <see cref="Row"/>s.</summary>
    public static async Task WriteJsonAsync(Stream stream, ITrialStore store, TrialQuery query, CancellationToken cancel) =>
        // SerializeAsync flushes as its buffer fills, so rows leave while later ones are still being read.
        await JsonSerializer.SerializeAsync(stream, store.ExportTrialsAsync(query, cancel).Select(Row.From), TrackerJson.Options, cancel);

    /// <summary>
    /// Writes every trial <paramref name="query"/> matches (ignoring its paging) as RFC 4180 CSV: experiment, number, id,
    /// state, a <c>param.</c> column per searched parameter, a <c>metric.</c> column per final metric, tags, notes.
    /// </summary>
    public static async Task WriteCsvAsync(Stream stream, ITrialStore store, TrialQuery query, CancellationToken cancel)
    {
        // The header names every parameter and metric the matching trials have, so it needs one light pass first.
        var fields = await store.TrialFieldsAsync(query, cancel);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 16, leaveOpen: true);
        await writer.WriteAsync(CsvLine(["experiment", "number", "id", "state",
            .. fields.Parameters.Select(p => $"param.{p}"), .. fields.Metrics.Select(m => $"metric.{m}"), "tags", "notes"]));
        int rows = 0;
        await foreach (var row in store.ExportTrialsAsync(query, cancel))
        {
            var t = row.Trial;
            await writer.WriteAsync(CsvLine([row.ExperimentName, t.Number.ToString(CultureInfo.InvariantCulture), t.Id, Camel(t.State.ToString()),
                .. fields.Parameters.Select(p => t.Parameters.TryGetValue(p, out var v) ? v.AsString() : ""),
                .. fields.Metrics.Select(m => t.FinalMetrics.TryGetValue(m, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : ""),
                string.Join(';', t.Tags), t.Notes ?? ""]));
            if (++rows % 500 == 0) await writer.FlushAsync(cancel);
        }
        await writer.FlushAsync(cancel);
    }

    /// <summary>
    /// One CSV record as RFC 4180 writes it: fields with a comma, quote or line break quoted, quotes doubled, CRLF; each
    /// field first made safe to open in a spreadsheet (<see cref="SpreadsheetSafe"/>).
    /// </summary>
    public static string CsvLine(IEnumerable<string> fields) =>
        string.Join(',', fields.Select(SpreadsheetSafe).Select(f => f.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{f.Replace("\"", "\"\"")}\"" : f)) + "\r\n";

    /// <summary>
    /// A cell that a spreadsheet would run as a formula (one that begins with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab
    /// or a carriage return, such as a run's notes <c>=cmd|' /C calc'!A0</c>) gets a leading apostrophe, which shows it as
    /// text. Numbers (<c>-0.5</c>, <c>+1e-3</c>) are left as they are, so metric columns stay numeric.
    /// </summary>
    public static string SpreadsheetSafe(string field) =>
        field.Length > 0 && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r'
        && !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            ? "'" + field
            : field;

    private static string Camel(string name) => JsonNamingPolicy.CamelCase.ConvertName(name);
}
