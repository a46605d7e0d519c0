using Tracker.Abstractions;
using static TorchSharp.torch;

namespace Tracker.TrainingBench;

/// <summary>
/// A model with next to no arithmetic (global average pooling, then a linear layer on the 3 channel means), so that an
/// epoch's time is the loop's own cost: batching, optimizer step, loss, metrics. <c>--models tiny-linear</c>; the
/// Python baseline builds the same.
/// </summary>
internal sealed class TinyModelPlugin : IModelPlugin
{
    public string Name => "tiny-linear";

    public string Description => "Global average pooling and a linear layer: measures per-batch overhead, not arithmetic.";

    public IReadOnlyList<ParameterSpec> Hyperparameters { get; } = [];

    public nn.Module<Tensor, Tensor> Build(ModelSpec spec) =>
        nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(spec.Input.Channels, spec.ClassCount));
}
