using Tracker.Abstractions;
using Tracker.Core.Analysis;
using Tracker.Core.Experiments;
using Tracker.Server.Components.Shared;

namespace Tracker.Server.Components.Pages;

/// <summary>One small chart of the objective against one parameter.</summary>
/// <param name="Parameter">The parameter.</param>
/// <param name="Series">The trials, and the best trial on top.</param>
/// <param name="LogX">Whether the parameter is log-scaled.</param>
/// <param name="Categories">The choice's values (x = their index), or null for numbers.</param>
public sealed record ParameterScatter(string Parameter, IReadOnlyList<ChartSeries> Series, bool LogX, IReadOnlyList<string>? Categories);

/// <summary>
/// What the experiment page's analytics show, computed from the completed trials: the parallel-coordinates lines,
/// the objective against each parameter, and the parameters' importance.
/// </summary>
public sealed record ExperimentAnalyticsModel(
    IReadOnlyList<ParallelLine> Lines, IReadOnlyList<ParameterScatter> Scatters, ParameterImportanceResult Importance, int? BestNumber)
{
    /// <summary>The trials the analytics use: completed, with a finite objective.</summary>
    public static IReadOnlyList<Trial> Scored(IEnumerable<Trial> trials) =>
        trials.Where(t => t.State == TrialState.Completed && t.Objective is { } v && double.IsFinite(v)).OrderBy(t => t.Number).ToList();

    /// <summary>Builds the analytics of <paramref name="spec"/>'s search from its trials.</summary>
    public static ExperimentAnalyticsModel From(ExperimentSpec spec, IReadOnlyList<Trial> trials)
    {
        var scored = Scored(trials);
        var best = ExperimentSummary.Best(spec.Objective.Direction, scored);
        var lines = scored.Select(t => new ParallelLine(t.Number, t.Parameters, t.Objective!.Value)).ToList();
        var scatters = spec.SearchSpace.Parameters.Select(p => Scatter(p, scored, best, spec.Objective.Direction)).ToList();
        return new ExperimentAnalyticsModel(lines, scatters, ParameterImportance.Estimate(spec.SearchSpace, scored, spec.Seed), best?.Number);
    }

    /// <summary>The importance as bars: one group per parameter, most important first.</summary>
    public (IReadOnlyList<string> Groups, IReadOnlyList<BarSeries> Series) ImportanceBars =>
        (Importance.Parameters.Select(p => p.Parameter).ToList(),
         [new BarSeries("importance", Importance.Parameters.Select(p => p.Importance).ToList(), null, "#8e24aa")]);

    /// <summary>The most trials one scatter carries; beyond it, the best, the last and an even sample of the others.</summary>
    public const int MaxScatterPoints = ExperimentTrials.MaxChartPoints;

    private static ParameterScatter Scatter(ParameterSpec parameter, IReadOnlyList<Trial> scored, Trial? best, ObjectiveDirection direction)
    {
        // Numbers as every page writes them: a sensitivity study's 0.00023978553008078011 reads 2.398e-4.
        var categories = parameter is ChoiceParameter c ? c.Values.Select(v => v.Number is { } n ? Tracker.Core.NumberText.Number(n) : v.AsString()).ToList() : null;
        double? X(Trial t)
        {
            if (!t.Parameters.TryGetValue(parameter.Name, out var v)) return null;
            if (parameter is ChoiceParameter choice) return choice.Values.ToList().IndexOf(v) is >= 0 and var i ? i : null;
            return v.Number;
        }
        var present = ExperimentTrials.Sample(scored.Where(t => X(t) is not null).ToList(), direction, MaxScatterPoints);
        var bestHere = best is not null && X(best) is not null ? new[] { best } : [];
        bool log = parameter is FloatParameter { Log: true } or IntParameter { Log: true };
        return new ParameterScatter(parameter.Name,
        [
            new ChartSeries("trials", present.Select(t => (X(t)!.Value, t.Objective!.Value)).ToList(), "#1e88e5", Line: false,
                Labels: present.Select(t => $"trial #{t.Number}").ToList()),
            new ChartSeries("best", bestHere.Select(t => (X(t)!.Value, t.Objective!.Value)).ToList(), "#43a047", Line: false,
                Labels: bestHere.Select(t => $"trial #{t.Number}").ToList()),
        ], log, categories);
    }
}
