using Tracker.Abstractions;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Models.Tests;

/// <summary>Helpers for building plugin models and measuring them the way PyTorch tools do.</summary>
internal static class Models
{
    public static readonly InputShape Rgb32 = new(3, 32, 32);
    public static readonly InputShape Grey28 = new(1, 28, 28);
    public static readonly InputShape Rgb224 = new(3, 224, 224);

    /// <summary>A spec with every declared hyperparameter at its default, except <paramref name="overrides"/>.</summary>
    public static ModelSpec Spec(IModelPlugin plugin, int classes, InputShape input, params (string Name, ParameterValue Value)[] overrides)
    {
        var values = plugin.Hyperparameters.ToDictionary(p => p.Name, p => p.Default!.Value);
        foreach (var (name, value) in overrides)
        {
            Assert.True(values.ContainsKey(name), $"'{name}' is not a hyperparameter of {plugin.Name}.");
            values[name] = value;
        }
        return new ModelSpec(classes, input, values);
    }

    /// <summary>Trainable parameters, as <c>sum(p.numel() for p in m.parameters() if p.requires_grad)</c>.</summary>
    public static long TrainableParameters(nn.Module module) =>
        module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    /// <summary>The state-dict names and shapes, without keeping the tensors.</summary>
    public static Dictionary<string, long[]> StateShapes(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    /// <summary>Same shape and exactly the same values (TorchSharp's <c>Tensor.equal</c> is element-wise).</summary>
    public static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>The one linear layer (all three models have exactly one: the classifier) with its module name.</summary>
    public static (string Name, Linear Layer) SingleLinear(nn.Module module)
    {
        var (name, layer) = Assert.Single(module.named_modules(), m => m.module is Linear);
        return (name, (Linear)layer);
    }
}
