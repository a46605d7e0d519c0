using TorchSharp;

// Every test runs libtorch: the seed and thread count are process-wide, so tests run one at a time, each on both cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: AssemblyFixture(typeof(Tracker.Models.Tests.TorchSettings))]

namespace Tracker.Models.Tests;

/// <summary>Caps libtorch at two threads: this machine has two cores, and more threads than cores slows libtorch badly.</summary>
public sealed class TorchSettings
{
    public TorchSettings() => torch.set_num_threads(2);
}
