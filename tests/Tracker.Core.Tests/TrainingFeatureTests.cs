using SkiaSharp;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Training;
using Tracker.Plugins.SmallCnn;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Tracker.Core.Tests;

public sealed class LearningRateScheduleTests
{
    private static TrainingSettings Settings(string schedule, int warmup = 0) =>
        TrainingSettings.From(new Dictionary<string, ParameterValue>
        {
            [TrainerHyperparameters.LearningRate] = 0.1,
            [TrainerHyperparameters.Schedule] = schedule,
            [TrainerHyperparameters.WarmupEpochs] = warmup,
            [TrainerHyperparameters.StepEpochs] = 2,
            [TrainerHyperparameters.StepGamma] = 0.5,
        });

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(3.7, 0.1)]
    public void LearningRateAt_Constant_IsTheLearningRate(double progress, double expected) =>
        Assert.Equal(expected, Settings("constant").LearningRateAt(progress, 10), 12);

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(5.0, 0.05)]    // half-way: cos(π/2) = 0 → half
    [InlineData(10.0, 0.0)]
    [InlineData(2.5, 0.0853553390593274)] // 0.05 · (1 + cos(π/4))
    public void LearningRateAt_Cosine_DecaysToZero(double progress, double expected) =>
        Assert.Equal(expected, Settings("cosine").LearningRateAt(progress, 10), 12);

    [Theory]
    [InlineData(1.9, 0.1)]
    [InlineData(2.0, 0.05)]
    [InlineData(5.5, 0.025)]
    [InlineData(6.0, 0.0125)]
    public void LearningRateAt_Step_HalvesEveryTwoEpochs(double progress, double expected) =>
        Assert.Equal(expected, Settings("step").LearningRateAt(progress, 10), 12);

    [Theory]
    [InlineData(0.5, 0.025)]  // a quarter of the way through a 2-epoch warm-up
    [InlineData(1.0, 0.05)]
    [InlineData(2.0, 0.1)]    // warm-up done: the cosine starts at its peak
    [InlineData(6.0, 0.05)]   // half of the 8 cosine epochs
    public void LearningRateAt_WarmupThenCosine_RampsLinearlyThenDecays(double progress, double expected) =>
        Assert.Equal(expected, Settings("cosine", warmup: 2).LearningRateAt(progress, 10), 12);

    [Fact]
    public void From_MissingKeys_TakeDeclaredDefaults()
    {
        var s = TrainingSettings.From(new Dictionary<string, ParameterValue>());

        Assert.Equal((1e-3, 32, "adam", 0.9, false, 0.0, 0.0, "constant", 0, 0, false, false, 0),
            (s.LearningRate, s.BatchSize, s.Optimizer, s.Momentum, s.Nesterov, s.WeightDecay, s.LabelSmoothing, s.Schedule, s.WarmupEpochs, s.InputSize, s.Flip, s.Crop, s.FreezeBackboneEpochs));
    }
}

