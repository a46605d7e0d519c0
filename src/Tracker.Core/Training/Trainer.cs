using System.Diagnostics;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Metrics;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Tracker.Core.Training;

/// <summary>One trial to train.</summary>
/// <param name="Model">The model plugin.</param>
/// <param name="Parameters">Every hyperparameter, resolved (trainer's and model's).</param>
/// <param name="Data">The data set.</param>
/// <param name="Epochs">The epoch budget: training ends after this epoch.</param>
/// <param name="Seed">Seeds the weight initialisation, the batch order and the augmentation.</param>
/// <param name="Device">A resolved TorchSharp device name (see <see cref="TorchDevices"/>).</param>
public sealed record TrainingJob(
    IModelPlugin Model, IReadOnlyDictionary<string, ParameterValue> Parameters, DatasetSplits Data, int Epochs, int Seed, string Device)
{
    /// <summary>Where to write <c>last.pt</c> and <c>best.pt</c> (TorchSharp format), or <c>null</c> for no checkpoints.</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>A checkpoint to continue from (same model and shape); training then starts at <see cref="StartEpoch"/>.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>The first epoch to train (1 unless continuing a checkpoint, e.g. after a Hyperband promotion).</summary>
    public int StartEpoch { get; init; } = 1;

    /// <summary>
    /// The best <see cref="ObjectiveMetric"/> of the epochs before <see cref="StartEpoch"/>, when a trial continues its own
    /// checkpoint: <c>best.pt</c> is then written only by an epoch that beats it. <c>null</c> (the default): the first
    /// epoch trained writes it.
    /// </summary>
    public double? BestObjective { get; init; }

    /// <summary>
    /// Pretrained weights for transfer learning: a PyTorch <c>state_dict</c> (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>), a
    /// safetensors file, or a TorchSharp file (anything else). Every parameter but the classifier head is loaded.
    /// </summary>
    public string? InitialWeights { get; init; }

    /// <summary>The metric that decides which epoch's weights are <c>best.pt</c>. Defaults to validation macro-F1.</summary>
    public string ObjectiveMetric { get; init; } = MetricNames.ValF1Macro;

    /// <summary>Whether larger <see cref="ObjectiveMetric"/> is better. Defaults to true.</summary>
    public bool Maximize { get; init; } = true;

    /// <summary>How many evaluation images to keep as thumbnails with their predictions. Defaults to 48.</summary>
    public int SampleImages { get; init; } = 48;
}

/// <summary>What one epoch produced.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Metrics">Scalar metrics by <see cref="MetricNames"/>.</param>
/// <param name="Validation">Validation scores and the confusion matrix.</param>
public sealed record EpochResult(int Epoch, IReadOnlyDictionary<string, double> Metrics, ClassificationMetrics Validation);

/// <summary>One evaluation image kept for the prediction gallery.</summary>
/// <param name="Index">Its index in the evaluation split.</param>
/// <param name="Truth">True label.</param>
/// <param name="Predicted">Predicted label.</param>
/// <param name="Confidence">Softmax probability of the predicted label.</param>
/// <param name="Png">The image as PNG (in the data set's size).</param>
public sealed record SampleImage(int Index, int Truth, int Predicted, double Confidence, byte[] Png);

/// <summary>The final evaluation of a trained model on the test split (or validation when there is none).</summary>
/// <param name="Split">"test" or "validation".</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Scores">Per-class and averaged scores, confusion matrix.</param>
/// <param name="Predicted">The predicted label of every image of the split, in order.</param>
/// <param name="Confidence">The softmax probability of each predicted label.</param>
/// <param name="Samples">A seeded sample of images with their predictions.</param>
public sealed record FinalEvaluation(string Split, double Loss, ClassificationMetrics Scores, int[] Truth, int[] Predicted, double[] Confidence, IReadOnlyList<SampleImage> Samples);

/// <summary>A trial could not go on (e.g. its loss became NaN); the message is shown to users.</summary>
public sealed class TrainingFailedException(string message) : Exception(message);

/// <summary>
/// Trains one model with TorchSharp and owns the loop, so every model gets the same metrics, checkpoints and
/// prediction panels: shuffled, prefetched, optionally augmented mini-batches; the chosen optimizer and learning-rate
/// schedule; label-smoothed cross-entropy; a validation pass after every epoch; a final evaluation with predictions.
/// With one trial at a time on the CPU, the same job gives the same metrics.
/// </summary>
public sealed class Trainer
{
    // torch.manual_seed is process-global; building under a lock keeps each model's initialisation seeded by its job.
    private static readonly Lock InitGate = new();

