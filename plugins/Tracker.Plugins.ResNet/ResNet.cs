using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Plugins.ResNet;

/// <summary>
/// ResNet-18 (He et al. 2016) laid out as torchvision's <c>resnet18</c>: <c>conv1</c>, <c>bn1</c>, <c>maxpool</c>,
/// <c>layer1</c>–<c>layer4</c> of two basic blocks each, <c>avgpool</c>, <c>fc</c>. Field names are the state-dict
/// names. A dropout before <c>fc</c> is our addition; it has no parameters, so the names are unchanged.
/// </summary>
internal sealed class ResNet18 : nn.Module<Tensor, Tensor>
{
    private static readonly int[] Widths = [64, 128, 256, 512];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly nn.Module<Tensor, Tensor> maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Dropout dropout;
    private readonly Linear fc;
    private readonly int halvings;

    /// <param name="smallStem">
    /// A 3×3 stride-1 stem without max-pool (the usual CIFAR variant): the ImageNet stem divides the resolution by 4
    /// before the first block, which leaves a 32×32 image only 1×1 maps in <c>layer4</c>. Only <c>conv1.weight</c>'s
    /// kernel size differs; every name stays the same.
    /// </param>
    public ResNet18(int inChannels, int classes, bool smallStem, double dropout) : base(nameof(ResNet18))
    {
        conv1 = smallStem
            ? nn.Conv2d(inChannels, 64, 3, stride: 1, padding: 1, bias: false)
            : nn.Conv2d(inChannels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        relu = nn.ReLU();
        maxpool = smallStem ? nn.Identity() : nn.MaxPool2d(3, stride: 2, padding: 1);
        halvings = smallStem ? 3 : 5; // layer2–layer4, plus conv1 and maxpool with the ImageNet stem
        layer1 = Layer(64, Widths[0], stride: 1);
        layer2 = Layer(Widths[0], Widths[1], stride: 2);
        layer3 = Layer(Widths[1], Widths[2], stride: 2);
        layer4 = Layer(Widths[2], Widths[3], stride: 2);
        avgpool = nn.AdaptiveAvgPool2d(1);
        this.dropout = nn.Dropout(dropout);
        fc = nn.Linear(Widths[3], classes);
        RegisterComponents();
        Initialize();
    }

    private static Sequential Layer(int input, int output, int stride) =>
        nn.Sequential(new BasicBlock(input, output, stride), new BasicBlock(output, output, 1));

    /// <summary>
    /// torchvision's initialisation: Kaiming-normal (fan-out, ReLU gain) convolutions, BN as identity (already the
    /// default); <c>fc</c> keeps PyTorch's default, as in torchvision.
    /// </summary>
    private void Initialize()
    {
        using var _ = no_grad();
        foreach (var module in modules())
        {
            if (module is Conv2d conv)
                nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            else if (module is BatchNorm2d bn)
            {
                nn.init.ones_(bn.weight!);
                nn.init.zeros_(bn.bias!);
            }
        }
    }

    /// <summary>
    /// Refuses a training batch in which the deepest batch-norm layers would see one value per channel. PyTorch's
    /// <c>F.batch_norm</c> raises for this; libtorch, which TorchSharp calls directly, does not, and the unbiased
    /// running variance silently becomes infinite or NaN, which ruins every later evaluation. With a batch of one
    /// that happens for inputs up to 2^<paramref name="halvings"/> px (32 px with the ImageNet stem, 8 px with the small one).
    /// </summary>
    private static void RequireSeveralValuesPerChannel(Tensor input, int halvings)
    {
        long height = input.shape[2], width = input.shape[3];
        for (int i = 0; i < halvings; i++) (height, width) = ((height + 1) / 2, (width + 1) / 2); // every strided layer rounds up
        if (input.shape[0] * height * width == 1)
            throw new ArgumentException(
                $"A training batch of one {input.shape[2]}×{input.shape[3]} image leaves the last batch-norm layers a single value " +
                "per channel, which makes their running variance infinite. Train with batches of two or more (drop a last batch of one).",
                nameof(input));
    }

    public override Tensor forward(Tensor input)
    {
        if (training) RequireSeveralValuesPerChannel(input, halvings);
        using var scope = NewDisposeScope();
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        x = avgpool.call(x).flatten(1);
        return fc.call(dropout.call(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The basic residual block: two 3×3 conv-BN pairs and a skip connection, with a 1×1 strided conv-BN
/// <c>downsample</c> on the skip path when the shape changes (torchvision's "option B").
/// </summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(int input, int output, int stride) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(output);
        relu = nn.ReLU();
        conv2 = nn.Conv2d(output, output, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(output);
        // Null fields are not registered, so blocks without a projection have no downsample.* keys, as in torchvision.
        downsample = stride != 1 || input != output
            ? nn.Sequential(nn.Conv2d(input, output, 1, stride: stride, bias: false), nn.BatchNorm2d(output))
            : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var y = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(input)))));
        var identity = downsample is null ? input : downsample.call(input);
        return relu.call(y + identity).MoveToOuterDisposeScope();
    }
}
