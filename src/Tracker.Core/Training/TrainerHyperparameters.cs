using Tracker.Abstractions;

namespace Tracker.Core.Training;

/// <summary>
/// The hyperparameters the trainer itself understands, so every model gets them, with defaults and search ranges.
/// <see cref="TrainingSettings.From"/> turns a trial's resolved parameters into typed settings.
/// </summary>
public static class TrainerHyperparameters
{
    /// <summary>Learning-rate key.</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>Batch-size key.</summary>
    public const string BatchSize = "batch_size";

    /// <summary>Optimizer key.</summary>
    public const string Optimizer = "optimizer";

    /// <summary>Momentum key (SGD and RMSprop).</summary>
    public const string Momentum = "momentum";

    /// <summary>Nesterov key (SGD).</summary>
    public const string Nesterov = "nesterov";

    /// <summary>Weight-decay key.</summary>
    public const string WeightDecay = "weight_decay";

    /// <summary>Label-smoothing key.</summary>
    public const string LabelSmoothing = "label_smoothing";

    /// <summary>Learning-rate schedule key.</summary>
    public const string Schedule = "lr_schedule";

    /// <summary>Warm-up epochs key.</summary>
    public const string WarmupEpochs = "warmup_epochs";

    /// <summary>Step-schedule period key.</summary>
    public const string StepEpochs = "lr_step_epochs";

    /// <summary>Step-schedule factor key.</summary>
    public const string StepGamma = "lr_step_gamma";

    /// <summary>Input-size key.</summary>
    public const string InputSize = "input_size";

    /// <summary>Augmentation key.</summary>
    public const string Augmentation = "augmentation";

    /// <summary>Backbone-freezing key.</summary>
    public const string FreezeBackboneEpochs = "freeze_backbone_epochs";

    /// <summary>All of them, in form order.</summary>
    public static IReadOnlyList<ParameterSpec> All { get; } =
    [
        new FloatParameter { Name = LearningRate, Low = 1e-5, High = 1, Log = true, Default = 1e-3, Description = "Peak step size of the optimizer." },
        new ChoiceParameter { Name = BatchSize, Values = [8, 16, 32, 64, 128, 256], Default = 32, Description = "Images per training step." },
        new ChoiceParameter { Name = Optimizer, Values = ["adam", "adamw", "sgd", "rmsprop"], Default = "adam", Description = "adamw decouples weight decay." },
        new FloatParameter { Name = Momentum, Low = 0, High = 0.99, Default = 0.9, Description = "Momentum of sgd and rmsprop (ignored by adam/adamw)." },
        new ChoiceParameter { Name = Nesterov, Values = ["false", "true"], Default = "false", Description = "Nesterov momentum (sgd only)." },
        new FloatParameter { Name = WeightDecay, Low = 0, High = 0.1, Default = 0.0, Description = "L2 penalty (decoupled for adamw)." },
        new FloatParameter { Name = LabelSmoothing, Low = 0, High = 0.3, Default = 0.0, Description = "Share of target mass spread over all classes." },
        new ChoiceParameter { Name = Schedule, Values = ["constant", "cosine", "step"], Default = "constant", Description = "After warm-up: keep, cosine-decay to 0, or multiply by gamma every step." },
        new IntParameter { Name = WarmupEpochs, Low = 0, High = 20, Default = 0, Description = "Epochs of linear warm-up from 0 to the learning rate." },
        new IntParameter { Name = StepEpochs, Low = 1, High = 100, Default = 10, Description = "Period of the step schedule, in epochs." },
        new FloatParameter { Name = StepGamma, Low = 0.01, High = 1, Default = 0.1, Description = "Factor of the step schedule." },
        new IntParameter { Name = InputSize, Low = 0, High = 512, Default = 0, Description = "Resize images to this square size on the fly; 0 keeps the data set's size." },
        new ChoiceParameter { Name = Augmentation, Values = ["none", "flip", "crop", "crop+flip"], Default = "none", Description = "Random horizontal flips and/or random crops (pad by 1/8, crop back) of training images." },
        new IntParameter { Name = FreezeBackboneEpochs, Low = 0, High = 1000, Default = 0, Description = "Train only the classifier head for this many epochs (transfer learning)." },
    ];

    /// <summary>The declared default of <paramref name="name"/>.</summary>
    public static ParameterValue DefaultOf(string name) => All.First(p => p.Name == name).Default!.Value;
}

/// <summary>The trainer's settings for one trial, read from its resolved hyperparameters.</summary>
public sealed record TrainingSettings(
    double LearningRate,
    int BatchSize,
    string Optimizer,
    double Momentum,
    bool Nesterov,
    double WeightDecay,
    double LabelSmoothing,
    string Schedule,
    int WarmupEpochs,
    int StepEpochs,
    double StepGamma,
    int InputSize,
    bool Flip,
    bool Crop,
    int FreezeBackboneEpochs)
{
    /// <summary>Reads the settings; missing keys take the declared defaults.</summary>
    public static TrainingSettings From(IReadOnlyDictionary<string, ParameterValue> parameters)
    {
        ParameterValue Get(string name) => parameters.TryGetValue(name, out var v) ? v : TrainerHyperparameters.DefaultOf(name);
        string augmentation = Get(TrainerHyperparameters.Augmentation).AsString();
        return new TrainingSettings(
            Get(TrainerHyperparameters.LearningRate).AsDouble(),
            Math.Max(1, Get(TrainerHyperparameters.BatchSize).AsInt()),
            Get(TrainerHyperparameters.Optimizer).AsString(),
            Get(TrainerHyperparameters.Momentum).AsDouble(),
            Get(TrainerHyperparameters.Nesterov).AsString() == "true",
            Get(TrainerHyperparameters.WeightDecay).AsDouble(),
            Get(TrainerHyperparameters.LabelSmoothing).AsDouble(),
            Get(TrainerHyperparameters.Schedule).AsString(),
            Get(TrainerHyperparameters.WarmupEpochs).AsInt(),
            Math.Max(1, Get(TrainerHyperparameters.StepEpochs).AsInt()),
            Get(TrainerHyperparameters.StepGamma).AsDouble(),
            Get(TrainerHyperparameters.InputSize).AsInt(),
            augmentation.Contains("flip"),
            augmentation.Contains("crop"),
            Get(TrainerHyperparameters.FreezeBackboneEpochs).AsInt());
    }

    /// <summary>
    /// The learning rate at <paramref name="progress"/> epochs into training (fractional: 2.5 is the middle of the
    /// third epoch) of a <paramref name="totalEpochs"/>-epoch run: linear warm-up, then the schedule.
    /// </summary>
    public double LearningRateAt(double progress, int totalEpochs)
    {
        if (WarmupEpochs > 0 && progress < WarmupEpochs)
            return LearningRate * Math.Max(progress, 1e-3) / WarmupEpochs;
        double after = progress - WarmupEpochs;
        return Schedule switch
        {
            "cosine" => LearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(after / Math.Max(1e-9, totalEpochs - WarmupEpochs), 0, 1))),
            "step" => LearningRate * Math.Pow(StepGamma, Math.Floor(after / StepEpochs)),
            _ => LearningRate,
        };
    }
}
