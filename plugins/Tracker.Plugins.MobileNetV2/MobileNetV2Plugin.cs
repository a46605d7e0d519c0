using Tracker.Abstractions;
using static TorchSharp.torch;

namespace Tracker.Plugins.MobileNetV2;

/// <summary>
/// MobileNetV2 with torchvision's parameter names, so that torchvision's <c>mobilenet_v2</c> weights load for
/// everything but a head of a different class count.
/// </summary>
public sealed class MobileNetV2Plugin : IModelPlugin, IHasClassifierHead, IHasFeatureLayer
{
    /// <inheritdoc />
    public string Name => "mobilenet-v2";

    /// <inheritdoc />
    public string Description =>
        "MobileNetV2 (Sandler et al. 2018), torchvision layout: inverted residual blocks with linear bottlenecks, " +
        "ReLU6, global average pooling, dropout, linear head. 3,504,872 parameters at 1000 classes and width 1.0 " +
        "(1,968,680 at width 0.5); any input of 1×1 px or more works (stride 32, global pooling).";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Hyperparameters { get; } =
    [
        new ChoiceParameter
        {
            Name = "width_multiplier", Values = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4], Default = 1.0,
            Description = "Scales every layer's channels (rounded to multiples of 8); the 1280-channel head only grows.",
        },
        new FloatParameter { Name = "dropout", Low = 0.0, High = 0.5, Default = 0.2, Description = "Dropout before the classifier." },
    ];

    /// <inheritdoc />
    public string ClassifierPrefix => "classifier.";

    /// <inheritdoc />
    public string FeatureLayer => MobileNetV2.FeatureLayer;

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Build(ModelSpec spec)
    {
        double width = spec.Parameters.TryGetValue("width_multiplier", out var w) ? w.AsDouble() : 1.0;
        double dropout = spec.Parameters.TryGetValue("dropout", out var d) ? d.AsDouble() : 0.2;
        return new MobileNetV2(spec.Input.Channels, spec.ClassCount, width, dropout);
    }
}
