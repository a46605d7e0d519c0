using System.Collections.Concurrent;
using Tracker.Abstractions;
using TorchSharp;

namespace Tracker.Core.Plugins;

/// <summary>
/// Trainable parameter counts of model plugins, measured by building the model once (no forward pass) and cached,
/// for the dashboard's model table. The count depends on the class count and, for some models, the input.
/// </summary>
public sealed class ModelSizes
{
    private readonly ConcurrentDictionary<(string Model, int Classes, InputShape Input), long?> cache = new();

    /// <summary>
    /// Whether the count was measured already, and then the count (<c>null</c> when building failed). Never builds a
    /// model, so a page can render at once and measure in the background.
    /// </summary>
    public bool TryGetMeasured(IModelPlugin model, int classes, InputShape input, out long? count) =>
        cache.TryGetValue((model.Name, classes, input), out count);

    /// <summary>The count with the model's default hyperparameters, or <c>null</c> when building it fails.</summary>
    public long? TrainableParameters(IModelPlugin model, int classes, InputShape input) =>
        cache.GetOrAdd((model.Name, classes, input), _ =>
        {
            try
            {
                var defaults = model.Hyperparameters.Where(p => p.Default is not null).ToDictionary(p => p.Name, p => p.Default!.Value);
                using var module = model.Build(new ModelSpec(classes, input, defaults));
                return module.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
            }
            catch (Exception)
            {
                return null;
            }
        });
}
