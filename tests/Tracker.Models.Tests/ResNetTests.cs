using Tracker.Abstractions;
using Tracker.Plugins.ResNet;

namespace Tracker.Models.Tests;

public sealed class ResNetTests : ModelPluginConformance<ResNetPlugin>
{
    [Fact]
    public void ParameterCount_1000ClassesImageNetStem_MatchesTorchvision()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        Assert.Equal(11_689_512, Models.TrainableParameters(model));
    }

    [Fact]
    public void StateDict_ImageNetStem_UsesTorchvisionNamesAndShapes()
    {
        using var model = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb224));

        var shapes = Models.StateShapes(model);

        // 20 convolutions, 20 BNs with 5 entries each, and fc: as torchvision's resnet18.
        Assert.Equal(122, shapes.Count);
        Assert.Equal([64L, 3, 7, 7], shapes["conv1.weight"]);
        Assert.Equal([64L], shapes["bn1.running_var"]);
        Assert.Equal([64L, 64, 3, 3], shapes["layer1.0.conv1.weight"]);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", shapes.Keys);
        Assert.Equal([128L, 64, 1, 1], shapes["layer2.0.downsample.0.weight"]);
        Assert.Equal([128L], shapes["layer2.0.downsample.1.weight"]);
        Assert.Equal([512L], shapes["layer4.1.bn2.bias"]);
        Assert.Equal([1000L, 512], shapes["fc.weight"]);
        Assert.Equal([1000L], shapes["fc.bias"]);
    }

    [Theory]
    [InlineData("auto", 32, 3)]
    [InlineData("auto", 64, 3)]
    [InlineData("auto", 65, 7)]
    [InlineData("auto", 224, 7)]
    [InlineData("true", 224, 3)]
    [InlineData("false", 32, 7)]
    public void Build_SmallInput_ChoosesStemKernel(string smallInput, int size, long kernel)
    {
        using var model = Plugin.Build(Models.Spec(Plugin, Classes, new InputShape(3, size, size), ("small_input", smallInput)));

        Assert.Equal([64L, 3, kernel, kernel], Models.StateShapes(model)["conv1.weight"]);
    }

    [Fact]
    public void ParameterCount_SmallStem_DiffersOnlyInConv1()
    {
        using var small = Plugin.Build(Models.Spec(Plugin, 1000, Models.Rgb32));

        Assert.Equal(11_689_512 - 64 * 3 * (7 * 7 - 3 * 3), Models.TrainableParameters(small));
    }

    [Fact]
    public void Metadata_HeadAndFeatureLayer_AreTorchvisionNames()
    {
        Assert.Equal("resnet-18", Plugin.Name);
        Assert.Equal("fc.", Plugin.ClassifierPrefix);
        Assert.Equal("layer4", Plugin.FeatureLayer);
        Assert.Contains("11,689,512", Plugin.Description);
    }
}
