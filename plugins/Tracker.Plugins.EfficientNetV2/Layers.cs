using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.EfficientNetV2;

/// <summary>Building blocks shaped like torchvision's, so that parameter names match its checkpoints.</summary>
internal static class Layers
{
    /// <summary>BN epsilon of the TensorFlow reference (torchvision uses it for EfficientNetV2 too); PyTorch's default is 1e-5.</summary>
    public const double BatchNormEps = 1e-3;

    /// <summary>
    /// torchvision's <c>Conv2dNormActivation</c>: a plain Sequential (conv, BN, SiLU), which is what puts the weights
    /// at <c>N.0.weight</c> (conv) and <c>N.1.weight</c> (BN). <paramref name="activation"/> false leaves the
    /// activation out, as for the linear projections.
    /// </summary>
    public static Sequential ConvBNSiLU(long inChannels, long outChannels, long kernel, long stride = 1, long groups = 1, bool activation = true)
    {
        var block = nn.Sequential(
            nn.Conv2d(inChannels, outChannels, kernel, stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
            nn.BatchNorm2d(outChannels, eps: BatchNormEps));
        return activation ? block.append(nn.SiLU()) : block;
    }

    /// <summary>
    /// Refuses a training batch in which the deepest batch-norm layers would see one value per channel. PyTorch's
    /// <c>F.batch_norm</c> raises for this; libtorch, which TorchSharp calls directly, does not, and the unbiased
    /// running variance silently becomes infinite or NaN, which ruins every later evaluation. With a batch of one
    /// that happens for inputs up to 2^<paramref name="halvings"/> px (32 px here).
    /// </summary>
    public static void RequireSeveralValuesPerChannel(Tensor input, int halvings)
    {
        long height = input.shape[2], width = input.shape[3];
        for (int i = 0; i < halvings; i++) (height, width) = ((height + 1) / 2, (width + 1) / 2); // every strided layer rounds up
        if (input.shape[0] * height * width == 1)
            throw new ArgumentException(
                $"A training batch of one {input.shape[2]}×{input.shape[3]} image leaves the last batch-norm layers a single value " +
                "per channel, which makes their running variance infinite. Train with batches of two or more (drop a last batch of one).",
                nameof(input));
    }

    /// <summary>
    /// torchvision's EfficientNet initialisation: Kaiming-normal (fan-out) convolutions, BN as identity, and a linear
    /// head uniform in ±1/√classes.
    /// </summary>
    public static void Initialize(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var module in model.modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut);
                    if (conv.bias is { } convBias) nn.init.zeros_(convBias);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight!);
                    nn.init.zeros_(bn.bias!);
                    break;
                case Linear linear:
                    double range = 1.0 / Math.Sqrt(linear.out_features);
                    nn.init.uniform_(linear.weight!, -range, range);
                    if (linear.bias is { } linearBias) nn.init.zeros_(linearBias);
                    break;
            }
        }
    }
}

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018) as torchvision's <c>SqueezeExcitation</c>: global average pool, 1×1 conv
/// <c>fc1</c> to the squeeze width, SiLU, 1×1 conv <c>fc2</c> back, sigmoid, and a channel-wise rescale.
/// </summary>
internal sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
{
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Conv2d fc1;
    private readonly Conv2d fc2;
    private readonly SiLU activation;
    private readonly Sigmoid scale_activation;

    public SqueezeExcitation(long channels, long squeeze) : base(nameof(SqueezeExcitation))
    {
        avgpool = nn.AdaptiveAvgPool2d(1);
        fc1 = nn.Conv2d(channels, squeeze, 1);
        fc2 = nn.Conv2d(squeeze, channels, 1);
        activation = nn.SiLU();
        scale_activation = nn.Sigmoid();
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var pooled = avgpool.call(input);
        using var squeezed = fc1.call(pooled);
        using var activated = activation.call(squeezed);
        using var excited = fc2.call(activated);
        using var scale = scale_activation.call(excited);
        return input * scale;
    }
}

/// <summary>
/// Stochastic depth (Huang et al. 2016) in torchvision's "row" mode: during training, each sample's residual branch
/// is dropped with probability <c>p</c> and survivors are scaled by 1/(1 − p), so that the expectation is unchanged
/// and evaluation needs no rescaling. Identity in evaluation mode.
/// </summary>
internal sealed class StochasticDepth : nn.Module<Tensor, Tensor>
{
    private readonly double p;

    public StochasticDepth(double p) : base(nameof(StochasticDepth))
    {
        if (p is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "A drop probability must lie in [0, 1].");
        this.p = p;
    }

    public double Probability => p;

    public override Tensor forward(Tensor input)
    {
        if (!training || p == 0) return input.alias();
        double survival = 1 - p;
        var shape = new long[input.dim()];
        Array.Fill(shape, 1L);
        shape[0] = input.shape[0];
        using var noise = empty(shape, input.dtype, input.device).bernoulli_(survival);
        if (survival > 0) noise.div_(survival);
        return input * noise;
    }
}
