using SkiaSharp;
using Tracker.Abstractions;
using Tracker.Core.Analysis;
using Tracker.Core.Data;
using Tracker.Core.Training;
using Tracker.Plugins.SmallCnn;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Core.Tests;

/// <summary>Grad-CAM of the small CNN trained briefly on generated shapes, whose positions the pixels give away.</summary>
[Collection(TorchCollection.Name)]
public sealed class GradCamTests : IClassFixture<GradCamTests.TrainedModel>
{
    private readonly TrainedModel trained;

    public GradCamTests(TorchSettings settings, TrainedModel trained) => (_, this.trained) = (settings, trained);

    /// <summary>The small CNN after a few epochs on 16-pixel shapes (little noise), with its checkpoints.</summary>
    public sealed class TrainedModel : IDisposable
    {
        private readonly string folder = Directory.CreateTempSubdirectory("tracker-gradcam").FullName;

        public TrainedModel()
        {
            torch.set_num_threads(1);
            var all = ShapesDataset.Generate(classes: 3, size: 16, count: 300, noise: 0.02, seed: 5);
            var (train, validation, test) = all.SplitStratified(0.2, 0.2, seed: 5);
            Data = new DatasetSplits(train, validation, test);
            var job = new TrainingJob(new SmallCnnPlugin(), Parameters, Data, Epochs: 4, Seed: 11, Device: "cpu") { CheckpointFolder = folder };
            Final = new Trainer().Train(job, _ => { }, CancellationToken.None);
        }

        public Dictionary<string, ParameterValue> Parameters { get; } = new()
        {
            [TrainerHyperparameters.LearningRate] = 0.01,
            [TrainerHyperparameters.Optimizer] = "adam",
            ["width"] = 16,
            ["dropout"] = 0.0,
        };

        public DatasetSplits Data { get; }

        public FinalEvaluation Final { get; }

        public string Best => Path.Combine(folder, Checkpoints.Best);

        public void Dispose() => Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Compute_TrainedCnn_PngOfTheImageSizeWithAVaryingMap()
    {
        var result = GradCam.Compute(new SmallCnnPlugin(), trained.Parameters, trained.Data, trained.Best, index: 0, targetClass: null);

        Assert.True(result.Succeeded, result.Problem);
        using var bitmap = SKBitmap.Decode(result.Png);
        Assert.Equal((16, 16), (bitmap.Width, bitmap.Height));
        var cam = result.Map!.Cam;
        Assert.Equal(16 * 16, cam.Length);
        Assert.All(cam, v => Assert.InRange(v, 0f, 1f));
        Assert.True(cam.Max() - cam.Min() > 0.5f, $"the map is flat: [{cam.Min()}, {cam.Max()}]");
        Assert.Equal(trained.Final.Predicted[0], result.Map.PredictedClass);
        Assert.Equal(result.Map.PredictedClass, result.Map.TargetClass);
        Assert.Equal("features.6", result.Map.Layer); // the last convolution block's activation, before its pooling
    }

    [Fact]
    public void Compute_CorrectlyClassifiedImages_MapIsHigherOnTheShapeThanOnTheBackground()
    {
        var test = trained.Data.Test!;
        int plane = 16 * 16;
        double inside = 0, outside = 0;
        int images = 0;
        for (int i = 0; i < test.Count && images < 12; i++)
        {
            if (trained.Final.Predicted[i] != test.Labels[i]) continue;
            var map = GradCam.Compute(new SmallCnnPlugin(), trained.Parameters, trained.Data, trained.Best, i, null).Map!;
            // Shapes are drawn in colours of 0.5–1 per channel on backgrounds of 0.1–0.4, so brightness finds them.
            var pixels = test.Pixels[(i * test.ImageSize)..((i + 1) * test.ImageSize)];
            var shape = Enumerable.Range(0, plane).Select(p => (pixels[p] + pixels[plane + p] + pixels[2 * plane + p]) / 3 > 0.45f).ToArray();
            inside += Enumerable.Range(0, plane).Where(p => shape[p]).Average(p => map.Cam[p]);
            outside += Enumerable.Range(0, plane).Where(p => !shape[p]).Average(p => map.Cam[p]);
            images++;
        }

        Assert.True(images >= 8, $"only {images} test images were classified correctly");
        Assert.True(inside / images > 1.5 * (outside / images), $"mean map on the shape {inside / images:0.000}, off it {outside / images:0.000}");
    }

    [Fact]
    public void Compute_ChosenClass_MapsThatClass()
    {
        int other = (trained.Final.Predicted[1] + 1) % 3;

        var result = GradCam.Compute(new SmallCnnPlugin(), trained.Parameters, trained.Data, trained.Best, index: 1, targetClass: other);

        Assert.True(result.Succeeded, result.Problem);
        Assert.Equal(other, result.Map!.TargetClass);
        Assert.Equal(trained.Final.Predicted[1], result.Map.PredictedClass);
    }

    [Theory]
    [InlineData(-1, null, 404)]
    [InlineData(100_000, null, 404)]
    [InlineData(0, 3, 400)]
    public void Compute_BadImageOrClass_Problem(int index, int? targetClass, int status)
    {
        var result = GradCam.Compute(new SmallCnnPlugin(), trained.Parameters, trained.Data, trained.Best, index, targetClass);

        Assert.False(result.Succeeded);
        Assert.Equal(status, result.Status);
    }

    [Fact]
    public void Compute_ModelWithoutFeatureLayer_Conflict()
    {
        var result = GradCam.Compute(new PlainModel(), trained.Parameters, trained.Data, trained.Best, 0, null);

        Assert.Equal(409, result.Status);
        Assert.Contains("last convolutional layer", result.Problem);
    }

    [Fact]
    public void Compute_Anytime_LeavesTorchsGlobalGeneratorAsItWas()
    {
        torch.manual_seed(123);
        using var expected = torch.rand(4);
        torch.manual_seed(123);

        GradCam.Compute(new SmallCnnPlugin(), trained.Parameters, trained.Data, trained.Best, 0, null);
        using var actual = torch.rand(4);

        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    [Fact]
    public void Overlay_GreyImage_RgbPngWithTheMapsColours()
    {
        var grey = new float[4 * 4];
        Array.Fill(grey, 0.5f);
        var cam = new float[16];
        cam[0] = 1; // top-left hot (red), the rest cold (blue)

        using var bitmap = SKBitmap.Decode(GradCam.Overlay(grey, new InputShape(1, 4, 4), cam));

        Assert.Equal((4, 4), (bitmap.Width, bitmap.Height));
        var hot = bitmap.GetPixel(0, 0);
        var cold = bitmap.GetPixel(3, 3);
        Assert.True(hot.Red > hot.Blue, $"hot pixel {hot}");
        Assert.True(cold.Blue > cold.Red, $"cold pixel {cold}");
    }

    private sealed class PlainModel : IModelPlugin
    {
        public string Name => "plain";

        public string Description => "no feature layer";

        public IReadOnlyList<ParameterSpec> Hyperparameters => [];

        public nn.Module<Tensor, Tensor> Build(ModelSpec spec) => nn.Sequential(nn.Flatten(), nn.Linear(spec.Input.Channels * spec.Input.Height * spec.Input.Width, spec.ClassCount));
    }
}
