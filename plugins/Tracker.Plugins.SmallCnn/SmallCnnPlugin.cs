using Tracker.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.SmallCnn;

/// <summary>
/// A small convolutional network that trains in seconds on a CPU: two conv-BN-ReLU-pool blocks, global average
/// pooling, dropout and a linear head. The baseline for tests and demos.
/// </summary>
public sealed class SmallCnnPlugin : IModelPlugin, IHasClassifierHead, IHasFeatureLayer
{
    /// <inheritdoc />
    public string Name => "small-cnn";

    /// <inheritdoc />
    public string Description =>
        "Small CNN: two conv-BN-ReLU-maxpool blocks (width, 2×width channels), global average pooling, dropout, linear head. " +
        "About 5k parameters at width 16; trains in seconds on a CPU.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Hyperparameters { get; } =
    [
        new IntParameter { Name = "width", Low = 8, High = 64, Step = 8, Default = 16, Description = "Channels of the first block (the second has twice as many)." },
        new FloatParameter { Name = "dropout", Low = 0.0, High = 0.5, Default = 0.1, Description = "Dropout before the classifier." },
    ];

    /// <inheritdoc />
    public string ClassifierPrefix => "classifier.";

    /// <inheritdoc />
    /// <remarks>
    /// The last convolution block's activation, before its pooling: Grad-CAM's usual layer, at half the input's
    /// resolution (the pooled map after it would give maps half as sharp).
    /// </remarks>
    public string FeatureLayer => "features.6";

    /// <inheritdoc />
    public nn.Module<Tensor, Tensor> Build(ModelSpec spec)
    {
        int width = spec.Parameters.TryGetValue("width", out var w) ? w.AsInt() : 16;
        double dropout = spec.Parameters.TryGetValue("dropout", out var d) ? d.AsDouble() : 0.1;
        return new SmallCnn(spec.Input.Channels, width, dropout, spec.ClassCount);
    }
}

internal sealed class SmallCnn : nn.Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public SmallCnn(int channels, int width, double dropout, int classes) : base(nameof(SmallCnn))
    {
        features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding: 1, bias: false),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding: 1, bias: false),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten());
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(2 * width, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var f = features.forward(input);
        using var d = dropout.forward(f);
        return classifier.forward(d);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            dropout.Dispose();
            classifier.Dispose();
        }
        base.Dispose(disposing);
    }
}
