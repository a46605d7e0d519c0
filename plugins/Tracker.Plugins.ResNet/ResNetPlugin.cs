using Tracker.Abstractions;
using static TorchSharp.torch;

namespace Tracker.Plugins.ResNet;

/// <summary>
/// ResNet-18 with torchvision's parameter names, so that torchvision's <c>resnet18</c> weights load for everything
/// but a head of a different class count (and, with the small stem, <c>conv1</c>).
/// </summary>
public sealed class ResNetPlugin : IModelPlugin, IHasClassifierHead, IHasFeatureLayer
{
    /// <summary>Inputs at most this many pixels high and wide get the small stem when <c>small_input</c> is <c>auto</c>.</summary>
    public const int SmallInputMaxSize = 64;

    /// <inheritdoc />
    public string Name => "resnet-18";

    /// <inheritdoc />
    public string Description =>
        "ResNet-18 (He et al. 2016), torchvision layout: four stages of two basic residual blocks (64–512 channels), " +
        "global average pooling, optional dropout, linear head. 11,689,512 parameters at 1000 classes with the " +
        "ImageNet stem; images up to 64 px get a 3×3 stride-1 stem without max-pool (CIFAR style).";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Hyperparameters { get; } =
    [
        new FloatParameter { Name = "dropout", Low = 0.0, High = 0.5, Default = 0.0, Description = "Dropout before the classifier (torchvision's ResNet has none)." },
        new ChoiceParameter
        {
            Name = "small_input", Values = ["auto", "true", "false"], Default = "auto",
            Description = $"3×3 stride-1 stem without max-pool for small images; auto uses it for inputs up to {SmallInputMaxSize} px.",
        },
    ];

    /// <inheritdoc />
    public string ClassifierPrefix => "fc.";

    /// <inheritdoc />
    public string FeatureLayer => "layer4";

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Build(ModelSpec spec)
    {
        double dropout = spec.Parameters.TryGetValue("dropout", out var d) ? d.AsDouble() : 0.0;
        string small = spec.Parameters.TryGetValue("small_input", out var s) ? s.AsString() : "auto";
        bool smallStem = small switch
        {
            "true" => true,
            "false" => false,
            "auto" => Math.Max(spec.Input.Height, spec.Input.Width) <= SmallInputMaxSize,
            _ => throw new ArgumentException($"small_input must be auto, true or false, not '{small}'.", nameof(spec)),
        };
        return new ResNet18(spec.Input.Channels, spec.ClassCount, smallStem, dropout);
    }
}
