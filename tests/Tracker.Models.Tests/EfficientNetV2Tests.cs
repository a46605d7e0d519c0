using Tracker.Plugins.EfficientNetV2;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Models.Tests;

public sealed class EfficientNetV2Tests : ModelPluginConformance<EfficientNetV2Plugin>
{
    [Fact]
    public void ParameterCount_1000Classes_MatchesKerasTrainable()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        Assert.Equal(7_139_704, Models.TrainableParameters(model));
    }

    [Fact]
    public void BatchNormStatistics_1000Classes_AreKerasNonTrainableParameters()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        // Keras counts BN moving mean and variance as (non-trainable) parameters: 7,200,312 in all. PyTorch keeps them as buffers.
        long statistics = model.named_buffers().Where(b => b.name.EndsWith(".running_mean") || b.name.EndsWith(".running_var")).Sum(b => b.buffer.numel());

        Assert.Equal(7_200_312 - 7_139_704, statistics);
    }

    [Fact]
    public void StateDict_1000Classes_UsesTorchvisionNamesAndShapes()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        var shapes = Models.StateShapes(model);

        // 59 convolutions, 59 BNs with 5 entries each, 16 SE blocks with two biased 1×1 convolutions, and the head.
        Assert.Equal(420, shapes.Count);
        Assert.Equal([32L, 3, 3, 3], shapes["features.0.0.weight"]);
        Assert.Equal([16L, 32, 3, 3], shapes["features.1.0.block.0.0.weight"]); // fused, expansion 1: one 3×3 conv
        Assert.Equal([64L, 16, 3, 3], shapes["features.2.0.block.0.0.weight"]); // fused expansion
        Assert.Equal([32L, 64, 1, 1], shapes["features.2.0.block.1.0.weight"]); // linear projection
        Assert.Equal([192L, 48, 1, 1], shapes["features.4.0.block.0.0.weight"]); // MBConv expansion
        Assert.Equal([192L, 1, 3, 3], shapes["features.4.0.block.1.0.weight"]); // depthwise
        Assert.Equal([12L, 192, 1, 1], shapes["features.4.0.block.2.fc1.weight"]); // SE squeeze: 48 inputs × 0.25
        Assert.Equal([192L], shapes["features.4.0.block.2.fc2.bias"]);
        Assert.Equal([96L], shapes["features.4.0.block.3.1.weight"]);
        // The squeeze width follows the block's input, not its expansion: 112 → 28 in a stage's first block, 192 → 48 after.
        Assert.Equal([28L, 672, 1, 1], shapes["features.6.0.block.2.fc1.weight"]);
        Assert.Equal([48L, 1152, 1, 1], shapes["features.6.1.block.2.fc1.weight"]);
        Assert.Equal([1280L, 192, 1, 1], shapes["features.7.0.weight"]);
        Assert.Equal([1000L, 1280], shapes["classifier.1.weight"]);
    }

    [Fact]
    public void StochasticDepth_TrainingHalf_DropsWholeRowsAndScalesSurvivors()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var drop = new StochasticDepth(0.5);
        var x = ones(64, 3, 2, 2);

        drop.train();
        var y = drop.call(x);
        var rowValues = y.amin([1, 2, 3]).data<float>().ToArray().Zip(y.amax([1, 2, 3]).data<float>().ToArray()).ToList();
        drop.eval();
        var z = drop.call(x);

        Assert.All(rowValues, r => Assert.True(r is (0f, 0f) or (2f, 2f), $"row min/max {r}"));
        Assert.Contains((0f, 0f), rowValues);
        Assert.Contains((2f, 2f), rowValues);
        Assert.True(Models.Identical(z, x));
    }

    [Fact]
    public void StochasticDepth_Blocks_RiseLinearlyFromZero()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32, ("stochastic_depth", 0.42)));

        var rates = model.named_modules().Where(m => m.module is StochasticDepth)
            .OrderBy(m => BlockOrder(m.name)).Select(m => ((StochasticDepth)m.module).Probability).ToList();

        Assert.Equal(21, rates.Count);
        for (int i = 0; i < rates.Count; i++)
            Assert.Equal(0.42 * i / 21, rates[i], 12);
    }

    [Fact]
    public void Forward_EvalTwice_IsDeterministic()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32, ("stochastic_depth", 0.5)));
        model.eval();
        var x = randn(4, 3, 32, 32);

        using var _ = no_grad();
        Assert.True(Models.Identical(model.call(x), model.call(x)));
    }

    [Theory]
    [InlineData(0.5, false)]
    [InlineData(0.0, true)]
    public void Forward_TrainTwiceWithoutDropout_DiffersOnlyWithStochasticDepth(double stochasticDepth, bool equal)
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        // Dropout off, so that only drop-path can make two passes differ (BN uses the same batch statistics both times).
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32, ("stochastic_depth", stochasticDepth), ("dropout", 0.0)));
        model.train();
        var x = randn(4, 3, 32, 32);

        using var _ = no_grad();
        var first = model.call(x);
        var second = model.call(x);

        Assert.Equal(equal, first.allclose(second));
    }

    [Fact]
    public void Metadata_HeadAndFeatureLayer_AreTorchvisionNames()
    {
        Assert.Equal("efficientnetv2-b0", Plugin.Name);
        Assert.Equal("classifier.", Plugin.ClassifierPrefix);
        Assert.Equal("features.7", Plugin.FeatureLayer);
        Assert.Contains("7,139,704", Plugin.Description);
    }

    /// <summary>Orders "features.S.B.stochastic_depth" by stage, then block (named_modules is not in forward order).</summary>
    private static (int Stage, int Block) BlockOrder(string name)
    {
        var parts = name.Split('.');
        return (int.Parse(parts[1]), int.Parse(parts[2]));
    }
}
