using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tracker.Core.Training;

/// <summary>One trial to train.</summary>
/// <param name="Model">The model plugin.</param>
/// <param name="Parameters">Every hyperparameter, resolved (trainer's and model's).</param>
/// <param name="Data">The data set.</param>
/// <param name="Epochs">Epochs to train.</param>
/// <param name="Seed">Seeds the weight initialisation and the batch order.</param>
/// <param name="Device">A resolved TorchSharp device name (see <see cref="TorchDevices"/>).</param>
public sealed record TrainingJob(
    IModelPlugin Model, IReadOnlyDictionary<string, ParameterValue> Parameters, DatasetSplits Data, int Epochs, int Seed, string Device);

/// <summary>What one epoch produced.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Metrics">Scalar metrics by <see cref="MetricNames"/>.</param>
/// <param name="Validation">Validation scores and the confusion matrix.</param>
public sealed record EpochResult(int Epoch, IReadOnlyDictionary<string, double> Metrics, ClassificationMetrics Validation);

/// <summary>A trial could not go on (e.g. its loss became NaN); the message is shown to users.</summary>
public sealed class TrainingFailedException(string message) : Exception(message);

/// <summary>
/// Trains one model with TorchSharp: shuffled mini-batches, cross-entropy, the chosen optimizer, and a full
/// validation pass after every epoch. Owns the loop so every model gets the same metrics. With one trial at a
/// time on the CPU, the same job gives the same metrics.
/// </summary>
public sealed class Trainer
{
    // torch.manual_seed is process-global; building under a lock keeps each model's initialisation seeded by its job.
    private static readonly Lock InitGate = new();

    /// <summary>
    /// Trains <paramref name="job"/>, calling <paramref name="onEpoch"/> after each epoch. Throws
    /// <see cref="TrainingFailedException"/> on a non-finite loss and <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires (checked between batches).
    /// </summary>
    public void Train(TrainingJob job, Action<EpochResult> onEpoch, CancellationToken cancellation)
    {
        var device = torch.device(job.Device);
        var data = job.Data;
        int classes = data.ClassNames.Count;
        double learningRate = Get(job, TrainerHyperparameters.LearningRate).AsDouble();
        int batchSize = Math.Max(1, Get(job, TrainerHyperparameters.BatchSize).AsInt());
        double weightDecay = Get(job, TrainerHyperparameters.WeightDecay).AsDouble();
        string optimizerName = Get(job, TrainerHyperparameters.Optimizer).AsString();

        using var outer = torch.NewDisposeScope();
        var (trainX, mean, std) = Normalised(data.Train, null, null);
        var (valX, _, _) = Normalised(data.Validation, mean, std);
        var trainY = torch.tensor(data.Train.Labels, ScalarType.Int64);
        var valY = data.Validation.Labels;

        nn.Module<Tensor, Tensor> model;
        lock (InitGate)
        {
            torch.manual_seed(job.Seed);
            model = job.Model.Build(new ModelSpec(classes, data.Shape, job.Parameters));
        }
        using var _ = model;
        model.to(device);
        using var optimizer = CreateOptimizer(optimizerName, model, learningRate, weightDecay);
        var order = new Random(job.Seed);
        int n = data.Train.Count;

        for (int epoch = 1; epoch <= job.Epochs; epoch++)
        {
            model.train();
            var permutation = Enumerable.Range(0, n).ToArray();
            order.Shuffle(permutation);
            double lossSum = 0;
            for (int start = 0; start < n; start += batchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var index = torch.tensor(permutation.AsSpan(start, Math.Min(batchSize, n - start)).ToArray(), ScalarType.Int64);
                var x = trainX.index_select(0, index).to(device);
                var y = trainY.index_select(0, index).to(device);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.forward(x), y);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                    throw new TrainingFailedException($"training loss became {value} at epoch {epoch}, batch {start / batchSize + 1} (learning rate {learningRate:G3}).");
                loss.backward();
                optimizer.step();
                lossSum += value * index.shape[0];
            }

            var (valLoss, predictions) = Evaluate(model, valX, valY, device, cancellation);
            var scores = ClassificationMetrics.Compute(valY, predictions, classes);
            var metrics = new Dictionary<string, double>
            {
                [MetricNames.TrainLoss] = lossSum / n,
                [MetricNames.ValLoss] = valLoss,
                [MetricNames.ValAccuracy] = scores.Accuracy,
                [MetricNames.ValF1Macro] = scores.MacroF1,
                [MetricNames.ValF1Weighted] = scores.WeightedF1,
            };
            if (!double.IsFinite(valLoss))
                throw new TrainingFailedException($"validation loss became {valLoss} at epoch {epoch} (learning rate {learningRate:G3}).");
            onEpoch(new EpochResult(epoch, metrics, scores));
        }
    }

    private static ParameterValue Get(TrainingJob job, string name) =>
        job.Parameters.TryGetValue(name, out var v) ? v : TrainerHyperparameters.All.First(p => p.Name == name).Default!.Value;

    private static (double Loss, int[] Predictions) Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, int[] y, Device device, CancellationToken cancellation)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var predictions = new int[y.Length];
        double lossSum = 0;
        const int batch = 256;
        for (int start = 0; start < y.Length; start += batch)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            int count = Math.Min(batch, y.Length - start);
            var logits = model.forward(x.narrow(0, start, count).to(device));
            var target = torch.tensor(y.AsSpan(start, count).ToArray(), ScalarType.Int64).to(device);
            lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            var predicted = logits.argmax(1).to(ScalarType.Int32).cpu().data<int>().ToArray();
            predicted.CopyTo(predictions, start);
        }
        return (y.Length == 0 ? double.NaN : lossSum / y.Length, predictions);
    }

    /// <summary>Images as an [N, C, H, W] tensor, standardised per channel with the training split's statistics.</summary>
    private static (Tensor X, Tensor Mean, Tensor Std) Normalised(ImageSet set, Tensor? mean, Tensor? std)
    {
        var s = set.Shape;
        var x = torch.tensor(set.Pixels, [set.Count, s.Channels, s.Height, s.Width]);
        mean ??= x.mean([0, 2, 3], keepdim: true);
        std ??= x.std([0, 2, 3], keepdim: true).clamp_min(1e-6);
        return ((x - mean) / std, mean, std);
    }

    private static optim.Optimizer CreateOptimizer(string name, nn.Module model, double learningRate, double weightDecay) => name switch
    {
        "adam" => torch.optim.Adam(model.parameters(), learningRate, weight_decay: weightDecay),
        "adamw" => torch.optim.AdamW(model.parameters(), learningRate, weight_decay: weightDecay),
        "sgd" => torch.optim.SGD(model.parameters(), learningRate, momentum: 0.9, weight_decay: weightDecay),
        _ => throw new TrainingFailedException($"unknown optimizer '{name}' (expected adam, adamw or sgd)."),
    };
}
