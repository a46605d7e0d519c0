using Tracker.Plugins.MobileNetV2;

namespace Tracker.Models.Tests;

public sealed class MobileNetV2Tests : ModelPluginConformance<MobileNetV2Plugin>
{
    [Fact]
    public void ParameterCount_1000ClassesWidth1_MatchesTorchvision()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        Assert.Equal(3_504_872, Models.TrainableParameters(model));
    }

    [Fact]
    public void ParameterCount_1000ClassesWidthHalf_MatchesTorchvision()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224, ("width_multiplier", 0.5)));

        Assert.Equal(1_968_680, Models.TrainableParameters(model));
    }

    [Fact]
    public void ParameterCount_EachWidth_GrowsWithWidth()
    {
        var widths = ((Tracker.Abstractions.ChoiceParameter)Plugin.Hyperparameters.Single(p => p.Name == "width_multiplier")).Values;

        var counts = widths.Select(w =>
        {
            using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Rgb32, ("width_multiplier", w)));
            return Models.TrainableParameters(model);
        }).ToList();

        Assert.Equal(counts.Order(), counts);
        Assert.Equal(counts.Count, counts.Distinct().Count());
    }

    [Fact]
    public void StateDict_Width1_UsesTorchvisionNamesAndShapes()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        var shapes = Models.StateShapes(model);

        // 52 convolutions, 52 BNs (weight, bias, running mean and variance, batch count) and the linear head, as torchvision's mobilenet_v2.
        Assert.Equal(314, shapes.Count);
        Assert.Equal([32L, 3, 3, 3], shapes["features.0.0.weight"]);
        Assert.Equal([32L], shapes["features.0.1.running_mean"]);
        Assert.Equal([32L, 1, 3, 3], shapes["features.1.conv.0.0.weight"]); // t = 1: depthwise first
        Assert.Equal([16L, 32, 1, 1], shapes["features.1.conv.1.weight"]);
        Assert.Equal([16L], shapes["features.1.conv.2.bias"]);
        Assert.Equal([96L, 16, 1, 1], shapes["features.2.conv.0.0.weight"]); // t = 6: expansion first
        Assert.Equal([96L, 1, 3, 3], shapes["features.2.conv.1.0.weight"]);
        Assert.Equal([24L], shapes["features.2.conv.3.weight"]);
        Assert.Empty(shapes["features.2.conv.3.num_batches_tracked"]); // a scalar
        Assert.Equal([1280L, 320, 1, 1], shapes["features.18.0.weight"]);
        Assert.Equal([1000L, 1280], shapes["classifier.1.weight"]);
        Assert.Equal([1000L], shapes["classifier.1.bias"]);
    }

    [Fact]
    public void Build_GreyInput_StemTakesOneChannel()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, Models.Grey28));

        Assert.Equal([32L, 1, 3, 3], Models.StateShapes(model)["features.0.0.weight"]);
    }

    [Fact]
    public void Metadata_HeadAndFeatureLayer_AreTorchvisionNames()
    {
        Assert.Equal("mobilenet-v2", Plugin.Name);
        Assert.Equal("classifier.", Plugin.ClassifierPrefix);
        Assert.Equal("features.18", Plugin.FeatureLayer);
        Assert.Contains("3,504,872", Plugin.Description);
    }
}
