using System.Globalization;

namespace Tracker.Strategies.Tests;

/// <summary>
/// Plays a strategy's ask/tell protocol as the coordinator does, against a synthetic objective, without training
/// anything. Like the coordinator it asks while fewer than <c>parallelism</c> trials run, runs a <c>Next</c> for its
/// epochs (continuing a <see cref="TrialRequest.ResumeFrom"/> source's epochs, recording only the new ones), tells the
/// strategy when a trial ends, and keeps asking after <c>Done</c> until nothing runs. It is stricter than the
/// coordinator: it keeps asking once the trial budget is used (a strategy must say Done itself), and it records every
/// breach of the contract in <see cref="Violations"/> instead of throwing, so a test can assert there were none.
/// </summary>
public sealed class StudySimulator
{
    private readonly List<TrialRecord> trials = [];
    private readonly Random? completionOrder;

    /// <summary>Creates a study, optionally with a history of finished trials (as a restarted server has).</summary>
    /// <param name="strategy">The strategy under test.</param>
    /// <param name="space">The search space.</param>
    /// <param name="maxTrials">The trial budget.</param>
    /// <param name="epochs">The study's epoch budget.</param>
    /// <param name="direction">The objective's direction.</param>
    /// <param name="completionSeed">When set, running trials end in a random order fixed by this seed; else oldest first.</param>
    /// <param name="history">Trials to start from (numbered from 0, in order).</param>
    public StudySimulator(ISearchStrategy strategy, SearchSpace space, int maxTrials = 30, int epochs = 9,
        ObjectiveDirection direction = ObjectiveDirection.Minimize, int? completionSeed = null, IEnumerable<TrialRecord>? history = null)
    {
        Strategy = strategy;
        Space = space;
        MaxTrials = maxTrials;
        Epochs = epochs;
        Direction = direction;
        completionOrder = completionSeed is { } s ? new Random(s) : null;
        Objective = Objectives.Quadratic(space, direction);
        if (history is not null) trials.AddRange(history);
        HistoryCount = trials.Count;
    }

    /// <summary>The number of trials the study started with.</summary>
    public int HistoryCount { get; }

    /// <summary>The ids of the trials whose end the strategy was told of.</summary>
    public HashSet<string> Told { get; } = [];

    /// <summary>The strategy asked and told; replace it to simulate a restart.</summary>
    public ISearchStrategy Strategy { get; set; }

    /// <summary>The search space.</summary>
    public SearchSpace Space { get; }

    /// <summary>The trial budget.</summary>
    public int MaxTrials { get; }

    /// <summary>The study's epochs.</summary>
    public int Epochs { get; }

    /// <summary>The direction.</summary>
    public ObjectiveDirection Direction { get; }

    /// <summary>The objective's value for a point after an epoch (epochs counted from 1). Defaults to <see cref="Objectives.Quadratic"/>.</summary>
    public Func<IReadOnlyDictionary<string, ParameterValue>, int, double> Objective { get; init; }

    /// <summary>How trial number n ends. Defaults to Completed for every trial.</summary>
    public Func<int, TrialState> Outcome { get; init; } = _ => TrialState.Completed;

    /// <summary>Every trial so far, in number order.</summary>
    public IReadOnlyList<TrialRecord> Trials => trials;

    /// <summary>Every answer of the strategy, in order.</summary>
    public List<StrategyDecision> Decisions { get; } = [];

    /// <summary>Every breach of the strategy contract seen.</summary>
    public List<string> Violations { get; } = [];

    /// <summary>The trials running now.</summary>
    public IEnumerable<TrialRecord> Running => trials.Where(t => t.State == TrialState.Running);

    /// <summary>Whether the strategy said Done and nothing runs.</summary>
    public bool IsFinished => Decisions.LastOrDefault() is StrategyDecision.Done && !Running.Any();

    /// <summary>The number of <c>Next</c> answers.</summary>
    public int NextCount => Decisions.Count(d => d is StrategyDecision.Next);

    /// <summary>The strategy's view now.</summary>
    public StudyView View() => new()
    {
        Space = Space,
        Trials = trials.ToList(),
        Direction = Direction,
        MaxTrials = MaxTrials,
        Epochs = Epochs,
    };

    /// <summary>The id given to trial number <paramref name="number"/> (deterministic, so that histories compare).</summary>
    public static string IdOf(int number) => $"t{number}";

    /// <summary>Asks once. A <c>Next</c> becomes a running trial (or, outside the space, a failed one, as the coordinator does).</summary>
    public StrategyDecision Ask()
    {
        var decision = Strategy.Ask(View());
        Decisions.Add(decision);
        switch (decision)
        {
            case StrategyDecision.Next { Request: var request }:
                int number = trials.Count;
                if (number >= MaxTrials)
                    Violations.Add($"trial {number}: Next although the budget of {MaxTrials} trials is used.");
                string? problem = request.Parameters is null ? "no parameters"
                    : Space.Check(request.Parameters) is { } why ? $"outside the space: {why}"
                    : request.Epochs <= 0 ? $"{request.Epochs} epochs"
                    : request.ResumeFrom is { } from && trials.FirstOrDefault(t => t.Id == from) is not { State: not (TrialState.Queued or TrialState.Running) }
                        ? $"resumes '{from}', which is not a finished trial" : null;
                trials.Add(new TrialRecord
                {
                    Id = IdOf(number),
                    Number = number,
                    Parameters = new Dictionary<string, ParameterValue>(request.Parameters ?? new Dictionary<string, ParameterValue>()),
                    State = TrialState.Running,
                    Epochs = request.Epochs,
                    ResumedFrom = request.ResumeFrom,
                });
                if (problem is not null)
                {
                    Violations.Add($"trial {number}: {problem}.");
                    End(number, trials[number] with { State = TrialState.Failed, Error = problem });
                }
                break;
            case StrategyDecision.Wait:
                if (!Running.Any()) Violations.Add($"Wait after {trials.Count} trials with no trial running.");
                break;
            case StrategyDecision.Done { Reason: var reason }:
                if (string.IsNullOrWhiteSpace(reason)) Violations.Add("Done without a reason.");
                break;
            default:
                Violations.Add($"unknown decision {decision}.");
                break;
        }
        return decision;
    }

