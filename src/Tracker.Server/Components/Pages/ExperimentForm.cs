using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// The state behind the "new experiment" form, separate from the markup: one row per hyperparameter, prefilled
/// from what the model and trainer declare, turned into an <see cref="ExperimentSpec"/>.
/// </summary>
public sealed class ExperimentForm
{
    /// <summary>One hyperparameter: searched over a range, or fixed at a value.</summary>
    public sealed class Row(ParameterSpec declared)
    {
        /// <summary>What the plugin or trainer declared.</summary>
        public ParameterSpec Declared { get; } = declared;

        /// <summary>Search this parameter (else it is fixed at <see cref="Value"/>).</summary>
        public bool Search { get; set; }

        /// <summary>Range of a float or int.</summary>
        public double Low { get; set; } = declared switch { FloatParameter f => f.Low, IntParameter i => i.Low, _ => 0 };

        /// <summary>Range of a float or int.</summary>
        public double High { get; set; } = declared switch { FloatParameter f => f.High, IntParameter i => i.High, _ => 0 };

        /// <summary>Log scale (floats).</summary>
        public bool Log { get; set; } = declared is FloatParameter { Log: true } || declared is IntParameter { Log: true };

        /// <summary>Step of an int.</summary>
        public int Step { get; set; } = declared is IntParameter i ? i.Step : 1;

        /// <summary>Comma-separated values of a choice.</summary>
        public string Choices { get; set; } = declared is ChoiceParameter c ? string.Join(", ", c.Values) : "";

        /// <summary>The fixed value as text.</summary>
        public string Value { get; set; } = declared.Default?.ToString() ?? "";

        /// <summary>The kind shown in the form.</summary>
        public string Kind => Declared switch { FloatParameter => "float", IntParameter => "int", _ => "choice" };

        internal ParameterSpec ToSpec() => Declared switch
        {
            FloatParameter => new FloatParameter { Name = Declared.Name, Low = Low, High = High, Log = Log },
            IntParameter => new IntParameter { Name = Declared.Name, Low = (int)Low, High = (int)High, Step = Step, Log = Log },
            _ => new ChoiceParameter { Name = Declared.Name, Values = Choices.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToList() },
        };

        internal ParameterValue FixedValue() => Parse(Value);
    }

    /// <summary>Experiment name.</summary>
    public string Name { get; set; } = $"experiment {DateTime.Now:yyyy-MM-dd HH:mm}";

    /// <summary>Model plugin name.</summary>
    public string Model { get; set; } = "";

    /// <summary>Strategy plugin name.</summary>
    public string Strategy { get; set; } = "";

    /// <summary>Strategy options as text, by name (prefilled with the plugin's defaults).</summary>
    public Dictionary<string, string> StrategyOptions { get; } = [];

    /// <summary>Pruner name, or empty for none.</summary>
    public string Pruner { get; set; } = "";

    /// <summary>Pruner options as text, by name.</summary>
    public Dictionary<string, string> PrunerOptions { get; } = [];

    /// <summary>A file of the weights folder to start from, or empty.</summary>
    public string InitialWeights { get; set; } = "";

    /// <summary>Data set name.</summary>
    public string Dataset { get; set; } = "shapes";

    /// <summary>Data set options as text, by name.</summary>
    public Dictionary<string, string> DatasetOptions { get; } = [];

    /// <summary>Trial budget.</summary>
    public int MaxTrials { get; set; } = 5;

    /// <summary>Epochs per trial.</summary>
    public int Epochs { get; set; } = 3;

    /// <summary>Seed.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Concurrent trials.</summary>
    public int MaxConcurrentTrials { get; set; } = 1;

    /// <summary>Objective metric.</summary>
    public string ObjectiveMetric { get; set; } = MetricNames.ValF1Macro;

    /// <summary>Objective direction.</summary>
    public ObjectiveDirection Direction { get; set; } = ObjectiveDirection.Maximize;

    /// <summary>Hyperparameter rows.</summary>
    public List<Row> Rows { get; private set; } = [];

    /// <summary>
    /// Resets the rows to what <paramref name="hyperparameters"/> declare; the learning rate is searched by default,
    /// since it is the first thing to tune.
    /// </summary>
    public void UseHyperparameters(IEnumerable<ParameterSpec> hyperparameters) =>
        Rows = hyperparameters.Select(p => new Row(p) { Search = p.Name == "learning_rate" }).ToList();

    /// <summary>Resets the data set options to the provider's defaults.</summary>
    public void UseDatasetOptions(IEnumerable<ParameterSpec> options) => Reset(DatasetOptions, options);

    /// <summary>Resets the strategy options to the plugin's defaults.</summary>
    public void UseStrategyOptions(IEnumerable<ParameterSpec> options) => Reset(StrategyOptions, options);

    /// <summary>Resets the pruner options to the plugin's defaults.</summary>
    public void UsePrunerOptions(IEnumerable<ParameterSpec> options) => Reset(PrunerOptions, options);

    private static void Reset(Dictionary<string, string> values, IEnumerable<ParameterSpec> options)
    {
        values.Clear();
        foreach (var o in options) values[o.Name] = o.Default?.ToString() ?? "";
    }

    private static Dictionary<string, ParameterValue> Values(Dictionary<string, string> text) =>
        text.Where(o => o.Value.Trim().Length > 0).ToDictionary(o => o.Key, o => Parse(o.Value));

    /// <summary>The spec the form describes (validated by the experiment service, not here).</summary>
    public ExperimentSpec ToSpec() => new()
    {
        Name = Name.Trim(),
        Model = Model,
        Strategy = Strategy,
        StrategyOptions = Values(StrategyOptions),
        Pruner = Pruner.Length > 0 ? Pruner : null,
        PrunerOptions = Pruner.Length > 0 ? Values(PrunerOptions) : [],
        InitialWeights = InitialWeights.Length > 0 ? InitialWeights : null,
        Dataset = new DatasetSpec { Name = Dataset, Options = Values(DatasetOptions) },
        SearchSpace = new SearchSpace(Rows.Where(r => r.Search).Select(r => r.ToSpec()).ToList()),
        Fixed = Rows.Where(r => !r.Search && r.Value.Trim().Length > 0).ToDictionary(r => r.Declared.Name, r => r.FixedValue()),
        Objective = new ObjectiveSpec { Metric = ObjectiveMetric, Direction = Direction },
        MaxTrials = MaxTrials,
        Epochs = Epochs,
        Seed = Seed,
        MaxConcurrentTrials = MaxConcurrentTrials,
    };

    /// <summary>Numbers become numbers; anything else stays text.</summary>
    public static ParameterValue Parse(string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : text.Trim();
}
