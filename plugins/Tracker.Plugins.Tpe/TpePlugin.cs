using Tracker.Abstractions;

namespace Tracker.Plugins.Tpe;

/// <summary>
/// The tree-structured Parzen estimator (Bergstra et al., 2011), with Optuna's TPESampler as the behavioural
/// reference: the trials are split into a good fraction and the rest, each group is modelled by a Parzen estimator,
/// and the next trial is the candidate drawn from the good model that maximises good-density / rest-density.
/// </summary>
public sealed class TpePlugin : ISearchStrategyPlugin
{
    /// <inheritdoc />
    public string Name => "tpe";

    /// <inheritdoc />
    public string Description =>
        "Tree-structured Parzen estimator (as Optuna's TPESampler): models the best trials and the rest with kernel " +
        "densities and picks the candidate most typical of the best. Cheap per suggestion, handles choices and " +
        "conditional parameters natively; multivariate by default.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter
        {
            Name = "initial_random", Low = 0, High = 10_000, Default = 10,
            Description = "Trials drawn at random (exactly as the random strategy with the same seed) before the estimators are used.",
        },
        new FloatParameter
        {
            Name = "gamma", Low = 0.01, High = 1, Default = 0.1,
            Description = "The fraction of finished trials counted as good: ceil(gamma·n), at most 25 (Optuna's default rule).",
        },
        new IntParameter
        {
            Name = "candidates", Low = 1, High = 100_000, Default = 24,
            Description = "Candidates drawn from the good trials' estimator per suggestion; the best ratio wins.",
        },
        new ChoiceParameter
        {
            Name = "multivariate", Values = ["true", "false"], Default = "true",
            Description = "true: draw all parameters jointly from one good trial's kernel (captures interactions); " +
                "false: each parameter independently (Optuna's default TPE).",
        },
        new FloatParameter
        {
            Name = "prior_weight", Low = 0, High = 100, Default = 1.0,
            Description = "The weight of the uniform-like prior component in each estimator, against 1 per trial.",
        },
        new ChoiceParameter
        {
            Name = "consider_endpoints", Values = ["false", "true"], Default = "false",
            Description = "Whether the range ends count as neighbours when sizing the outermost kernels.",
        },
        new ChoiceParameter
        {
            Name = "constant_liar", Values = ["true", "false"], Default = "true",
            Description = "true: trials still running count among the bad ones, so parallel suggestions avoid them.",
        },
    ];

    /// <inheritdoc />
    public ISearchStrategy Create(StrategyContext context) => new TpeStrategy(context.Seed, TpeOptions.From(context.Options));
}

/// <summary>The options of <see cref="TpePlugin"/>, parsed; absent ones take their defaults.</summary>
internal sealed record TpeOptions
{
    public int InitialRandom { get; init; } = 10;
    public double Gamma { get; init; } = 0.1;
    public int Candidates { get; init; } = 24;
    public bool Multivariate { get; init; } = true;
    public double PriorWeight { get; init; } = 1.0;
    public bool ConsiderEndpoints { get; init; }
    public bool ConstantLiar { get; init; } = true;

    public static TpeOptions From(IReadOnlyDictionary<string, ParameterValue> options)
    {
        var result = new TpeOptions();
        if (options.TryGetValue("initial_random", out var v)) result = result with { InitialRandom = Math.Max(0, v.AsInt()) };
        if (options.TryGetValue("gamma", out v)) result = result with { Gamma = Math.Clamp(v.AsDouble(), 1e-6, 1) };
        if (options.TryGetValue("candidates", out v)) result = result with { Candidates = Math.Max(1, v.AsInt()) };
        if (options.TryGetValue("multivariate", out v)) result = result with { Multivariate = Flag("multivariate", v) };
        if (options.TryGetValue("prior_weight", out v)) result = result with { PriorWeight = Math.Max(0, v.AsDouble()) };
        if (options.TryGetValue("consider_endpoints", out v)) result = result with { ConsiderEndpoints = Flag("consider_endpoints", v) };
        if (options.TryGetValue("constant_liar", out v)) result = result with { ConstantLiar = Flag("constant_liar", v) };
        return result;
    }

    private static bool Flag(string name, ParameterValue value) => value.AsString().ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        var other => throw new ArgumentException($"{name}: '{other}' is not true or false."),
    };
}
