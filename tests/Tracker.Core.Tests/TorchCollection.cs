using TorchSharp;

namespace Tracker.Core.Tests;

/// <summary>
/// Tests that run libtorch: serial, because the torch seed and thread count are process-wide and two trainings at
/// once on two cores would only slow each other down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection : ICollectionFixture<TorchSettings>
{
    public const string Name = "torch";
}

/// <summary>
/// Fixes libtorch at one thread: the other test classes run in parallel with this collection, and on two cores two
/// torch threads made the suite three times slower (libtorch degrades badly when its threads outnumber free cores).
/// </summary>
public sealed class TorchSettings
{
    public TorchSettings() => torch.set_num_threads(1);
}
