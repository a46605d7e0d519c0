using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.EfficientNetV2;

/// <summary>
/// EfficientNetV2-B0 (Tan &amp; Le 2021) in torchvision's EfficientNetV2 layout: <c>features.0</c> stem,
/// <c>features.1</c>–<c>features.6</c> stages of (Fused)MBConv blocks, <c>features.7</c> 1×1 head convolution,
/// <c>avgpool</c>, and <c>classifier</c> (dropout, linear). Field names are the state-dict names.
/// </summary>
internal sealed class EfficientNetV2 : nn.Module<Tensor, Tensor>
{
    /// <summary>One stage: block type, expansion, kernel, first stride, channels in → out, repeats, SE ratio.</summary>
    private readonly record struct Stage(bool Fused, int Expand, int Kernel, int Stride, int In, int Out, int Repeats, double SeRatio);

    // The B0 table of the reference implementation (Keras / the paper's released code); torchvision ships only
    // S/M/L, but builds them with the same blocks.
    private static readonly Stage[] Stages =
    [
        new(Fused: true, Expand: 1, Kernel: 3, Stride: 1, In: 32, Out: 16, Repeats: 1, SeRatio: 0),
        new(Fused: true, Expand: 4, Kernel: 3, Stride: 2, In: 16, Out: 32, Repeats: 2, SeRatio: 0),
        new(Fused: true, Expand: 4, Kernel: 3, Stride: 2, In: 32, Out: 48, Repeats: 2, SeRatio: 0),
        new(Fused: false, Expand: 4, Kernel: 3, Stride: 2, In: 48, Out: 96, Repeats: 3, SeRatio: 0.25),
        new(Fused: false, Expand: 6, Kernel: 3, Stride: 1, In: 96, Out: 112, Repeats: 5, SeRatio: 0.25),
        new(Fused: false, Expand: 6, Kernel: 3, Stride: 2, In: 112, Out: 192, Repeats: 8, SeRatio: 0.25),
    ];

    private const int StemChannels = 32;
    private const int HeadChannels = 1280;

    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Sequential classifier;

    public EfficientNetV2(int inChannels, int classes, double dropout, double stochasticDepth) : base(nameof(EfficientNetV2))
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { Layers.ConvBNSiLU(inChannels, StemChannels, 3, stride: 2) };
        int total = Stages.Sum(s => s.Repeats), index = 0;
        foreach (var stage in Stages)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < stage.Repeats; i++, index++)
            {
                int input = i == 0 ? stage.In : stage.Out, stride = i == 0 ? stage.Stride : 1;
                // Linear in the block's index, as torchvision and Keras: 0 for the first block, just under the
                // maximum for the last (index / total, not index / (total - 1)).
                double drop = stochasticDepth * index / total;
                blocks.Add(stage.Fused
                    ? new FusedMBConv(input, stage.Out, stage.Expand, stage.Kernel, stride, drop)
                    : new MBConv(input, stage.Out, stage.Expand, stage.Kernel, stride, stage.SeRatio, drop));
            }
            layers.Add(nn.Sequential(blocks));
        }
        layers.Add(Layers.ConvBNSiLU(Stages[^1].Out, HeadChannels, 1));
        features = nn.Sequential(layers);
        avgpool = nn.AdaptiveAvgPool2d(1);
        classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(HeadChannels, classes));
        RegisterComponents();
        Layers.Initialize(this);
    }

    /// <summary>The name of the head convolution block (the last one with spatial maps), for Grad-CAM.</summary>
    public static string FeatureLayer => $"features.{Stages.Length + 1}";

    /// <summary>The stem and every stage that starts with stride 2 halve the maps.</summary>
    private static readonly int Halvings = 1 + Stages.Count(s => s.Stride == 2);

    public override Tensor forward(Tensor input)
    {
        if (training) Layers.RequireSeveralValuesPerChannel(input, Halvings);
        using var f = features.call(input);
        // Global average pooling: any input size works (28×28 ends as 1×1 after the /32 of the strides).
        using var pooled = avgpool.call(f);
        using var flat = pooled.flatten(1);
        return classifier.call(flat);
    }
}

/// <summary>
/// The fused MBConv block of EfficientNetV2: the expansion 1×1 and the depthwise 3×3 of MBConv fused into one full
/// 3×3 convolution (faster on accelerators in the early, high-resolution stages), then a linear 1×1 projection.
/// With expansion 1 there is only the 3×3 convolution, with its activation. No SE in any B0 fused stage.
/// </summary>
internal sealed class FusedMBConv : nn.Module<Tensor, Tensor>
{
    private readonly Sequential block;
    private readonly StochasticDepth stochastic_depth;
    private readonly bool residual;

    public FusedMBConv(int input, int output, int expand, int kernel, int stride, double drop) : base(nameof(FusedMBConv))
    {
        residual = stride == 1 && input == output;
        int expanded = input * expand;
        block = expanded != input
            ? nn.Sequential(
                Layers.ConvBNSiLU(input, expanded, kernel, stride),
                Layers.ConvBNSiLU(expanded, output, 1, activation: false))
            : nn.Sequential(Layers.ConvBNSiLU(input, output, kernel, stride));
        stochastic_depth = new StochasticDepth(drop);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Residual.Apply(block, stochastic_depth, residual, input);
}

/// <summary>
/// The MBConv block (MobileNetV2's inverted residual with squeeze-and-excitation): 1×1 expansion, depthwise
/// convolution, SE, linear 1×1 projection, each in <c>block</c> in that order as in torchvision.
/// </summary>
internal sealed class MBConv : nn.Module<Tensor, Tensor>
{
    private readonly Sequential block;
    private readonly StochasticDepth stochastic_depth;
    private readonly bool residual;

    public MBConv(int input, int output, int expand, int kernel, int stride, double seRatio, double drop) : base(nameof(MBConv))
    {
        residual = stride == 1 && input == output;
        int expanded = input * expand;
        // The squeeze width follows the block's input channels, not the expanded ones: that is the reference's rule
        // (and what gives B0 its 7,139,704 parameters).
        int squeeze = Math.Max(1, (int)(input * seRatio));
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (expanded != input) layers.Add(Layers.ConvBNSiLU(input, expanded, 1));
        layers.Add(Layers.ConvBNSiLU(expanded, expanded, kernel, stride, groups: expanded));
        layers.Add(new SqueezeExcitation(expanded, squeeze));
        layers.Add(Layers.ConvBNSiLU(expanded, output, 1, activation: false));
        block = nn.Sequential(layers);
        stochastic_depth = new StochasticDepth(drop);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Residual.Apply(block, stochastic_depth, residual, input);
}

internal static class Residual
{
    /// <summary>
    /// <c>block(x)</c>, or <c>stochastic_depth(block(x)) + x</c> when the block keeps the shape: only a residual
    /// branch can be dropped, since the skip path then carries the signal.
    /// </summary>
    public static Tensor Apply(Sequential block, StochasticDepth stochasticDepth, bool residual, Tensor input)
    {
        if (!residual) return block.call(input);
        using var y = block.call(input);
        using var dropped = stochasticDepth.call(y);
        return dropped + input;
    }
}
