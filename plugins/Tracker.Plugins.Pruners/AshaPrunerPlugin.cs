using Tracker.Abstractions;

namespace Tracker.Plugins.Pruners;

/// <summary>
/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020),
/// as Optuna's <c>SuccessiveHalvingPruner</c>. Rungs sit at steps r·η^(s+k), k = 0, 1, …, for options
/// <c>min_epochs</c> r (default 1), <c>reduction_factor</c> η (default 3) and <c>min_early_stopping_rate</c> s
/// (default 0). When a trial reports a rung step, it goes on only if its value there is among the best ⌊n/η⌋ of the
/// n values that all trials (itself included, any state) have reported at that step so far; otherwise it is pruned.
/// </summary>
/// <remarks>
/// As in Optuna, while fewer than η values are known at a rung (⌊n/η⌋ = 0) a trial goes on only if it is the best
/// so far there, and a value equal to the cut-off goes on. Only a value reported at exactly the rung step counts (the
/// engine reports every epoch; a trial resumed past a rung does not compete in it). A non-finite value reported at
/// a rung is pruned. Stateless: decides from <see cref="StudyView.Trials"/> alone.
/// </remarks>
public sealed class AshaPrunerPlugin : IPrunerPlugin
{
    /// <summary>The option r: the step of the first rung (with s = 0). Defaults to 1.</summary>
    public const string MinEpochs = "min_epochs";

    /// <summary>The option η: the rung spacing and the fraction 1/η kept. Defaults to 3.</summary>
    public const string ReductionFactor = "reduction_factor";

    /// <summary>The option s: skips the first s rungs (the first rung is at r·η^s). Defaults to 0.</summary>
    public const string MinEarlyStoppingRate = "min_early_stopping_rate";

    /// <inheritdoc />
    public string Name => "asha";

    /// <inheritdoc />
    public string Description =>
        "Asynchronous successive halving (ASHA, as Optuna's SuccessiveHalvingPruner): at epochs r·η^(s+k) a trial goes on " +
        "only if it is in the best 1/η of the values recorded at that epoch so far.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = MinEpochs, Low = 1, High = 10_000, Default = 1,
            Description = "r: the epoch of the first rung.",
        },
        new IntParameter
        {
            Name = ReductionFactor, Low = 2, High = 100, Default = 3,
            Description = "η: rungs are η times apart and keep the best 1/η.",
        },
        new IntParameter
        {
            Name = MinEarlyStoppingRate, Low = 0, High = 30, Default = 0,
            Description = "s: the first rung is at r·η^s.",
        },
    ];

    /// <inheritdoc />
    public IPruner Create(PrunerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new AshaPruner(
            PrunerSupport.Int(context.Options, MinEpochs, 1, min: 1),
            PrunerSupport.Int(context.Options, ReductionFactor, 3, min: 2),
            PrunerSupport.Int(context.Options, MinEarlyStoppingRate, 0, min: 0));
    }
}

/// <summary>Asynchronous successive halving; see <see cref="AshaPrunerPlugin"/>.</summary>
public sealed class AshaPruner : IPruner
{
    private readonly int minEpochs, eta, minEarlyStoppingRate;

    /// <summary>Creates the pruner.</summary>
    /// <param name="minEpochs">r, at least 1.</param>
    /// <param name="eta">η, at least 2.</param>
    /// <param name="minEarlyStoppingRate">s, at least 0.</param>
    public AshaPruner(int minEpochs, int eta, int minEarlyStoppingRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minEpochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eta, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(minEarlyStoppingRate);
        (this.minEpochs, this.eta, this.minEarlyStoppingRate) = (minEpochs, eta, minEarlyStoppingRate);
    }

    /// <summary>Whether <paramref name="step"/> is a rung step r·η^(s+k) for some k ≥ 0.</summary>
    public bool IsRung(int step)
    {
        long rung = minEpochs;
        for (int i = 0; i < minEarlyStoppingRate && rung <= step; i++) rung *= eta;
        while (rung < step) rung *= eta;
        return rung == step;
    }

    /// <inheritdoc />
    public PruneDecision OnReport(StudyView study, TrialRecord trial, IntermediateValue value)
    {
        ArgumentNullException.ThrowIfNull(study);
        ArgumentNullException.ThrowIfNull(trial);
        if (!IsRung(value.Step)) return PruneDecision.Continue;
        if (!double.IsFinite(value.Value)) return PruneDecision.Prune;

        bool minimize = study.Direction == ObjectiveDirection.Minimize;
        var competing = study.Trials.Where(t => t.Id != trial.Id)
            .Select(t => PrunerSupport.ValueAt(t, value.Step)).OfType<double>()
            .Append(value.Value)
            .OrderBy(v => minimize ? v : -v)
            .ToList();
        int keep = Math.Max(1, competing.Count / eta);
        double cutoff = competing[keep - 1];
        bool promotable = minimize ? value.Value <= cutoff : value.Value >= cutoff;
        return promotable ? PruneDecision.Continue : PruneDecision.Prune;
    }
}

internal static class PrunerSupport
{
    public static int Int(IReadOnlyDictionary<string, ParameterValue> options, string name, int fallback, int min)
    {
        int value = options.TryGetValue(name, out var v) ? v.AsInt() : fallback;
        return value >= min ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least {min}.");
    }

    /// <summary>The finite value a trial reported at exactly <paramref name="step"/>, or <c>null</c>.</summary>
    public static double? ValueAt(TrialRecord trial, int step)
    {
        foreach (var v in trial.Intermediate)
            if (v.Step == step) return double.IsFinite(v.Value) ? v.Value : null;
        return null;
    }
}
