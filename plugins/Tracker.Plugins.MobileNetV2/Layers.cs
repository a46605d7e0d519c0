using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.MobileNetV2;

/// <summary>Building blocks shaped like torchvision's, so that parameter names match its checkpoints.</summary>
internal static class Layers
{
    /// <summary>
    /// torchvision's <c>Conv2dNormActivation</c> with ReLU6. It is a plain Sequential there too, which is what puts
    /// the weights at <c>N.0.weight</c> (conv) and <c>N.1.weight</c> (BN) in the state dict.
    /// </summary>
    public static Sequential ConvBNReLU6(long inChannels, long outChannels, long kernel, long stride = 1, long groups = 1) =>
        nn.Sequential(
            nn.Conv2d(inChannels, outChannels, kernel, stride, padding: (kernel - 1) / 2, groups: groups, bias: false),
            nn.BatchNorm2d(outChannels),
            nn.ReLU6());

    /// <summary>
    /// torchvision's <c>_make_divisible</c>: rounds a scaled channel count to the nearest multiple of
    /// <paramref name="divisor"/>, never going below it nor more than 10% below the unrounded value.
    /// </summary>
    public static int MakeDivisible(double value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
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
    /// torchvision's MobileNetV2 initialisation: Kaiming-normal (fan-out) convolutions, BN as identity, and a
    /// near-zero classifier so that the first logits are almost uniform.
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
                    nn.init.normal_(linear.weight!, 0, 0.01);
                    if (linear.bias is { } linearBias) nn.init.zeros_(linearBias);
                    break;
            }
        }
    }
}
