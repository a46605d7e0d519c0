using Tracker.Abstractions;

namespace Tracker.Plugins.Hyperband;

/// <summary>
/// Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh and Talwalkar, JMLR 18(185), 2018): successive halving run over
/// brackets of decreasing aggressiveness, from s = s_max (many configurations, few epochs) down to s = 0 (few
/// configurations at the full budget R), <c>iterations</c> times. Within a bracket, rung i trains n_i configurations
/// to r_i epochs; once every trial of the rung has ended, the best n_{i+1} (by the objective at their last epoch;
/// pruned after completed, failed and interrupted last) are promoted. A promotion is a new trial with the same
/// parameters, <c>Epochs = r_{i+1}</c> and <c>ResumeFrom</c> the trial it continues, so training picks up from that
/// checkpoint, as Keras Tuner does since 1.2 (a source that failed or was interrupted has no usable checkpoint, so
/// its promotion, which happens only when too few trials of the rung have results, starts afresh).
/// </summary>
/// <remarks>
/// Options: <c>max_epochs</c> R (default 0: the study's epochs), <c>eta</c> η (default 3), <c>iterations</c>
/// (default 1), <c>rounding</c> (<c>paper</c> or <c>keras</c>, default <c>paper</c>; see <see cref="HyperbandRounding"/>).
/// Stateless and restart-safe: trial number k fills slot k of the deterministic <see cref="HyperbandPlan"/>, a new
/// configuration in slot k is drawn with <c>Random(Seeds.Derive(seed, k))</c>, and promotions are ranked from the
/// history, so a fresh instance given any history answers as the original would. Rungs run in order: every trial of a
/// rung is handed out at once (they may run in parallel), then the strategy answers <c>Wait</c> until the rung ends.
/// </remarks>
public sealed class HyperbandPlugin : ISearchStrategyPlugin
{
    /// <summary>The option R: the most epochs a configuration is trained; 0 (the default) means the study's epochs.</summary>
    public const string MaxEpochs = "max_epochs";

    /// <summary>The option η: the reduction factor, at least 2. Defaults to 3.</summary>
    public const string Eta = "eta";

    /// <summary>The option naming how many times the whole set of brackets runs. Defaults to 1.</summary>
    public const string Iterations = "iterations";

    /// <summary>The option <c>paper</c> or <c>keras</c>: how sizes and budgets are rounded. Defaults to <c>paper</c>.</summary>
    public const string Rounding = "rounding";

    /// <inheritdoc />
    public string Name => "hyperband";

    /// <inheritdoc />
    public string Description =>
        "Hyperband (Li et al., 2018): brackets of successive halving from aggressive (many configurations, few epochs) to " +
        "conservative; each rung keeps the best 1/eta and promotes them to a larger budget, continuing from their checkpoints.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = MaxEpochs, Low = 0, High = 10_000, Default = 0,
            Description = "R: the most epochs one configuration is trained; 0 uses the experiment's epochs.",
        },
        new IntParameter
        {
            Name = Eta, Low = 2, High = 100, Default = 3,
            Description = "η: each rung keeps the best 1/η of its configurations and gives them η times the epochs.",
        },
        new IntParameter
        {
            Name = Iterations, Low = 1, High = 1000, Default = 1,
            Description = "How many times to run the whole set of brackets.",
        },
        new ChoiceParameter
        {
            Name = Rounding, Values = ["paper", "keras"], Default = "paper",
            Description = "\"paper\": Li et al.'s n_i = ⌊n/η^i⌋ and r_i = ⌊R/η^(s−i)⌋; \"keras\": Keras Tuner's ⌈B/(s+1)·η^(s−i)⌉ and ⌈R/η^(s−i)⌉.",
        },
    ];

    /// <inheritdoc />
    public ISearchStrategy Create(StrategyContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // Validated now, so bad options fail when the strategy is made rather than at some later ask.
        _ = HyperbandPlan.FromOptions(context.Options, 1);
        return new HyperbandStrategy(context.Options, context.Seed);
    }
}

internal sealed class HyperbandStrategy(IReadOnlyDictionary<string, ParameterValue> options, int seed) : ISearchStrategy
{
    private HyperbandPlan? plan;
    private int planEpochs;

    public StrategyDecision Ask(StudyView study)
    {
        // R may default to the study's epochs, which only the view carries.
        if (plan is null || planEpochs != study.Epochs)
            (plan, planEpochs) = (HyperbandPlan.FromOptions(options, study.Epochs), study.Epochs);
        int number = study.Trials.Count;
        if (number >= study.MaxTrials)
            return new StrategyDecision.Done($"all {study.MaxTrials} trials have been asked for");
        if (number >= plan.Count)
            return new StrategyDecision.Done($"all {plan.Iterations} Hyperband iteration(s) of {plan.Count / plan.Iterations} trials (R={plan.MaxEpochs}, η={plan.Eta}) are done");

        var slot = plan[number];
        if (slot.Rung == 0)
        {
            var random = new Random(Seeds.Derive(seed, number));
            return new StrategyDecision.Next(new TrialRequest(study.Space.Sample(random), slot.Epochs));
        }
        if (plan.SourceOf(slot, study.Trials, study.Direction) is not { } source)
            return new StrategyDecision.Wait(); // the previous rung still has trials running
        return new StrategyDecision.Next(new TrialRequest(source.Parameters, slot.Epochs, CanResume(source, slot.Epochs) ? source.Id : null));
    }

    public void Tell(StudyView study, TrialRecord trial)
    {
        // Everything is replayed from the history in Ask.
    }

    // Completed and pruned trials leave a checkpoint of their last epoch; failed and interrupted ones may not.
    private static bool CanResume(TrialRecord source, int epochs) =>
        source.State is TrialState.Completed or TrialState.Pruned
        && source.Intermediate.Count > 0
        && source.Intermediate.Max(v => v.Step) < epochs;
}