    /// <summary>
    /// Trains <paramref name="job"/>, calling <paramref name="onEpoch"/> after each epoch, and returns the final
    /// evaluation. Throws <see cref="TrainingFailedException"/> on a non-finite loss or unusable weights, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellation"/> fires (checked between batches).
    /// </summary>
    public FinalEvaluation Train(TrainingJob job, Action<EpochResult> onEpoch, CancellationToken cancellation) =>
        Train(job, result => { onEpoch(result); return true; }, cancellation)!;

    /// <summary>
    /// Trains like <see cref="Train(TrainingJob, Action{EpochResult}, CancellationToken)"/>, but stops after any epoch
    /// for which <paramref name="onEpoch"/> returns false (a pruned trial); it then returns <c>null</c> instead of a
    /// final evaluation.
    /// </summary>
    public FinalEvaluation? Train(TrainingJob job, Func<EpochResult, bool> onEpoch, CancellationToken cancellation)
    {
        var settings = TrainingSettings.From(job.Parameters);
        var device = torch.device(job.Device);
        var data = job.Data;
        int classes = data.ClassNames.Count;

        using var outer = torch.NewDisposeScope();
        var (trainX, mean, std) = Normalised(data.Train, null, null);
        var (valX, _, _) = Normalised(data.Validation, mean, std);
        var trainY = torch.tensor(data.Train.Labels, ScalarType.Int64);

        using var model = Build(job.Model, job.Parameters, data.Shape, classes, job.Seed);
        string[] head = HeadParameters(job.Model, model);
        if (job.ResumeFrom is not null) Checkpoints.Load(model, job.ResumeFrom, strict: true);
        else if (job.InitialWeights is not null) Checkpoints.LoadPretrained(model, job.InitialWeights, head);
        if (settings.FreezeBackboneEpochs > 0 && head.Length == 0)
            throw new TrainingFailedException($"{TrainerHyperparameters.FreezeBackboneEpochs} needs a model that names its classifier head; '{job.Model.Name}' does not.");
        model.to(device);

        using var optimizer = CreateOptimizer(settings, model);
        double? best = job.BestObjective;
        for (int epoch = job.StartEpoch; epoch <= job.Epochs; epoch++)
        {
            bool frozen = epoch <= settings.FreezeBackboneEpochs;
            SetBackboneTrainable(model, head, trainable: !frozen);
            var stopwatch = Stopwatch.StartNew();
            var (trainLoss, dataWait) = TrainEpoch(job, settings, model, frozen ? BackboneBatchNorms(model, head) : [], optimizer, trainX, trainY,
                epoch, device, cancellation);
            double seconds = stopwatch.Elapsed.TotalSeconds;

            var validation = Evaluate(model, valX, data.Validation.Labels, settings.InputSize, device, cancellation);
            if (!double.IsFinite(validation.Loss))
                throw new TrainingFailedException($"validation loss became {validation.Loss} at epoch {epoch} (learning rate {settings.LearningRate:G3}).");
            var scores = ClassificationMetrics.Compute(data.Validation.Labels, validation.Predicted, classes);
            var metrics = new Dictionary<string, double>
            {
                [MetricNames.TrainLoss] = trainLoss,
                [MetricNames.ValLoss] = validation.Loss,
                [MetricNames.ValAccuracy] = scores.Accuracy,
                [MetricNames.ValF1Macro] = scores.MacroF1,
                [MetricNames.ValF1Weighted] = scores.WeightedF1,
                [MetricNames.LearningRate] = settings.LearningRateAt(epoch - 1, job.Epochs),
                [MetricNames.EpochSeconds] = seconds,
                [MetricNames.ImagesPerSecond] = data.Train.Count / Math.Max(seconds, 1e-9),
                [MetricNames.DataWaitFraction] = dataWait / Math.Max(seconds, 1e-9),
            };

            if (job.CheckpointFolder is not null)
            {
                double objective = metrics.GetValueOrDefault(job.ObjectiveMetric, double.NaN);
                bool improved = best is null || (job.Maximize ? objective > best : objective < best);
                Checkpoints.Save(model, job.CheckpointFolder, improved);
                if (improved) best = objective;
            }
            if (!onEpoch(new EpochResult(epoch, metrics, scores))) return null;
        }
        return FinalEvaluate(job, model, settings, mean, std, device, cancellation);
    }

