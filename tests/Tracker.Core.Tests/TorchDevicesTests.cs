using Tracker.Core.Training;

namespace Tracker.Core.Tests;

[Collection(TorchCollection.Name)]
public sealed class TorchDevicesTests
{
    public TorchDevicesTests(TorchSettings settings) => _ = settings; // loads libtorch the same way as the trainer tests

    [Fact]
    public void Resolve_AutoWithoutCuda_ReturnsCpu()
    {
        Assert.False(TorchSharp.torch.cuda.is_available(), "this test expects a machine without CUDA");

        Assert.Equal(["cpu"], TorchDevices.Resolve(["auto"]));
    }

    [Fact]
    public void Resolve_Empty_MeansAuto()
    {
        Assert.Equal(["cpu"], TorchDevices.Resolve([]));
    }

    [Fact]
    public void Resolve_ExplicitNames_PassThroughNormalisedAndDeduplicated()
    {
        Assert.Equal(["cpu", "cuda:1", "cuda:0"], TorchDevices.Resolve(["cpu", " CUDA:1 ", "cuda:0", "cuda:1"]));
    }

    [Fact]
    public void Resolve_AutoAndCpu_NoDuplicateCpu()
    {
        Assert.Equal(["cpu"], TorchDevices.Resolve(["AUTO", "cpu"]));
    }

    [Theory]
    [InlineData("cpu", true)]
    [InlineData("cuda:0", false)]
    [InlineData("cuda", false)]
    public void IsCpu_Name_Classifies(string device, bool expected)
    {
        Assert.Equal(expected, TorchDevices.IsCpu(device));
    }
}
