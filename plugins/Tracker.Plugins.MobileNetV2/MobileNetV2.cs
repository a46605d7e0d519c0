using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.MobileNetV2;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018) laid out as torchvision's <c>mobilenet_v2</c>: <c>features.0</c> stem,
/// <c>features.1</c>–<c>features.17</c> inverted residual blocks, <c>features.18</c> 1×1 head convolution, then
/// global average pooling and <c>classifier</c> (dropout, linear). Field names are the state-dict names.
/// </summary>
internal sealed class MobileNetV2 : nn.Module<Tensor, Tensor>
{
    // (expansion t, output channels c, repeats n, first stride s): table 2 of the paper.
    private static readonly (int T, int C, int N, int S)[] Settings =
    [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ];

    private readonly Sequential features;
    private readonly Sequential classifier;

    public MobileNetV2(int inChannels, int classes, double widthMultiplier, double dropout) : base(nameof(MobileNetV2))
    {
        int input = Layers.MakeDivisible(32 * widthMultiplier);
        // The head never shrinks below 1280: torchvision's choice, which keeps the classifier's capacity at small widths.
        int last = Layers.MakeDivisible(1280 * Math.Max(1.0, widthMultiplier));

        var blocks = new List<nn.Module<Tensor, Tensor>> { Layers.ConvBNReLU6(inChannels, input, 3, stride: 2) };
        foreach (var (t, c, n, s) in Settings)
        {
            int output = Layers.MakeDivisible(c * widthMultiplier);
            for (int i = 0; i < n; i++)
            {
                blocks.Add(new InvertedResidual(input, output, i == 0 ? s : 1, t));
                input = output;
            }
        }
        blocks.Add(Layers.ConvBNReLU6(input, last, 1));
        features = nn.Sequential(blocks);
        classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, classes));
        RegisterComponents();
        Layers.Initialize(this);
    }

    /// <summary>The name of the last feature block (the 1×1 head convolution), for Grad-CAM.</summary>
    public static string FeatureLayer => $"features.{Settings.Sum(s => s.N) + 1}";

    /// <summary>The stem and every stage that starts with stride 2 halve the maps.</summary>
    private static readonly int Halvings = 1 + Settings.Count(s => s.S == 2);

    public override Tensor forward(Tensor input)
    {
        if (training) Layers.RequireSeveralValuesPerChannel(input, Halvings);
        using var f = features.call(input);
        // Global average pooling: any input size works, down to 1×1 feature maps (28×28 gives 1×1 after /32).
        using var pooled = nn.functional.adaptive_avg_pool2d(f, 1);
        using var flat = pooled.flatten(1);
        return classifier.call(flat);
    }
}

/// <summary>
/// The inverted residual block: 1×1 expansion (omitted when t = 1), 3×3 depthwise convolution, linear 1×1
/// projection, and a skip connection when shape allows. All inside <c>conv</c>, numbered as in torchvision
/// (<c>conv.0.0</c> is the first convolution, the projection's BN is the last entry).
/// </summary>
internal sealed class InvertedResidual : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv;
    private readonly bool residual;

    public InvertedResidual(int input, int output, int stride, int expansion) : base(nameof(InvertedResidual))
    {
        int hidden = input * expansion;
        residual = stride == 1 && input == output;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (expansion != 1) layers.Add(Layers.ConvBNReLU6(input, hidden, 1));
        layers.Add(Layers.ConvBNReLU6(hidden, hidden, 3, stride, groups: hidden));
        // No activation after the projection: the paper's "linear bottleneck" (ReLU would destroy information in low dimensions).
        layers.Add(nn.Conv2d(hidden, output, 1, bias: false));
        layers.Add(nn.BatchNorm2d(output));
        conv = nn.Sequential(layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (!residual) return conv.call(input);
        using var y = conv.call(input);
        return input + y;
    }
}
