using System.ComponentModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage;

namespace Tracker.Cli;

/// <summary>The options of every command that reads runs: a database file or a running server.</summary>
public class SourceSettings : CommandSettings
{
    /// <summary>The LiteDB file to read; defaults to <c>Store:ConnectionString</c> of the configuration.</summary>
    [CommandOption("--db <PATH>")]
    [Description("The database file to read. Defaults to Store:ConnectionString of appsettings.json.")]
    public string? Database { get; set; }

    /// <summary>A running server to read through its REST API instead of a file.</summary>
    [CommandOption("--server <URL>")]
    [Description("Read a running server through its REST API instead (e.g. http://127.0.0.1:5000).")]
    public string? Server { get; set; }

    /// <summary>The configuration file whose <c>Store:ConnectionString</c> names the default database.</summary>
    [CommandOption("--config <PATH>")]
    [Description("The appsettings.json to read Store:ConnectionString from. Defaults to the repository's.")]
    public string? Config { get; set; }

    /// <inheritdoc />
    public override ValidationResult Validate() =>
        Database is not null && Server is not null ? ValidationResult.Error("Give either --db or --server, not both.")
        : Server is not null && !IsHttpUrl(Server) ? ValidationResult.Error($"--server needs an http(s) URL such as http://127.0.0.1:5000 (got '{Server}').")
        : ValidationResult.Success();

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";
}

/// <summary>
/// Where the reading commands get experiments and runs from: a database file (<see cref="StoreRunSource"/>) or a
/// running server's existing GET endpoints (<see cref="ServerRunSource"/>). Both give the same records.
/// </summary>
public interface IRunSource : IDisposable
{
    /// <summary>Every experiment with its figures, newest first.</summary>
    Task<IReadOnlyList<ExperimentSummary>> ListExperimentsAsync(CancellationToken cancel);

    /// <summary>One experiment with its figures, or <c>null</c> when there is none with that id.</summary>
    Task<ExperimentSummary?> GetExperimentAsync(string id, CancellationToken cancel);

    /// <summary>The trials of an experiment in number order.</summary>
    Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancel);

    /// <summary>Every trial a query in the text form of <see cref="TrialQueryString"/> matches, on all pages.</summary>
    Task<IReadOnlyList<TrialRow>> QueryTrialsAsync(IReadOnlyList<KeyValuePair<string, string?>> query, CancellationToken cancel);

    /// <summary>Writes the export (<see cref="TrialExport"/>) of the trials a query matches, in <paramref name="format"/>.</summary>
    Task ExportAsync(IReadOnlyList<KeyValuePair<string, string?>> query, string format, Stream output, CancellationToken cancel);
}

/// <summary>Opens the source that <see cref="SourceSettings"/> name.</summary>
public static class RunSource
{
    /// <summary>Makes the HTTP client for <c>--server</c>; replaceable so that tests can reach an in-memory server.</summary>
    internal static Func<Uri, HttpClient> CreateHttpClient { get; set; } = uri => new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Opens the server or the database file; throws a <see cref="CliException"/> that says what to do when it cannot.</summary>
    public static IRunSource Open(SourceSettings settings)
    {
        if (settings.Server is { } server) return new ServerRunSource(CreateHttpClient(new Uri(server)));
        var options = TrackerLocation.Resolve(settings.Config).Store(settings.Database);
        if (options.Provider == StoreOptions.LiteDb)
        {
            DatabaseFile.EnsureExists(options.ConnectionString);
            DatabaseFile.EnsureNotInUse(options.ConnectionString);
        }
        try
        {
            // A command runs on no synchronization context, so waiting here for the store to open blocks nothing else.
            return new StoreRunSource(StoreSelection.OpenAsync(options).GetAwaiter().GetResult());
        }
        catch (IOException e)
        {
            throw new CliException($"The database {options.ConnectionString} cannot be opened ({e.Message}). If a Tracker server is using it, read through it with --server.");
        }
    }
}

/// <summary>Reads a database file directly; the file is held (exclusively) until disposed.</summary>
public sealed class StoreRunSource(OpenStore open) : IRunSource
{
    private TrackerStores Stores => open.Stores;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ExperimentSummary>> ListExperimentsAsync(CancellationToken cancel)
    {
        var summaries = new List<ExperimentSummary>();
        foreach (var e in await Stores.Experiments.ListExperimentsAsync(cancel))
            summaries.Add(await ExperimentSummary.ReadAsync(e, Stores.Trials, cancel));
        return summaries;
    }

    /// <inheritdoc />
    public async Task<ExperimentSummary?> GetExperimentAsync(string id, CancellationToken cancel) =>
        await Stores.Experiments.GetExperimentAsync(id, cancel) is { } e ? await ExperimentSummary.ReadAsync(e, Stores.Trials, cancel) : null;

