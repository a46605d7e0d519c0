using System.Globalization;
using Tracker.Abstractions;

namespace Tracker.Plugins.Bayesian;

/// <summary>
/// Gaussian-process Bayesian optimisation: a Matérn 5/2 ARD GP fitted by maximum marginal likelihood on the trials so
/// far, and the next trial where expected improvement (or UCB) is largest. Deterministic given the seed and history.
/// </summary>
public sealed class BayesianPlugin : ISearchStrategyPlugin
{
    /// <inheritdoc />
    public string Name => "bayesian";

    /// <inheritdoc />
    public string Description =>
        "Bayesian optimisation with a Gaussian process (Matérn 5/2 kernel, one length scale per dimension, fitted by " +
        "marginal likelihood with weak priors) and expected improvement or UCB. Best with small budgets of expensive trials; categorical " +
        "and conditional parameters are supported, parallel trials are spread out with a constant liar.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = "initial_random", Low = 0, High = 10_000, Default = 10,
            Description = "Trials drawn at random (exactly as the random strategy with the same seed) before the GP is used.",
        },
        new ChoiceParameter
        {
            Name = "acquisition", Values = ["ei", "ucb"], Default = "ei",
            Description = "ei: expected improvement over the best value (minus xi); ucb: mean plus sqrt(ucb_beta) standard deviations.",
        },
        new FloatParameter
        {
            Name = "ucb_beta", Low = 0, High = 100, Default = 2.0,
            Description = "UCB's beta: the bound is mean + sqrt(beta)·sd, in standardised units. Larger explores more.",
        },
        new FloatParameter
        {
            Name = "xi", Low = 0, High = 10, Default = 0.001,
            Description = "EI's exploration margin, in standard deviations of the observed objective.",
        },
        new ChoiceParameter
        {
            Name = "parallel_strategy", Values = ["constant_liar", "constant_liar_mean", "constant_liar_worst", "kriging_believer"],
            Default = "constant_liar",
            Description = "What the GP assumes for trials still running: the best value so far (constant_liar), the mean, " +
                "the worst, or its own prediction (kriging_believer). Each keeps parallel suggestions apart.",
        },
        new ChoiceParameter
        {
            Name = "fit", Values = ["map", "mle"], Default = "map",
            Description = "How the GP's length scales, signal and noise are fitted: map adds weak Gamma priors to the " +
                "marginal likelihood (steadier with few trials); mle maximises the likelihood alone.",
        },
        new IntParameter
        {
            Name = "candidates", Low = 10, High = 1_000_000, Default = 2000,
            Description = "Random candidates screened per suggestion before the 10 best are refined locally.",
        },
    ];

    /// <inheritdoc />
    public ISearchStrategy Create(StrategyContext context) =>
        new BayesianStrategy(context.Seed, BayesianOptions.From(context.Options));
}

/// <summary>The options of <see cref="BayesianPlugin"/>, parsed; absent ones take their defaults.</summary>
internal sealed record BayesianOptions
{
    public int InitialRandom { get; init; } = 10;
    public AcquisitionKind Acquisition { get; init; } = AcquisitionKind.ExpectedImprovement;
    public double UcbBeta { get; init; } = 2.0;
    public double Xi { get; init; } = 0.001;
    public ParallelStrategy Parallel { get; init; } = ParallelStrategy.ConstantLiar;
    public int Candidates { get; init; } = 2000;
    public bool Priors { get; init; } = true;

    public static BayesianOptions From(IReadOnlyDictionary<string, ParameterValue> options)
    {
        var result = new BayesianOptions();
        if (options.TryGetValue("initial_random", out var v)) result = result with { InitialRandom = Math.Max(0, v.AsInt()) };
        if (options.TryGetValue("acquisition", out v))
            result = result with
            {
                Acquisition = v.AsString().ToLowerInvariant() switch
                {
                    "ei" => AcquisitionKind.ExpectedImprovement,
                    "ucb" => AcquisitionKind.UpperConfidenceBound,
                    var other => throw new ArgumentException($"acquisition: '{other}' is not one of ei, ucb."),
                },
            };
        if (options.TryGetValue("ucb_beta", out v)) result = result with { UcbBeta = Math.Max(0, v.AsDouble()) };
        if (options.TryGetValue("xi", out v)) result = result with { Xi = Math.Max(0, v.AsDouble()) };
        if (options.TryGetValue("parallel_strategy", out v))
            result = result with
            {
                Parallel = v.AsString().ToLowerInvariant() switch
                {
                    "constant_liar" => ParallelStrategy.ConstantLiar,
                    "constant_liar_mean" => ParallelStrategy.ConstantLiarMean,
                    "constant_liar_worst" => ParallelStrategy.ConstantLiarWorst,
                    "kriging_believer" => ParallelStrategy.KrigingBeliever,
                    var other => throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"parallel_strategy: '{other}' is not one of constant_liar, constant_liar_mean, constant_liar_worst, kriging_believer.")),
                },
            };
        if (options.TryGetValue("candidates", out v)) result = result with { Candidates = Math.Max(10, v.AsInt()) };
        if (options.TryGetValue("fit", out v))
            result = result with
            {
                Priors = v.AsString().ToLowerInvariant() switch
                {
                    "map" => true,
                    "mle" => false,
                    var other => throw new ArgumentException($"fit: '{other}' is not one of map, mle."),
                },
            };
        return result;
    }
}

/// <summary>What the GP assumes about trials that have no result yet.</summary>
internal enum ParallelStrategy
{
    ConstantLiar,
    ConstantLiarMean,
    ConstantLiarWorst,
    KrigingBeliever,
}
