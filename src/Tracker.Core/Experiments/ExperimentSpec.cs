using Tracker.Abstractions;

namespace Tracker.Core.Experiments;

/// <summary>Which data set an experiment trains on, with the provider's options.</summary>
public sealed record DatasetSpec
{
    /// <summary>The provider's name. Defaults to <c>shapes</c>.</summary>
    public string Name { get; init; } = "shapes";

    /// <summary>Provider options; missing ones take the provider's defaults.</summary>
    public Dictionary<string, ParameterValue> Options { get; init; } = [];
}

/// <summary>The metric a search optimises and in which direction.</summary>
public sealed record ObjectiveSpec
{
    /// <summary>A metric recorded every epoch. Defaults to <c>val_f1_macro</c>.</summary>
    public string Metric { get; init; } = MetricNames.ValF1Macro;

    /// <summary>Defaults to maximise.</summary>
    public ObjectiveDirection Direction { get; init; } = ObjectiveDirection.Maximize;
}

/// <summary>Who runs an experiment's trials.</summary>
public enum TrialExecution
{
    /// <summary>The server trains them with the built-in trainer and a model plugin.</summary>
    Builtin,

    /// <summary>Clients ask for trials and report results over HTTP (ask/tell); no model or data set is involved.</summary>
    External,

    /// <summary>
    /// Clients log runs they ran themselves (the MLflow-compatible API, <c>Tracking.RunRegistry</c>): no strategy, search
    /// space, model or data set; the server only records what it is sent.
    /// </summary>
    Logged,
}

/// <summary>
/// Everything that defines an experiment; the same document the dashboard form builds and <c>POST /api/experiments</c>
/// accepts. Parameters not in <see cref="SearchSpace"/> take <see cref="Fixed"/> values, else their declared defaults.
/// </summary>
public sealed record ExperimentSpec
{
    /// <summary>A human name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Who runs the trials. Defaults to <see cref="TrialExecution.Builtin"/>.</summary>
    public TrialExecution Execution { get; init; } = TrialExecution.Builtin;

    /// <summary>The model plugin's name (built-in execution only).</summary>
    public string Model { get; init; } = "";

    /// <summary>The search-strategy plugin's name.</summary>
    public string Strategy { get; init; } = "";

    /// <summary>Strategy options; missing ones take the plugin's defaults.</summary>
    public Dictionary<string, ParameterValue> StrategyOptions { get; init; } = [];

    /// <summary>A pruner plugin that stops unpromising trials early (e.g. <c>asha</c>, <c>median</c>), or <c>null</c> for none.</summary>
    public string? Pruner { get; init; }

    /// <summary>Pruner options; missing ones take the plugin's defaults.</summary>
    public Dictionary<string, ParameterValue> PrunerOptions { get; init; } = [];

    /// <summary>The data set (built-in execution only).</summary>
    public DatasetSpec Dataset { get; init; } = new();

    /// <summary>The hyperparameters to search.</summary>
    public SearchSpace SearchSpace { get; init; } = SearchSpace.Empty;

    /// <summary>Fixed values for hyperparameters that are not searched.</summary>
    public Dictionary<string, ParameterValue> Fixed { get; init; } = [];

    /// <summary>What to optimise.</summary>
    public ObjectiveSpec Objective { get; init; } = new();

    /// <summary>The most trials to run.</summary>
    public int MaxTrials { get; init; } = 10;

    /// <summary>Epochs of a full trial.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>The seed of the strategy, the data split and the trials' weight initialisation.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// The seed that trains trial <paramref name="trialNumber"/> (its weights and batch order): its own stream of
    /// <see cref="Seed"/>, so that the replicas of a sensitivity study, alike but for their numbers, differ by seed alone.
    /// </summary>
    public int TrainingSeed(int trialNumber) => Seeds.Derive(Seed, trialNumber);

    /// <summary>
    /// Pretrained weights to start every trial from (transfer learning): a file name in the weights folder
    /// (<c>Models:WeightsFolder</c>). The classifier head is replaced for the data set's classes. Defaults to none.
    /// </summary>
    public string? InitialWeights { get; init; }

    /// <summary>Set on sensitivity studies (strategy <c>sensitivity</c>): what they re-train. Defaults to none.</summary>
    public SensitivitySpec? Sensitivity { get; init; }

    /// <summary>The most trials of this experiment to run at once (the runner's slots permitting). Defaults to 1.</summary>
    public int MaxConcurrentTrials { get; init; } = 1;
}

/// <summary>Names of the metrics the trainer records.</summary>
public static class MetricNames
{
    /// <summary>Mean training cross-entropy over the epoch.</summary>
    public const string TrainLoss = "train_loss";

    /// <summary>Validation cross-entropy.</summary>
    public const string ValLoss = "val_loss";

    /// <summary>Validation accuracy.</summary>
    public const string ValAccuracy = "val_accuracy";

    /// <summary>Validation macro-averaged F1.</summary>
    public const string ValF1Macro = "val_f1_macro";

    /// <summary>Validation support-weighted F1.</summary>
    public const string ValF1Weighted = "val_f1_weighted";

    /// <summary>The learning rate at the start of the epoch (after warm-up and schedule).</summary>
    public const string LearningRate = "lr";

    /// <summary>Wall-clock seconds of the epoch's training pass (data loading included, validation not).</summary>
    public const string EpochSeconds = "epoch_seconds";

    /// <summary>Training images per second over the epoch.</summary>
    public const string ImagesPerSecond = "images_per_second";

    /// <summary>Share of the training pass spent waiting for batches: near 0 means data loading never starved training.</summary>
    public const string DataWaitFraction = "data_wait_fraction";

    /// <summary>Every quality metric the built-in trainer records each epoch (the candidates for an objective).</summary>
    public static IReadOnlyList<string> Epoch { get; } = [TrainLoss, ValLoss, ValAccuracy, ValF1Macro, ValF1Weighted];

    /// <summary>Test-split (or final validation) metrics recorded once at the end, prefixed <c>test_</c>.</summary>
    public static IReadOnlyList<string> Final { get; } = ["test_loss", "test_accuracy", "test_f1_macro", "test_f1_weighted"];
}
