using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Abstractions;

/// <summary>The shape of one input image: channels × height × width.</summary>
/// <param name="Channels">Colour channels (1 for grey, 3 for RGB).</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Width">Width in pixels.</param>
public readonly record struct InputShape(int Channels, int Height, int Width)
{
    /// <inheritdoc />
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>What a model plugin is asked to build.</summary>
/// <param name="ClassCount">The number of output classes (logits); at least 2.</param>
/// <param name="Input">The input shape of one image.</param>
/// <param name="Parameters">
/// The trial's hyperparameters: every parameter the plugin declared in <see cref="IModelPlugin.Hyperparameters"/>
/// is present (searched or defaulted); other keys (trainer parameters such as the learning rate) may be present too.
/// </param>
public sealed record ModelSpec(int ClassCount, InputShape Input, IReadOnlyDictionary<string, ParameterValue> Parameters);

/// <summary>
/// A model plugin: describes the hyperparameters it understands and builds a TorchSharp module.
/// The trainer owns the training loop, so every model gets the same metrics, checkpoints and panels.
/// Implementations need a public parameterless constructor and must be stateless and thread-safe:
/// <see cref="Build"/> may be called concurrently for different trials.
/// </summary>
public interface IModelPlugin
{
    /// <summary>A unique, stable id used in experiment specs, e.g. <c>small-cnn</c>.</summary>
    string Name { get; }

    /// <summary>A one-paragraph description for the dashboard.</summary>
    string Description { get; }

    /// <summary>
    /// The model-specific hyperparameters, each with a <see cref="ParameterSpec.Default"/> and a sensible search
    /// range; forms prefill search spaces from these.
    /// </summary>
    IReadOnlyList<ParameterSpec> Hyperparameters { get; }

    /// <summary>
    /// Builds a fresh, randomly initialised module on the CPU that maps a batch <c>[N, C, H, W]</c> (float32) to
    /// logits <c>[N, ClassCount]</c>. The caller moves it to its device and disposes it.
    /// </summary>
    nn.Module<Tensor, Tensor> Build(ModelSpec spec);
}
