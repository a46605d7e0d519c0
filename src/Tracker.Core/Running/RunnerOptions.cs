namespace Tracker.Core.Running;

/// <summary>Options of the trial runner, bound to <c>Runner</c> in appsettings.json.</summary>
public sealed class RunnerOptions
{
    /// <summary>
    /// Devices to run trials on: "auto" (every GPU when CUDA is present, else the CPU), "cpu", "cuda:0", ...
    /// Defaults to <c>["auto"]</c>.
    /// </summary>
    public string[] Devices { get; set; } = ["auto"];

    /// <summary>Trials run at once on each device. Defaults to 1.</summary>
    public int TrialsPerDevice { get; set; } = 1;

    /// <summary>
    /// libtorch intra-op threads (process-wide). 0 divides all cores but one among the CPU slots (at least 1 thread).
    /// libtorch slows down many-fold when its threads outnumber free cores (other trials, the web server, batch
    /// prefetching), so keep threads × CPU slots below the core count. Defaults to 0.
    /// </summary>
    public int TorchThreads { get; set; }

    /// <summary>How often the runner re-checks experiments when nothing wakes it, in milliseconds. Defaults to 1000.</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>
    /// How many times a built-in trial may be started in all. A trial that a server stop or crash cuts off is queued to
    /// run again (same id, number and parameters, resuming from its last epoch checkpoint) until it has been started
    /// this many times; after that it ends <c>Failed</c>, saying how many attempts were made. 1 never re-runs a trial.
    /// Defaults to 3.
    /// </summary>
    public int MaxTrialAttempts { get; set; } = 3;
}
