using Tracker.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Models.Tests;

/// <summary>
/// What every image-classifier plugin with a named head and feature layer must do, whatever its architecture.
/// Each model's test class inherits the whole suite. Models are built with 10 classes unless a test needs more.
/// </summary>
public abstract class ModelPluginConformance<TPlugin> where TPlugin : IModelPlugin, IHasClassifierHead, IHasFeatureLayer, new()
{
    protected const int Classes = 10;

    protected TPlugin Plugin { get; } = new();

    [Fact]
    public void Hyperparameters_Defaults_FormAValidSpace()
    {
        Assert.NotEmpty(Plugin.Hyperparameters);
        Assert.All(Plugin.Hyperparameters, p => Assert.NotNull(p.Default));
        Assert.Empty(new SearchSpace(Plugin.Hyperparameters).Validate());
    }

    [Theory]
    [InlineData(3, 32, 32)]
    [InlineData(1, 28, 28)]
    public void Forward_EvalMode_GivesOneFiniteLogitPerClass(int channels, int height, int width)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, new InputShape(channels, height, width)));
        model.eval();

        using var _ = no_grad();
        var logits = model.call(randn(2, channels, height, width));

        Assert.Equal([2L, Classes], logits.shape);
        Assert.True(isfinite(logits).all().item<bool>());
    }

    [Fact]
    public void TrainStep_RandomBatch_ChangesStemAndHeadWithFiniteLoss()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32));
        model.train();
        var parameters = model.named_parameters().ToList();
        // The first parameter is the stem convolution and the last the head: if both move, gradients reached both ends.
        var (stemName, stem) = parameters[0];
        var (headName, head) = parameters[^2];
        Assert.EndsWith(".weight", stemName);
        Assert.Equal(3, stem.shape[1]); // the only convolution that sees the image's channels
        Assert.StartsWith(Plugin.ClassifierPrefix, headName);
        var stemBefore = stem.detach().clone();
        var headBefore = head.detach().clone();
        using var optimizer = optim.SGD(model.parameters(), 0.05);

        var x = randn(4, 3, 32, 32);
        var y = randint(0, Classes, [4]);
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(x), y);
        loss.backward();
        optimizer.step();

        Assert.True(double.IsFinite(loss.item<float>()));
        Assert.False(Models.Identical(stem, stemBefore), $"{stemName} did not change.");
        Assert.False(Models.Identical(head, headBefore), $"{headName} did not change.");
    }

    [Fact]
    public void Forward_TrainingBatchOfOneWithOnePixelMaps_ThrowsAndKeepsStatisticsFinite()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        // 8 px: every model (ResNet with its small stem too) ends with 1×1 maps, so its last BN layers see one value.
        var input = new InputShape(3, 8, 8);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, input));
        model.train();

        Assert.Throws<ArgumentException>(() => model.call(randn(1, 3, 8, 8)));
        Assert.True(RunningStatisticsFinite(model));
    }

    [Fact]
    public void Forward_TrainingBatchOfOneAt64Px_KeepsStatisticsFinite()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, new InputShape(3, 64, 64)));
        model.train();

        using (no_grad()) model.call(randn(1, 3, 64, 64));
        model.eval();
        using (no_grad())
        {
            var logits = model.call(randn(2, 3, 64, 64));
            Assert.True(isfinite(logits).all().item<bool>());
        }
        Assert.True(RunningStatisticsFinite(model));
    }

    [Fact]
    public void ParameterCount_TenInsteadOf1000Classes_ShrinksOnlyTheHead()
    {
        using var big = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb32));
        using var small = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32));
        var (_, head) = Models.SingleLinear(small);

        long difference = Models.TrainableParameters(big) - Models.TrainableParameters(small);

        Assert.Equal((1000 - Classes) * (head.in_features + 1), difference);
        var bigShapes = Models.StateShapes(big);
        foreach (var (name, shape) in Models.StateShapes(small).Where(kv => !kv.Key.StartsWith(Plugin.ClassifierPrefix)))
            Assert.Equal(bigShapes[name], shape);
    }

    [Fact]
    public void ClassifierPrefix_StateDict_CoversExactlyTheLinearHead()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32));
        var (name, head) = Models.SingleLinear(model);

        var prefixed = model.state_dict().Keys.Where(k => k.StartsWith(Plugin.ClassifierPrefix)).Order();
        var headKeys = head.named_parameters().Select(p => $"{name}.{p.name}").Order();

        Assert.Equal(headKeys, prefixed);
        Assert.Equal([$"{name}.bias", $"{name}.weight"], headKeys);
    }

    [Fact]
    public void FeatureLayer_Forward_YieldsSpatialMapsToAHook()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32));
        model.eval();
        var layer = Assert.Single(model.named_modules(), m => m.name == Plugin.FeatureLayer).module;
        Assert.Contains(layer.modules(), m => m is Conv2d);
        long[]? seen = null;

        var hook = ((nn.Module<Tensor, Tensor>)layer).register_forward_hook((_, _, output) => { seen = output.shape; return null!; });
        using (no_grad()) model.call(randn(2, 3, 32, 32));
        hook.remove();

        Assert.NotNull(seen);
        Assert.Equal(4, seen.Length);
        Assert.Equal(2, seen[0]);
    }

    private static bool RunningStatisticsFinite(nn.Module model) =>
        model.named_buffers().Where(b => b.name.EndsWith(".running_var") || b.name.EndsWith(".running_mean"))
            .All(b => isfinite(b.buffer).all().item<bool>());
}