    /// <inheritdoc />
    public Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancel) =>
        Stores.Trials.ListTrialsAsync(experimentId, cancel);

    /// <inheritdoc />
    public async Task<IReadOnlyList<TrialRow>> QueryTrialsAsync(IReadOnlyList<KeyValuePair<string, string?>> query, CancellationToken cancel) =>
        await Stores.Trials.ExportTrialsAsync(Parse(query), cancel).ToListAsync(cancel);

    /// <inheritdoc />
    public Task ExportAsync(IReadOnlyList<KeyValuePair<string, string?>> query, string format, Stream output, CancellationToken cancel) =>
        format == "json" ? TrialExport.WriteJsonAsync(output, Stores.Trials, Parse(query), cancel) : TrialExport.WriteCsvAsync(output, Stores.Trials, Parse(query), cancel);

    /// <inheritdoc />
    public void Dispose() => open.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static TrialQuery Parse(IReadOnlyList<KeyValuePair<string, string?>> query)
    {
        var parse = TrialQueryString.Parse(query);
        return parse.Succeeded ? parse.Query
            : throw new CliException(string.Join(" ", parse.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")), TrackerCli.InvalidInput);
    }
}

/// <summary>Reads a running server through its GET endpoints (<c>/api/experiments</c>, <c>/api/trials</c>, <c>/api/trials/export</c>).</summary>
public sealed class ServerRunSource(HttpClient client) : IRunSource
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<ExperimentSummary>> ListExperimentsAsync(CancellationToken cancel) =>
        await GetAsync<List<ExperimentSummary>>("/api/experiments", cancel) ?? [];

    /// <inheritdoc />
    public Task<ExperimentSummary?> GetExperimentAsync(string id, CancellationToken cancel) =>
        GetAsync<ExperimentSummary>($"/api/experiments/{Uri.EscapeDataString(id)}", cancel, missingIsNull: true);

    /// <inheritdoc />
    public async Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancel) =>
        await GetAsync<List<Trial>>($"/api/experiments/{Uri.EscapeDataString(experimentId)}/trials", cancel) ?? [];

    /// <inheritdoc />
    public async Task<IReadOnlyList<TrialRow>> QueryTrialsAsync(IReadOnlyList<KeyValuePair<string, string?>> query, CancellationToken cancel)
    {
        var rows = new List<TrialRow>();
        for (int page = 0; ; page++)
        {
            var result = await GetAsync<TrialQueryResult>("/api/trials?" + QueryString([.. query,
                new("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture)), new("pageSize", TrialQuery.MaxPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture))]), cancel);
            if (result is null || result.Items.Count == 0) return rows;
            rows.AddRange(result.Items);
            if (rows.Count >= result.Total) return rows;
        }
    }

    /// <inheritdoc />
    public async Task ExportAsync(IReadOnlyList<KeyValuePair<string, string?>> query, string format, Stream output, CancellationToken cancel)
    {
        using var response = await SendAsync("/api/trials/export?" + QueryString([.. query, new("format", format)]), cancel);
        await response.Content.CopyToAsync(output, cancel);
    }

    /// <inheritdoc />
    public void Dispose() => client.Dispose();

    private async Task<T?> GetAsync<T>(string path, CancellationToken cancel, bool missingIsNull = false)
    {
        using var response = await SendAsync(path, cancel, missingIsNull);
        if (response.StatusCode == HttpStatusCode.NotFound) return default;
        return await response.Content.ReadFromJsonAsync<T>(TrackerJson.Options, cancel);
    }

    private async Task<HttpResponseMessage> SendAsync(string path, CancellationToken cancel, bool missingIsNull = false)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"The server at {client.BaseAddress} does not answer: {e.Message}");
        }
        if (response.IsSuccessStatusCode || missingIsNull && response.StatusCode == HttpStatusCode.NotFound) return response;
        using (response)
            throw new CliException($"The server answered {(int)response.StatusCode} to GET {path}: {await ProblemAsync(response, cancel)}",
                response.StatusCode == HttpStatusCode.BadRequest ? TrackerCli.InvalidInput : TrackerCli.Failure);
    }

    /// <summary>The title and detail of a problem-details answer, or its raw text.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        var text = await response.Content.ReadAsStringAsync(cancel);
        try
        {
            using var problem = JsonDocument.Parse(text);
            string Field(string name) => problem.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            return string.Join(" ", new[] { Field("title"), Field("detail") }.Where(s => s.Length > 0));
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static string QueryString(IEnumerable<KeyValuePair<string, string?>> pairs) =>
        string.Join('&', pairs.Where(p => p.Value is not null).Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value!)}"));
}
