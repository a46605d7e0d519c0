using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

/// <summary>Search spaces shared by the tests.</summary>
internal static class Spaces
{
    public static FloatParameter LearningRate(bool log = true) =>
        new() { Name = "lr", Low = 1e-4, High = 1e-1, Log = log, Default = 1e-3 };

    public static IntParameter BatchSize() => new() { Name = "batch", Low = 8, High = 64, Step = 8, Default = 32 };

    public static ChoiceParameter Optimizer() => new() { Name = "optimizer", Values = ["sgd", "adam", "adamw"], Default = "adam" };

    /// <summary>
    /// A space with every kind of parameter and a two-level condition: momentum and schedule only under sgd,
    /// gamma only under sgd with the step schedule.
    /// </summary>
    public static SearchSpace Rich() => new(
    [
        LearningRate(),
        BatchSize(),
        new IntParameter { Name = "width", Low = 1, High = 16, Log = true },
        new FloatParameter { Name = "dropout", Low = 0, High = 0.5 },
        Optimizer(),
        new FloatParameter { Name = "momentum", Low = 0.5, High = 0.99, Condition = new("optimizer", ["sgd"]) },
        new ChoiceParameter { Name = "schedule", Values = ["step", "cosine"], Condition = new("optimizer", ["sgd"]) },
        new FloatParameter { Name = "gamma", Low = 0.1, High = 0.9, Condition = new("schedule", ["step"]) },
        new ChoiceParameter { Name = "layers", Values = [1, 2, 3] },
    ]);

    public static List<Dictionary<string, ParameterValue>> Samples(SearchSpace space, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => space.Sample(random)).ToList();
    }

    public static List<double> Samples(ParameterSpec parameter, int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => parameter.Sample(random).AsDouble()).ToList();
    }
}
