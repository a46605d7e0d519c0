using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Training;
using Tracker.Plugins.SmallCnn;

namespace Tracker.Core.Tests;

[Collection(TorchCollection.Name)]
public sealed class TrainerTests
{
    public TrainerTests(TorchSettings settings) => _ = settings; // requested so that the thread count is set first

    private static readonly DatasetSplits Data = Shapes(seed: 3);

    private static DatasetSplits Shapes(int seed)
    {
        var all = ShapesDataset.Generate(classes: 4, size: 12, count: 240, noise: 0.05, seed);
        var (train, validation) = all.SplitStratified(0.25, seed);
        return new DatasetSplits(train, validation);
    }

    private static TrainingJob Job(int epochs = 2, int seed = 17, string optimizer = "adam", double learningRate = 0.01) => new(
        new SmallCnnPlugin(),
        new Dictionary<string, ParameterValue>
        {
            [TrainerHyperparameters.LearningRate] = learningRate,
            [TrainerHyperparameters.BatchSize] = 32,
            [TrainerHyperparameters.Optimizer] = optimizer,
            [TrainerHyperparameters.WeightDecay] = 0.0,
            ["width"] = 8,
            ["dropout"] = 0.1,
        },
        Data, epochs, seed, "cpu");

    private static List<EpochResult> Train(TrainingJob job)
    {
        var results = new List<EpochResult>();
        new Trainer().Train(job, results.Add, TestContext.Current.CancellationToken);
        return results;
    }

    [Fact]
    public void Train_TwoEpochs_ReportsEachEpochWithFiniteMetrics()
    {
        var results = Train(Job(epochs: 2));

        Assert.Equal([1, 2], results.Select(r => r.Epoch));
        foreach (var result in results)
        {
            Assert.Equal(MetricNames.Epoch.Concat([MetricNames.LearningRate, MetricNames.EpochSeconds, MetricNames.ImagesPerSecond, MetricNames.DataWaitFraction]).Order(),
                result.Metrics.Keys.Order());
            Assert.InRange(result.Metrics[MetricNames.DataWaitFraction], 0.0, 1.0);
            Assert.Equal(0.01, result.Metrics[MetricNames.LearningRate]);
            Assert.All(result.Metrics.Values, v => Assert.True(double.IsFinite(v), $"{v} is not finite"));
            Assert.InRange(result.Metrics[MetricNames.ValF1Macro], 0.0, 1.0);
            Assert.InRange(result.Metrics[MetricNames.ValF1Weighted], 0.0, 1.0);
            Assert.InRange(result.Metrics[MetricNames.ValAccuracy], 0.0, 1.0);
            Assert.True(result.Metrics[MetricNames.TrainLoss] > 0);
            Assert.True(result.Metrics[MetricNames.ValLoss] > 0);
            // The epoch's scalar metrics and its validation scores describe the same pass.
            Assert.Equal(result.Validation.MacroF1, result.Metrics[MetricNames.ValF1Macro]);
            Assert.Equal(result.Validation.Accuracy, result.Metrics[MetricNames.ValAccuracy]);
            var confusion = result.Validation.Confusion;
            Assert.Equal(4, confusion.Length);
            Assert.All(confusion, row => Assert.Equal(4, row.Length));
            Assert.Equal(Data.Validation.Count, confusion.Sum(row => row.Sum()));
            Assert.Equal(Enumerable.Range(0, 4).Select(c => Data.Validation.Labels.Count(l => l == c)), result.Validation.Support);
        }
    }

    [Fact]
    public void Train_SameJobTwice_IdenticalMetrics()
    {
        var first = Train(Job(epochs: 2));
        var second = Train(Job(epochs: 2));

        Assert.Equal(first.Count, second.Count);
        for (int i = 0; i < first.Count; i++)
        {
            // Everything but the wall-clock figures is reproduced exactly.
            string[] timing = [MetricNames.EpochSeconds, MetricNames.ImagesPerSecond, MetricNames.DataWaitFraction];
            Assert.Equal(first[i].Metrics.Where(m => !timing.Contains(m.Key)).OrderBy(m => m.Key), second[i].Metrics.Where(m => !timing.Contains(m.Key)).OrderBy(m => m.Key));
            Assert.Equal(first[i].Validation.Confusion, second[i].Validation.Confusion);
        }
    }

    [Fact]
    public void Train_OtherSeed_DifferentTrainingLoss()
    {
        var a = Train(Job(epochs: 1, seed: 17));
        var b = Train(Job(epochs: 1, seed: 18));

        Assert.NotEqual(a[0].Metrics[MetricNames.TrainLoss], b[0].Metrics[MetricNames.TrainLoss]);
    }

    [Fact]
    public void Train_HugeLearningRate_ThrowsTrainingFailedNamingTheEpoch()
    {
        // Batch norm keeps a learning rate of 1e6 finite (only huge losses); with 1e20 the first SGD step overflows
        // float32, so the second batch's loss is infinite.
        var epochs = new List<int>();

        var e = Assert.Throws<TrainingFailedException>(() =>
            new Trainer().Train(Job(epochs: 2, optimizer: "sgd", learningRate: 1e20), r => epochs.Add(r.Epoch), TestContext.Current.CancellationToken));

        Assert.Contains("training loss became", e.Message);
        Assert.Contains("at epoch 1, batch 2", e.Message);
        Assert.Contains("1E+20", e.Message);
        Assert.Empty(epochs);
    }

    [Fact]
    public void Train_UnknownOptimizer_ThrowsTrainingFailed()
    {
        var e = Assert.Throws<TrainingFailedException>(() => Train(Job(optimizer: "lion")));

        Assert.Contains("lion", e.Message);
    }

    [Fact]
    public void Train_CancelledToken_ThrowsOperationCanceledWithoutReporting()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var reported = new List<EpochResult>();

        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer().Train(Job(), reported.Add, cancellation.Token));
        Assert.Empty(reported);
    }

    [Fact]
    public void Train_CancelledAfterFirstEpoch_StopsBeforeTheSecond()
    {
        using var cancellation = new CancellationTokenSource();
        var reported = new List<int>();

        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer().Train(Job(epochs: 3), r =>
        {
            reported.Add(r.Epoch);
            cancellation.Cancel();
        }, cancellation.Token));

        Assert.Equal([1], reported);
    }

    [Fact]
    public void Train_MissingTrainerParameters_UsesDefaults()
    {
        var job = Job(epochs: 1) with { Parameters = new Dictionary<string, ParameterValue> { ["width"] = 8 } };

        var results = Train(job);

        Assert.Single(results);
        Assert.True(double.IsFinite(results[0].Metrics[MetricNames.TrainLoss]));
    }
}
