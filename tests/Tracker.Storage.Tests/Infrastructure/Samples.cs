using System.Text.Json;
using System.Text.Json.Nodes;
using Tracker.Core;
using Tracker.Core.Metrics;

namespace Tracker.Storage.Tests.Infrastructure;

/// <summary>Records the conformance tests store, and comparisons for them.</summary>
public static class Samples
{
    /// <summary>A fixed instant, in UTC, with milliseconds (the precision every backend keeps).</summary>
    public static readonly DateTimeOffset T0 = new(2025, 3, 4, 5, 6, 7, 123, TimeSpan.Zero);

    /// <summary>An experiment with every kind of search-space parameter, options of both kinds and a condition.</summary>
    public static Experiment FullExperiment(string id = "exp1", DateTimeOffset? createdAt = null) => new()
    {
        Id = id,
        CreatedAt = createdAt ?? T0,
        State = ExperimentState.Running,
        Spec = new ExperimentSpec
        {
            Name = "shapes sweep",
            Model = "small-cnn",
            Strategy = "random",
            StrategyOptions = new() { ["eta"] = 3, ["mode"] = "aggressive" },
            Dataset = new DatasetSpec { Name = "shapes", Options = new() { ["classes"] = 4, ["noise"] = 0.05 } },
            SearchSpace = new SearchSpace(
            [
                new FloatParameter { Name = "learning_rate", Low = 1e-7, High = 0.5, Log = true, Default = 1e-3 },
                new IntParameter { Name = "width", Low = 8, High = 64, Step = 8, Default = 16, Description = "channels" },
                new ChoiceParameter { Name = "optimizer", Values = ["adam", "sgd"], Default = "adam" },
                new FloatParameter
                {
                    Name = "momentum_like", Low = 0.1, High = 0.9,
                    Condition = new ParameterCondition("optimizer", ["sgd"]),
                },
            ]),
            Fixed = new() { ["dropout"] = 0.25, ["batch_size"] = 64 },
            Objective = new ObjectiveSpec { Metric = MetricNames.ValLoss, Direction = ObjectiveDirection.Minimize },
            MaxTrials = 7,
            Epochs = 2,
            Seed = 42,
            MaxConcurrentTrials = 2,
        },
        ExperimentTags = new() { ["team"] = "vision" },
    };

    /// <summary>A small experiment for queries.</summary>
    public static Experiment Experiment(string id, string name = "sweep", string model = "small-cnn", string strategy = "random",
        TrialExecution execution = TrialExecution.Builtin) => new()
    {
        Id = id,
        CreatedAt = T0,
        Spec = new ExperimentSpec { Name = name, Model = model, Strategy = strategy, Execution = execution },
    };

    /// <summary>A trial with every field set, and values a lossy conversion would change.</summary>
    public static Trial FullTrial(string id, string experimentId, int number, TrialState state) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        // Digits that a lossy text conversion would drop, a tiny value and a string.
        Parameters = new() { ["learning_rate"] = 0.000123456789012345, ["width"] = 24, ["optimizer"] = "sgd", ["momentum_like"] = 1.0 / 3 },
        ResolvedParameters = new() { ["learning_rate"] = 0.000123456789012345, ["dropout"] = 0.25, ["tiny"] = 3.5e-12, ["head.drop-out"] = 0.2, ["optimizer"] = "sgd" },
        State = state,
        Epochs = 3,
        EpochsDone = 2,
        Intermediate = [new IntermediateValue(1, 0.5), new IntermediateValue(2, 0.6180339887498949)],
        Objective = state == TrialState.Completed ? 0.6180339887498949 : null,
        FinalMetrics = new() { [MetricNames.ValF1Macro] = 0.6180339887498949, [MetricNames.TrainLoss] = 1.2345678901234e-7 },
        ResumedFrom = number > 0 ? "t0" : null,
        Error = state == TrialState.Failed ? "loss became NaN at epoch 2" : null,
        Warnings = ["skipped 2 corrupt images"],
        Attempts = 2,
        CreatedAt = T0,
        StartedAt = T0.AddSeconds(1.5),
        FinishedAt = state is TrialState.Queued or TrialState.Running ? null : T0.AddMinutes(3),
        RunTags = new() { ["mlflow.runName"] = $"run {id}" },
    };

    /// <summary>A plain trial.</summary>
    public static Trial Trial(string id, string experimentId = "e1", int number = 0, TrialState state = TrialState.Completed) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        Parameters = [],
        State = state,
        Epochs = 2,
        CreatedAt = T0,
    };

    /// <summary>A point of a series.</summary>
    public static MetricPoint Point(string trialId, string key, int step, double value, DateTimeOffset? time = null) =>
        new(trialId, key, step, value, time ?? T0.AddMilliseconds(step));

    /// <summary>A classification report of two classes.</summary>
    public static EvaluationReport Report(string trial, string split, int step, int[] truth, int[] predicted) =>
        new(trial, split, step, ["cat", "dog"], ClassificationMetrics.Compute(truth, predicted, 2));

    /// <summary>
    /// Tracker's JSON of a record, with every object's properties in ordinal order: a deep comparison of records that
    /// hold dictionaries and lists, in which the order of a dictionary's keys does not count.
    /// </summary>
    public static string Json<T>(T value) => Canonical(JsonSerializer.SerializeToNode(value, TrackerJson.Options))?.ToJsonString() ?? "null";

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonical).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>Asserts that two records have the same JSON.</summary>
    public static void AssertSameRecord<T>(T expected, T? actual) where T : class
    {
        Assert.NotNull(actual);
        Assert.Equal(Json(expected), Json(actual));
    }

    /// <summary>A point as a comparable tuple (the time as UTC ticks, so that offsets do not matter).</summary>
    public static (string TrialId, string Key, int Step, double Value, long UtcTicks) Tuple(MetricPoint p) =>
        (p.TrialId, p.Key, p.Step, p.Value, p.Timestamp.UtcTicks);
}
