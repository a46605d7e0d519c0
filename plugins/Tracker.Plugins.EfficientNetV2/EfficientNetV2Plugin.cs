using Tracker.Abstractions;
using static TorchSharp.torch;

namespace Tracker.Plugins.EfficientNetV2;

/// <summary>
/// EfficientNetV2-B0 with torchvision's EfficientNetV2 module names (<c>features.N.M.block</c>, <c>fc1</c>/<c>fc2</c>
/// in squeeze-and-excitation, <c>classifier.1</c>), so that converted reference weights load by name.
/// </summary>
public sealed class EfficientNetV2Plugin : IModelPlugin, IHasClassifierHead, IHasFeatureLayer
{
    /// <inheritdoc />
    public string Name => "efficientnetv2-b0";

    /// <inheritdoc />
    public string Description =>
        "EfficientNetV2-B0 (Tan & Le 2021), torchvision layout: fused-MBConv early stages, MBConv with " +
        "squeeze-and-excitation later, SiLU, stochastic depth, global average pooling, dropout, linear head. " +
        "7,139,704 trainable parameters at 1000 classes (as Keras EfficientNetV2B0 and timm tf_efficientnetv2_b0).";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Hyperparameters { get; } =
    [
        new FloatParameter { Name = "dropout", Low = 0.0, High = 0.5, Default = 0.2, Description = "Dropout before the classifier." },
        new FloatParameter
        {
            Name = "stochastic_depth", Low = 0.0, High = 0.5, Default = 0.2,
            Description = "Drop-path rate: residual blocks are skipped per sample in training, with a probability rising linearly from 0 at the first block towards this at the last.",
        },
    ];

    /// <inheritdoc />
    public string ClassifierPrefix => "classifier.";

    /// <inheritdoc />
    public string FeatureLayer => EfficientNetV2.FeatureLayer;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Build(ModelSpec spec)
    {
        double dropout = spec.Parameters.TryGetValue("dropout", out var d) ? d.AsDouble() : 0.2;
        double stochasticDepth = spec.Parameters.TryGetValue("stochastic_depth", out var s) ? s.AsDouble() : 0.2;
        return new EfficientNetV2(spec.Input.Channels, spec.ClassCount, dropout, stochasticDepth);
    }
}
