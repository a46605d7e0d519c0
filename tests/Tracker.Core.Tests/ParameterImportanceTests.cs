using Tracker.Abstractions;
using Tracker.Core.Analysis;

namespace Tracker.Core.Tests;

public sealed class ParameterImportanceTests
{
    private static readonly SearchSpace Space = new(
    [
        new FloatParameter { Name = "x1", Low = 0, High = 1 },
        new FloatParameter { Name = "x2", Low = 0, High = 1 },
        new FloatParameter { Name = "x3", Low = 1e-3, High = 1, Log = true },
    ]);

    /// <summary>Random points of <see cref="Space"/> scored by objective = 10·x1 + 0.1·x2 (x3 plays no part).</summary>
    private static List<(IReadOnlyDictionary<string, ParameterValue>, double)> Observations(int count, int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var point = Space.Parameters.ToDictionary(p => p.Name, p => p.Sample(random));
            return ((IReadOnlyDictionary<string, ParameterValue>)point, 10 * point["x1"].AsDouble() + 0.1 * point["x2"].AsDouble());
        }).ToList();
    }

    private static double Of(ParameterImportanceResult result, string name) => result.Parameters.Single(p => p.Parameter == name).Importance;

    [Fact]
    public void Estimate_LinearObjective_FirstParameterDominatesAndTheUnusedOneIsNearZero()
    {
        var result = ParameterImportance.Estimate(Space, Observations(60), seed: 1);

        Assert.True(result.Succeeded, result.Problem);
        Assert.Equal("x1", result.Parameters[0].Parameter);
        Assert.True(Of(result, "x1") > 0.9, $"x1: {Of(result, "x1")}");
        Assert.True(Of(result, "x1") > 20 * Of(result, "x2"), $"x1: {Of(result, "x1")}, x2: {Of(result, "x2")}");
        Assert.True(Of(result, "x3") < 0.03, $"x3: {Of(result, "x3")}");
        Assert.Equal(1.0, result.Parameters.Sum(p => p.Importance), 9);
        Assert.Equal(60, result.TrialCount);
        Assert.Contains("random-forest", result.Method);
        Assert.Contains("64 trees", result.Method);
    }

    [Fact]
    public void Estimate_SameSeed_SameImportances()
    {
        var data = Observations(30);

        var first = ParameterImportance.Estimate(Space, data, seed: 5);
        var second = ParameterImportance.Estimate(Space, data, seed: 5);

        Assert.Equal(first.Parameters, second.Parameters);
    }

    [Fact]
    public void Estimate_ChoiceParameter_OnlyTheChoiceMatters()
    {
        var space = new SearchSpace(
        [
            new ChoiceParameter { Name = "optimizer", Values = ["adam", "sgd", "rmsprop"] },
            new FloatParameter { Name = "noise", Low = 0, High = 1 },
        ]);
        var random = new Random(9);
        var data = Enumerable.Range(0, 40).Select(_ =>
        {
            var point = space.Parameters.ToDictionary(p => p.Name, p => p.Sample(random));
            double y = point["optimizer"].AsString() switch { "adam" => 0.9, "sgd" => 0.5, _ => 0.7 };
            return ((IReadOnlyDictionary<string, ParameterValue>)point, y);
        }).ToList();

        var result = ParameterImportance.Estimate(space, data);

        Assert.True(Of(result, "optimizer") > 0.95, $"optimizer: {Of(result, "optimizer")}");
    }

    [Fact]
    public void Estimate_FourTrials_NotEnoughTrials()
    {
        var result = ParameterImportance.Estimate(Space, Observations(4));

        Assert.False(result.Succeeded);
        Assert.Empty(result.Parameters);
        Assert.Contains("Not enough trials", result.Problem);
        Assert.Contains("at least 5", result.Problem);
    }

    [Fact]
    public void Estimate_OneParameter_SaysItNeedsTwo()
    {
        var space = new SearchSpace([new FloatParameter { Name = "learning_rate", Low = 1e-4, High = 1, Log = true }]);
        var data = Enumerable.Range(1, 10).Select(i => ((IReadOnlyDictionary<string, ParameterValue>)new Dictionary<string, ParameterValue> { ["learning_rate"] = 1.0 / i }, (double)i)).ToList();

        var result = ParameterImportance.Estimate(space, data);

        Assert.False(result.Succeeded);
        Assert.Contains("two or more", result.Problem);
    }

    [Fact]
    public void Estimate_ConstantObjective_SaysNothingExplainsIt()
    {
        var data = Observations(10).Select(o => (o.Item1, 0.5)).ToList();

        var result = ParameterImportance.Estimate(Space, data);

        Assert.False(result.Succeeded);
        Assert.Contains("same in every", result.Problem);
    }
}
