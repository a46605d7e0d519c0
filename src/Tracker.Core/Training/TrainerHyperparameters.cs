using Tracker.Abstractions;

namespace Tracker.Core.Training;

/// <summary>The hyperparameters the trainer itself understands (every model gets them), with defaults.</summary>
public static class TrainerHyperparameters
{
    /// <summary>Learning-rate key.</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>Batch-size key.</summary>
    public const string BatchSize = "batch_size";

    /// <summary>Optimizer key.</summary>
    public const string Optimizer = "optimizer";

    /// <summary>Weight-decay key.</summary>
    public const string WeightDecay = "weight_decay";

    /// <summary>All of them, in form order.</summary>
    public static IReadOnlyList<ParameterSpec> All { get; } =
    [
        new FloatParameter { Name = LearningRate, Low = 1e-5, High = 1, Log = true, Default = 1e-3, Description = "Step size of the optimizer." },
        new ChoiceParameter { Name = BatchSize, Values = [16, 32, 64, 128], Default = 32, Description = "Images per training step." },
        new ChoiceParameter { Name = Optimizer, Values = ["adam", "adamw", "sgd"], Default = "adam", Description = "sgd uses momentum 0.9." },
        new FloatParameter { Name = WeightDecay, Low = 0, High = 0.1, Default = 0.0, Description = "L2 penalty (decoupled for adamw)." },
    ];
}
