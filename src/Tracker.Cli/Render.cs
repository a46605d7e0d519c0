using Spectre.Console;
using Tracker.Abstractions;
using Tracker.Core;

namespace Tracker.Cli;

/// <summary>How the command line writes values: the dashboard's conventions (four significant digits, four decimals, a dash for none).</summary>
public static class Render
{
    /// <summary>A parameter value: numbers as the dashboard writes them (<see cref="NumberText.Number"/>), text as it is.</summary>
    public static string Value(ParameterValue value) =>
        value.Number is { } n ? NumberText.Number(n) : value.Text ?? "";

    /// <summary>Parameters as <c>name=value</c> pairs in name order.</summary>
    public static string Parameters(IReadOnlyDictionary<string, ParameterValue> parameters) =>
        parameters.Count == 0 ? "–" : string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={Value(p.Value)}"));

    /// <summary>A metric with four decimals, or a dash when there is none (or it is not finite).</summary>
    public static string Metric(double? value) => NumberText.Metric(value);

    /// <summary>A state's name as the API writes it (camelCase).</summary>
    public static string State<T>(T state) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(state.ToString());

    /// <summary>A column whose cells never wrap (ids, numbers, dates): the free-text columns give way instead.</summary>
    public static TableColumn Column(string header) => new TableColumn(header).NoWrap();

    /// <summary>A table cell of plain text (markup characters escaped).</summary>
    public static Markup Cell(string text) => new(Markup.Escape(text));

    /// <summary>The colour of a trial state.</summary>
    public static string StateMarkup(TrialState state) => state switch
    {
        TrialState.Completed => $"[green]{State(state)}[/]",
        TrialState.Failed => $"[red]{State(state)}[/]",
        TrialState.Interrupted or TrialState.Pruned => $"[yellow]{State(state)}[/]",
        _ => State(state),
    };
}