[Collection(TorchCollection.Name)]
public sealed class TrainingFeatureTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-training").FullName;

    public TrainingFeatureTests(TorchSettings settings) => _ = settings;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static readonly DatasetSplits Data = MakeData();

    private static DatasetSplits MakeData()
    {
        var all = ShapesDataset.Generate(classes: 3, size: 12, count: 180, noise: 0.05, seed: 5);
        var (train, validation, test) = all.SplitStratified(0.2, 0.2, seed: 5);
        return new DatasetSplits(train, validation, test);
    }

    private static TrainingJob Job(int epochs, Dictionary<string, ParameterValue>? extra = null)
    {
        var parameters = new Dictionary<string, ParameterValue>
        {
            [TrainerHyperparameters.LearningRate] = 0.05,
            [TrainerHyperparameters.Optimizer] = "sgd",
            [TrainerHyperparameters.Momentum] = 0.0, // stateless, so a resumed run can equal an uninterrupted one
            ["width"] = 8,
            ["dropout"] = 0.0,
        };
        foreach (var (k, v) in extra ?? []) parameters[k] = v;
        return new TrainingJob(new SmallCnnPlugin(), parameters, Data, epochs, 11, "cpu");
    }

    private static (List<EpochResult> Epochs, FinalEvaluation Final) Run(TrainingJob job)
    {
        var epochs = new List<EpochResult>();
        var final = new Trainer().Train(job, epochs.Add, TestContext.Current.CancellationToken);
        return (epochs, final);
    }

    [Fact]
    public void Train_WithCheckpoints_ResumedRunEqualsUninterruptedRun()
    {
        var straight = Run(Job(4));
        var checkpoints = Path.Combine(folder, "first");
        var firstHalf = Run(Job(2) with { CheckpointFolder = checkpoints });
        Assert.True(File.Exists(Path.Combine(checkpoints, Checkpoints.Last)));
        Assert.True(File.Exists(Path.Combine(checkpoints, Checkpoints.Best)));

        var secondHalf = Run(Job(4) with { ResumeFrom = Path.Combine(checkpoints, Checkpoints.Last), StartEpoch = 3 });

        Assert.Equal([1, 2], firstHalf.Epochs.Select(e => e.Epoch));
        Assert.Equal([3, 4], secondHalf.Epochs.Select(e => e.Epoch));
        Assert.Equal(straight.Epochs[1].Metrics[MetricNames.ValLoss], firstHalf.Epochs[1].Metrics[MetricNames.ValLoss]);
        Assert.Equal(straight.Epochs[2].Metrics[MetricNames.TrainLoss], secondHalf.Epochs[0].Metrics[MetricNames.TrainLoss]);
        Assert.Equal(straight.Epochs[3].Metrics[MetricNames.ValLoss], secondHalf.Epochs[1].Metrics[MetricNames.ValLoss]);
        Assert.Equal(straight.Final.Predicted, secondHalf.Final.Predicted);
    }

    [Fact]
    public void Train_WithTestSplit_FinalEvaluationCoversTheTestSplitWithMistakesFirst()
    {
        var (_, final) = Run(Job(1) with { SampleImages = 10 });

        Assert.Equal("test", final.Split);
        Assert.Equal(Data.Test!.Labels, final.Truth);
        Assert.Equal(Data.Test.Count, final.Predicted.Length);
        Assert.All(final.Confidence, c => Assert.InRange(c, 1.0 / 3 - 1e-9, 1.0));
        Assert.Equal(Data.Test.Count, final.Scores.Support.Sum());
        Assert.Equal(10, final.Samples.Count);
        int mistakes = Enumerable.Range(0, Data.Test.Count).Count(i => final.Predicted[i] != final.Truth[i]);
        Assert.Equal(Math.Min(10, mistakes), final.Samples.Count(s => s.Predicted != s.Truth));
        using var bitmap = SKBitmap.Decode(final.Samples[0].Png);
        Assert.Equal((12, 12), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void Train_AugmentedAndResized_RunsWithFiniteMetrics()
    {
        var (epochs, final) = Run(Job(2, new()
        {
            [TrainerHyperparameters.Augmentation] = "crop+flip",
            [TrainerHyperparameters.InputSize] = 16,
            [TrainerHyperparameters.LabelSmoothing] = 0.1,
            [TrainerHyperparameters.Optimizer] = "rmsprop",
            [TrainerHyperparameters.LearningRate] = 0.001,
            [TrainerHyperparameters.Schedule] = "cosine",
            [TrainerHyperparameters.WarmupEpochs] = 1,
        }));

        Assert.All(epochs, e => Assert.All(e.Metrics.Values, v => Assert.True(double.IsFinite(v))));
        Assert.Equal(0.001, epochs[1].Metrics[MetricNames.LearningRate], 12); // epoch 2 starts where warm-up ends: the cosine's peak
        Assert.InRange(final.Scores.MacroF1, 0, 1);
    }

    [Fact]
    public void Train_FreezeBackboneOneEpoch_OnlyTheHeadChanges()
    {
        var checkpoints = Path.Combine(folder, "frozen");
        Run(Job(1, new() { [TrainerHyperparameters.FreezeBackboneEpochs] = 1 }) with { CheckpointFolder = checkpoints });

        var plugin = new SmallCnnPlugin();
        var spec = new ModelSpec(3, Data.Shape, new Dictionary<string, ParameterValue> { ["width"] = 8, ["dropout"] = 0.0 });
        torch.manual_seed(11);
        using var initial = plugin.Build(spec);
        using var trained = plugin.Build(spec);
        trained.load(Path.Combine(checkpoints, Checkpoints.Last));
        var before = initial.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, after) in trained.named_parameters())
        {
            bool same = before[name].equal(after).all().item<bool>();
            Assert.True(name.StartsWith(plugin.ClassifierPrefix) ? !same : same, $"{name}: {(same ? "unchanged" : "changed")}");
        }
        // The backbone's batch norms stayed in inference mode: their running statistics are the initial ones.
        var initialBuffers = initial.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        var statistics = trained.named_buffers().Where(b => b.name.EndsWith("running_mean") || b.name.EndsWith("running_var")).ToList();
        Assert.NotEmpty(statistics);
        Assert.All(statistics, b => Assert.True(initialBuffers[b.name].equal(b.buffer).all().item<bool>(), $"{b.name} changed"));
    }

    [Theory]
    [InlineData("weights.dat")]
    [InlineData("weights.pt")]
    public void LoadPretrained_OtherClassCount_LoadsBackboneAndKeepsNewHead(string file)
    {
        var plugin = new SmallCnnPlugin();
        var parameters = new Dictionary<string, ParameterValue> { ["width"] = 8 };
        var path = Path.Combine(folder, file);
        torch.manual_seed(1);
        using (var source = plugin.Build(new ModelSpec(10, Data.Shape, parameters)))
        {
            if (file.EndsWith(".pt")) source.save_py(path); else source.save(path);
        }
        using var reference = plugin.Build(new ModelSpec(10, Data.Shape, parameters));
        reference.load(file.EndsWith(".pt") ? SaveAsTorchSharp(path) : path);

        torch.manual_seed(2);
        using var target = plugin.Build(new ModelSpec(3, Data.Shape, parameters));
        var head = target.named_parameters().Select(p => p.name).Where(n => n.StartsWith(plugin.ClassifierPrefix)).ToArray();
        Checkpoints.LoadPretrained(target, path, head);

        var loaded = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in target.named_parameters())
        {
            if (head.Contains(name)) Assert.Equal(3, parameter.shape[0]);
            else Assert.True(loaded[name].equal(parameter).all().item<bool>(), $"{name} was not loaded");
        }
    }

    private string SaveAsTorchSharp(string pytorchFile)
    {
        // Reads the PyTorch file into a 10-class model and writes TorchSharp's format, to compare like with like.
        using var model = new SmallCnnPlugin().Build(new ModelSpec(10, Data.Shape, new Dictionary<string, ParameterValue> { ["width"] = 8 }));
        model.load_py(pytorchFile);
        var path = Path.Combine(folder, "converted.dat");
        model.save(path);
        return path;
    }

    [Fact]
    public void LoadPretrained_UnrelatedFile_FailsClearly()
    {
        var path = Path.Combine(folder, "other.dat");
        using (var other = nn.Sequential(("unrelated", nn.Linear(3, 3)))) other.save(path);
        using var model = new SmallCnnPlugin().Build(new ModelSpec(3, Data.Shape, new Dictionary<string, ParameterValue>()));

        var e = Assert.Throws<TrainingFailedException>(() => Checkpoints.LoadPretrained(model, path, []));

        Assert.Contains("none of the model's parameter names", e.Message);
    }
}

public sealed class PngTests
{
    [Fact]
    public void Encode_RgbImage_DecodesToTheSamePixels()
    {
        // 2×2, channel-first: red, green / blue, white.
        float[] chw = [1, 0, 0, 1, /* G */ 0, 1, 0, 1, /* B */ 0, 0, 1, 1];

        using var bitmap = SKBitmap.Decode(Png.Encode(chw, 3, 2, 2));

        Assert.Equal(new SKColor(255, 0, 0), bitmap.GetPixel(0, 0));
        Assert.Equal(new SKColor(0, 255, 0), bitmap.GetPixel(1, 0));
        Assert.Equal(new SKColor(0, 0, 255), bitmap.GetPixel(0, 1));
        Assert.Equal(new SKColor(255, 255, 255), bitmap.GetPixel(1, 1));
    }

    [Fact]
    public void Encode_GreyImage_DecodesToTheSameLevels()
    {
        using var bitmap = SKBitmap.Decode(Png.Encode([0f, 0.5f, 1f], 1, 1, 3));

        Assert.Equal([0, 128, 255], Enumerable.Range(0, 3).Select(x => (int)bitmap.GetPixel(x, 0).Red));
    }
}