    /// <summary>The input the model sees: the data set's images, resized when the input-size setting asks for it.</summary>
    private static InputShape ModelInput(InputShape data, TrainingSettings settings) =>
        settings.InputSize > 0 ? data with { Height = settings.InputSize, Width = settings.InputSize } : data;

    private static (double Loss, double DataWaitSeconds) TrainEpoch(TrainingJob job, TrainingSettings settings, nn.Module<Tensor, Tensor> model,
        IReadOnlyList<nn.Module> frozenNorms, optim.Optimizer optimizer, Tensor x, Tensor y, int epoch, Device device, CancellationToken cancellation)
    {
        model.train();
        foreach (var norm in frozenNorms) norm.eval();
        int n = (int)x.shape[0];
        var order = Enumerable.Range(0, n).ToArray();
        // The order of epoch e depends only on the seed and e, so a resumed trial sees the batches it would have seen.
        new Random(Seeds.Derive(job.Seed, epoch)).Shuffle(order);
        // A last batch of one image would give batch norm a variance over one value; libtorch (unlike PyTorch) does not
        // refuse it and the running statistics turn NaN. Leave that image out of this epoch: the shuffle varies it.
        if (n > 1 && n % settings.BatchSize == 1) order = order[..^1];
        n = order.Length;
        int batches = (n + settings.BatchSize - 1) / settings.BatchSize, b = 0;
        double lossSum = 0;
        using var source = new BatchSource(x, y, order, settings.BatchSize, (settings.Flip, settings.Crop), settings.InputSize,
            Seeds.Derive(job.Seed, -epoch), device);
        foreach (var (bx, by) in source.Batches())
        {
            using var batchX = bx;
            using var batchY = by;
            using var scope = torch.NewDisposeScope();
            cancellation.ThrowIfCancellationRequested();
            double lr = settings.LearningRateAt(epoch - 1 + (double)b / batches, job.Epochs);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(bx), by, label_smoothing: settings.LabelSmoothing);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new TrainingFailedException($"training loss became {value} at epoch {epoch}, batch {b + 1} (learning rate {lr:G3}).");
            loss.backward();
            optimizer.step();
            lossSum += value * bx.shape[0];
            b++;
        }
        return (lossSum / n, source.WaitTime.TotalSeconds);
    }

    private sealed record Evaluation(double Loss, int[] Predicted, double[] Confidence);

    private static Evaluation Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, int[] labels, int inputSize, Device device, CancellationToken cancellation)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        var predicted = new int[labels.Length];
        var confidence = new double[labels.Length];
        double lossSum = 0;
        using var source = new BatchSource(x, torch.tensor(labels, ScalarType.Int64), Enumerable.Range(0, labels.Length).ToArray(),
            256, (false, false), inputSize, 0, device);
        int offset = 0;
        foreach (var (bx, by) in source.Batches())
        {
            using var batchX = bx;
            using var batchY = by;
            using var scope = torch.NewDisposeScope();
            cancellation.ThrowIfCancellationRequested();
            var logits = model.forward(bx);
            lossSum += nn.functional.cross_entropy(logits, by, reduction: nn.Reduction.Sum).item<float>();
            var (top, index) = nn.functional.softmax(logits, 1).max(1);
            index.to(ScalarType.Int32).cpu().data<int>().ToArray().CopyTo(predicted, offset);
            top.to(ScalarType.Float64).cpu().data<double>().ToArray().CopyTo(confidence, offset);
            offset += (int)bx.shape[0];
        }
        return new Evaluation(labels.Length == 0 ? double.NaN : lossSum / labels.Length, predicted, confidence);
    }

    private static FinalEvaluation FinalEvaluate(TrainingJob job, nn.Module<Tensor, Tensor> model, TrainingSettings settings, Tensor mean, Tensor std,
        Device device, CancellationToken cancellation)
    {
        var (split, set) = job.Data.Test is { Count: > 0 } test ? ("test", test) : ("validation", job.Data.Validation);
        var (x, _, _) = Normalised(set, mean, std);
        var evaluation = Evaluate(model, x, set.Labels, settings.InputSize, device, cancellation);
        var scores = ClassificationMetrics.Compute(set.Labels, evaluation.Predicted, job.Data.ClassNames.Count);

        // A seeded sample, misclassified images first, so the gallery shows what the model gets wrong.
        var random = new Random(Seeds.Derive(job.Seed, 0x6a11e7));
        var indices = Enumerable.Range(0, set.Count).ToArray();
        random.Shuffle(indices);
        var chosen = indices.OrderBy(i => evaluation.Predicted[i] == set.Labels[i] ? 1 : 0).Take(job.SampleImages).Order();
        var shape = set.Shape;
        var samples = chosen.Select(i => new SampleImage(i, set.Labels[i], evaluation.Predicted[i], evaluation.Confidence[i],
            Png.Encode(set.Pixels.AsSpan(i * set.ImageSize, set.ImageSize), shape.Channels, shape.Height, shape.Width))).ToList();
        return new FinalEvaluation(split, evaluation.Loss, scores, set.Labels, evaluation.Predicted, evaluation.Confidence, samples);
    }

    /// <summary>Images as an [N, C, H, W] tensor, standardised per channel with the training split's statistics.</summary>
    private static (Tensor X, Tensor Mean, Tensor Std) Normalised(ImageSet set, Tensor? mean, Tensor? std) =>
        Standardisation.Normalised(set, mean, std);

    /// <summary>Builds a trial's model, its initialisation seeded by <paramref name="seed"/>.</summary>
    private static nn.Module<Tensor, Tensor> Build(IModelPlugin plugin, IReadOnlyDictionary<string, ParameterValue> parameters, InputShape data, int classes, int seed)
    {
        lock (InitGate)
        {
            torch.manual_seed(seed);
            return plugin.Build(new ModelSpec(classes, ModelInput(data, TrainingSettings.From(parameters)), parameters));
        }
    }

    /// <summary>
    /// Builds a model as training does, for weights that will be loaded into it (e.g. for Grad-CAM), leaving torch's
    /// process-global generator as it found it: under the build lock, so that it never draws between a trial's seeding
    /// and that trial's build, and with the generator's state restored, so that it does not shift a running trial's draws.
    /// </summary>
    internal static nn.Module<Tensor, Tensor> BuildForWeights(IModelPlugin plugin, IReadOnlyDictionary<string, ParameterValue> parameters, InputShape data, int classes)
    {
        lock (InitGate)
        {
            using var state = torch.get_rng_state();
            try
            {
                return plugin.Build(new ModelSpec(classes, ModelInput(data, TrainingSettings.From(parameters)), parameters));
            }
            finally
            {
                torch.set_rng_state(state);
            }
        }
    }

    private static string[] HeadParameters(IModelPlugin plugin, nn.Module model) =>
        plugin is IHasClassifierHead head
            ? model.named_parameters().Select(p => p.name).Where(n => n.StartsWith(head.ClassifierPrefix, StringComparison.Ordinal)).ToArray()
            : [];

    /// <summary>
    /// The batch-norm layers outside the head. A frozen backbone keeps them in inference mode, as Keras does for a frozen
    /// base model: they normalise with the statistics the weights were trained with, instead of re-estimating them from
    /// the new data's batches while the layers around them cannot adapt.
    /// </summary>
    private static IReadOnlyList<nn.Module> BackboneBatchNorms(nn.Module model, string[] head) =>
        head.Length == 0 ? [] : model.named_modules()
            .Where(m => m.module is TorchSharp.Modules.BatchNorm && !head.Any(h => h.StartsWith(m.name + ".", StringComparison.Ordinal)))
            .Select(m => m.module).ToList();

    private static void SetBackboneTrainable(nn.Module model, string[] head, bool trainable)
    {
        if (head.Length == 0) return;
        foreach (var (name, parameter) in model.named_parameters())
            if (!head.Contains(name)) parameter.requires_grad = trainable;
    }

    private static optim.Optimizer CreateOptimizer(TrainingSettings s, nn.Module model) => s.Optimizer switch
    {
        "adam" => torch.optim.Adam(model.parameters(), s.LearningRate, weight_decay: s.WeightDecay),
        "adamw" => torch.optim.AdamW(model.parameters(), s.LearningRate, weight_decay: s.WeightDecay),
        "sgd" => torch.optim.SGD(model.parameters(), s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay, nesterov: s.Nesterov && s.Momentum > 0),
        "rmsprop" => torch.optim.RMSProp(model.parameters(), s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay),
        _ => throw new TrainingFailedException($"unknown optimizer '{s.Optimizer}' (expected adam, adamw, sgd or rmsprop)."),
    };
}
