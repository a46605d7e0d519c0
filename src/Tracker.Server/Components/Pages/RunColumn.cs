using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>What a column of the runs grid shows.</summary>
public enum RunColumnKind
{
    /// <summary>The run's name (a logging client's <c>mlflow.runName</c> tag).</summary>
    RunName,

    /// <summary>The experiment's model plugin.</summary>
    Model,

    /// <summary>The experiment's search strategy.</summary>
    Strategy,

    /// <summary>The experiment's data set.</summary>
    Dataset,

    /// <summary>Every parameter the runs in view have, one column each; stands for them in <see cref="RunsGridState.DefaultColumns"/>.</summary>
    SearchedParameters,

    /// <summary>A parameter, named by <see cref="RunColumn.Name"/>.</summary>
    Parameter,

    /// <summary>A final metric, named by <see cref="RunColumn.Name"/>.</summary>
    Metric,
}

/// <summary>
/// A column of the runs grid. Text form (the URL's <c>col</c>): <c>runName</c>, <c>model</c>, <c>strategy</c>,
/// <c>dataset</c>, <c>params</c>, <c>param:&lt;name&gt;</c>, <c>metric:&lt;name&gt;</c>.
/// </summary>
/// <param name="Kind">What it shows.</param>
/// <param name="Name">The parameter or metric, for <see cref="RunColumnKind.Parameter"/> and <see cref="RunColumnKind.Metric"/>; else empty.</param>
public readonly record struct RunColumn(RunColumnKind Kind, string Name = "")
{
    private const string ParamPrefix = "param:", MetricPrefix = "metric:";

    /// <summary>The run-name column.</summary>
    public static RunColumn RunName => new(RunColumnKind.RunName);

    /// <summary>The model column.</summary>
    public static RunColumn Model => new(RunColumnKind.Model);

    /// <summary>The strategy column.</summary>
    public static RunColumn Strategy => new(RunColumnKind.Strategy);

    /// <summary>The data-set column.</summary>
    public static RunColumn Dataset => new(RunColumnKind.Dataset);

    /// <summary>Stands for every parameter of the runs in view.</summary>
    public static RunColumn SearchedParameters => new(RunColumnKind.SearchedParameters);

    /// <summary>The columns that describe a run rather than measure it, in the order the picker offers them.</summary>
    public static IReadOnlyList<RunColumn> Descriptive { get; } = [RunName, Model, Strategy, Dataset];

    /// <summary>A parameter's column.</summary>
    public static RunColumn Parameter(string name) => new(RunColumnKind.Parameter, name);

    /// <summary>A final metric's column.</summary>
    public static RunColumn Metric(string name) => new(RunColumnKind.Metric, name);

    /// <summary>The store's sort key for this column, or <c>null</c> where the store cannot sort by it.</summary>
    public TrialSortField? SortField => Kind switch
    {
        RunColumnKind.Parameter => TrialSortField.Parameter(Name),
        RunColumnKind.Metric => TrialSortField.Metric(Name),
        _ => null,
    };

    /// <summary>The column of a parameter or metric sort key, or <c>null</c> for the grid's fixed columns (number, state, …).</summary>
    public static RunColumn? Of(TrialSortField field) => field.Kind switch
    {
        TrialSortKind.Parameter => Parameter(field.Name ?? ""),
        TrialSortKind.Metric => Metric(field.Name ?? ""),
        _ => null,
    };

    /// <summary>The header: the parameter's or metric's own name, or what the column is.</summary>
    public string Title => Kind switch
    {
        RunColumnKind.Parameter => $"{Name} (param)",
        RunColumnKind.Metric => Name,
        _ => Label,
    };

    /// <summary>How the column picker names the column, e.g. <c>Param: lr</c> or <c>Metric: val_f1_macro</c>.</summary>
    public string Label => Kind switch
    {
        RunColumnKind.RunName => "Run name",
        RunColumnKind.Model => "Model",
        RunColumnKind.Strategy => "Strategy",
        RunColumnKind.Dataset => "Data set",
        RunColumnKind.SearchedParameters => "Parameters",
        RunColumnKind.Parameter => $"Param: {Name}",
        _ => $"Metric: {Name}",
    };

    /// <summary>Parses the text form (keywords are case-insensitive, names are not).</summary>
    public static bool TryParse(string? text, out RunColumn column)
    {
        column = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (text.StartsWith(ParamPrefix, StringComparison.OrdinalIgnoreCase) && text.Length > ParamPrefix.Length)
            column = Parameter(text[ParamPrefix.Length..]);
        else if (text.StartsWith(MetricPrefix, StringComparison.OrdinalIgnoreCase) && text.Length > MetricPrefix.Length)
            column = Metric(text[MetricPrefix.Length..]);
        else if (text.ToLowerInvariant() switch
                 {
                     "runname" => RunName,
                     "model" => Model,
                     "strategy" => Strategy,
                     "dataset" => Dataset,
                     "params" => SearchedParameters,
                     _ => (RunColumn?)null,
                 } is { } named)
            column = named;
        else return false;
        return true;
    }

    /// <summary>The text form, which <see cref="TryParse"/> reads back.</summary>
    public override string ToString() => Kind switch
    {
        RunColumnKind.RunName => "runName",
        RunColumnKind.Model => "model",
        RunColumnKind.Strategy => "strategy",
        RunColumnKind.Dataset => "dataset",
        RunColumnKind.SearchedParameters => "params",
        RunColumnKind.Parameter => ParamPrefix + Name,
        _ => MetricPrefix + Name,
    };

    /// <summary>
    /// The cell of <paramref name="row"/>, whose experiment is <paramref name="experiment"/> (<c>null</c> when it is gone).
    /// What does not apply to a run is blank, not a default: a logged or ask/tell run has no model or data set of the
    /// server's (their specs keep the record's defaults, e.g. data set <c>shapes</c>), and a built-in trial has no run name.
    /// </summary>
    public string CellText(TrialRow row, Experiment? experiment) => Kind switch
    {
        RunColumnKind.RunName => RunRegistry.RunNameOf(row.Trial),
        RunColumnKind.Model => experiment?.Spec.Execution == TrialExecution.Builtin ? row.Model : "",
        RunColumnKind.Strategy => row.Strategy,
        RunColumnKind.Dataset => experiment?.Spec.Execution == TrialExecution.Builtin ? experiment.Spec.Dataset.Name : "",
        RunColumnKind.Parameter => row.Trial.Parameters.TryGetValue(Name, out var value) ? Format.Value(value) : "–",
        RunColumnKind.Metric => Format.Metric(row.Trial.FinalMetrics.TryGetValue(Name, out var metric) ? metric : null),
        _ => "",
    };
}