    /// <summary>Runs trial <paramref name="number"/> to its end (<see cref="Outcome"/> unless given) and tells the strategy.</summary>
    public TrialRecord Finish(int number, TrialState? outcome = null)
    {
        var trial = trials[number];
        if (trial.State != TrialState.Running) throw new InvalidOperationException($"trial {number} is {trial.State}.");
        var state = outcome ?? Outcome(number);
        var source = trial.ResumedFrom is { } from ? trials.First(t => t.Id == from) : null;
        int first = source is null ? 1 : LastStep(source) + 1;
        int last = state switch
        {
            TrialState.Completed => trial.Epochs,
            TrialState.Pruned => Math.Min(trial.Epochs, first + Math.Max(0, (trial.Epochs - first) / 2)),
            TrialState.Interrupted => Math.Min(trial.Epochs, first),
            _ => first - 1, // failed before finishing an epoch
        };
        var intermediate = Enumerable.Range(first, Math.Max(0, last - first + 1))
            .Select(e => new IntermediateValue(e, Objective(trial.Parameters, e))).ToList();
        double? objective = state is TrialState.Completed or TrialState.Pruned
            ? intermediate.Count > 0 ? intermediate[^1].Value : source?.Objective
            : null;
        return End(number, trial with
        {
            State = state,
            Intermediate = intermediate,
            Objective = objective,
            Error = state == TrialState.Failed ? "injected failure" : null,
        });
    }

    /// <summary>Marks every running trial Interrupted (as a restart or a user does), telling the strategy if asked.</summary>
    public void InterruptRunning(bool tell)
    {
        foreach (var t in Running.ToList())
        {
            var ended = t with { State = TrialState.Interrupted };
            if (tell) End(t.Number, ended);
            else trials[t.Number] = ended;
        }
    }

    /// <summary>A copy of this study's trials with another strategy (and a fresh completion order), for restart comparisons.</summary>
    public StudySimulator Fork(ISearchStrategy strategy, int? completionSeed = null) =>
        new(strategy, Space, MaxTrials, Epochs, Direction, completionSeed, trials) { Objective = Objective, Outcome = Outcome };

    /// <summary>
    /// Runs the study: asks while fewer than <paramref name="parallelism"/> trials run, ends one running trial
    /// whenever it cannot ask, and stops when the strategy said Done and nothing runs (or it answered Wait with
    /// nothing running, or <paramref name="stopWhen"/> holds, or after <paramref name="maxAsks"/> asks).
    /// </summary>
    public StudySimulator Run(int parallelism = 1, Func<StudySimulator, bool>? stopWhen = null, int maxAsks = 20_000)
    {
        int asks = 0;
        while (true)
        {
            while (Running.Count() < parallelism)
            {
                if (stopWhen?.Invoke(this) == true) return this;
                if (++asks > maxAsks)
                {
                    Violations.Add($"no Done after {maxAsks} asks.");
                    return this;
                }
                if (Ask() is not StrategyDecision.Next) break;
            }
            if (stopWhen?.Invoke(this) == true) return this;
            var running = Running.ToList();
            if (running.Count == 0) return this;
            Finish(running[completionOrder?.Next(running.Count) ?? 0].Number);
        }
    }

    /// <summary>A comparable description of a trial: its number, request and outcome.</summary>
    public static string Describe(TrialRecord t) =>
        $"#{t.Number} [{string.Join(", ", t.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}] " +
        $"epochs={t.Epochs} from={t.ResumedFrom ?? "-"} {t.State} " +
        $"objective={t.Objective?.ToString("R", CultureInfo.InvariantCulture) ?? "-"}";

    /// <summary>The last step a trial finished (0 if none).</summary>
    public static int LastStep(TrialRecord t) => t.Intermediate.Count == 0 ? 0 : t.Intermediate.Max(v => v.Step);

    private TrialRecord End(int number, TrialRecord ended)
    {
        trials[number] = ended;
        if (!Told.Add(ended.Id)) Violations.Add($"trial {number} ended twice.");
        Strategy.Tell(View(), ended);
        return ended;
    }
}

/// <summary>Synthetic objectives for <see cref="StudySimulator"/>.</summary>
public static class Objectives
{
    /// <summary>
    /// A quadratic bowl on the unit-mapped point (every active parameter's <see cref="ParameterSpec.ToUnit"/> against
    /// 0.3) plus a learning curve 1/epoch, so that configurations rank the same at every epoch and every epoch
    /// improves. Smaller is better when minimising; the negation when maximising.
    /// </summary>
    public static Func<IReadOnlyDictionary<string, ParameterValue>, int, double> Quadratic(SearchSpace space, ObjectiveDirection direction) =>
        (point, epoch) =>
        {
            double loss = Distance(space, point) + 1.0 / epoch;
            return direction == ObjectiveDirection.Minimize ? loss : -loss;
        };

    /// <summary>Σ (unit(v) − 0.3)² over the point's parameters.</summary>
    public static double Distance(SearchSpace space, IReadOnlyDictionary<string, ParameterValue> point) =>
        point.Sum(p => space[p.Key] is { } spec ? Math.Pow(spec.ToUnit(p.Value) - 0.3, 2) : 0);
}
