using Tracker.Abstractions;

namespace Tracker.Plugins.Hyperband;

/// <summary>How bracket sizes and rung budgets are rounded to whole trials and epochs.</summary>
public enum HyperbandRounding
{
    /// <summary>
    /// Li et al., JMLR 2018, Algorithm 1, in exact integer arithmetic. With s_max = ⌊log_η R⌋ (the largest s with
    /// η^s ≤ R), bracket s ∈ {s_max, …, 0} starts n = ⌈(s_max+1)·η^s / (s+1)⌉ configurations, and rung
    /// i ∈ {0, …, s} has n_i = ⌊n / η^i⌋ configurations trained to r_i = ⌊R / η^(s−i)⌋ epochs (the paper's
    /// r·η^i with r = R·η^−s, rounded down; exact when R is a power of η, and r_s = R always). Each rung keeps the
    /// best ⌊n_i / η⌋ = n_{i+1}.
    /// </summary>
    Paper,

    /// <summary>
    /// Keras Tuner's <c>HyperbandOracle</c> (keras_tuner/tuners/hyperband.py, <c>_get_size</c> and
    /// <c>_get_epochs</c>). Same brackets s ∈ {s_max, …, 0}; with B = ⌈1 + log_η R⌉, rung i of bracket s has
    /// n_i = ⌈B/(s+1) · η^(s−i)⌉ configurations trained to r_i = ⌈R / η^(s−i)⌉ epochs, and keeps the best n_{i+1}.
    /// Each rung size is rounded up on its own instead of dividing the rounded bracket size, so later rungs keep
    /// more configurations than the paper (R=81, η=3, s=3: 34, 12, 4, 2 against 34, 11, 3, 1), and budgets are
    /// rounded up instead of down. B is computed exactly (s_max+1 when R is a power of η, else s_max+2), where
    /// Python's floating-point <c>math.log</c> can overshoot an exact power by one (e.g. R=125, η=5).
    /// </summary>
    Keras,
}

/// <summary>One rung of a bracket: this many configurations, each trained until it has this many epochs in total.</summary>
/// <param name="Configurations">n_i, the number of configurations (trials) in the rung.</param>
/// <param name="Epochs">r_i, the cumulative epoch budget of each configuration at the end of the rung.</param>
public readonly record struct HyperbandRung(int Configurations, int Epochs);

/// <summary>One bracket of successive halving.</summary>
/// <param name="S">Its index s: s = s_max is the most aggressive (most configurations, fewest epochs), s = 0 is plain random search at the full budget.</param>
/// <param name="Rungs">Its s + 1 rungs, from the first (most configurations) to the last.</param>
public sealed record HyperbandBracket(int S, IReadOnlyList<HyperbandRung> Rungs)
{
    /// <summary>The number of trials the bracket asks for: one per configuration per rung (a promotion is a new trial).</summary>
    public int Trials => Rungs.Sum(r => r.Configurations);

    /// <summary>
    /// The epochs the bracket trains when every promotion continues its source's checkpoint:
    /// Σ_i n_i · (r_i − r_{i−1}) with r_{−1} = 0.
    /// </summary>
    public long EpochBudget => Rungs.Select((r, i) => (long)r.Configurations * (r.Epochs - (i == 0 ? 0 : Rungs[i - 1].Epochs))).Sum();
}

/// <summary>The bracket schedule of Hyperband (Li et al., JMLR 2018).</summary>
public static class HyperbandSchedule
{
    /// <summary>s_max = ⌊log_η R⌋, computed exactly: the largest s with η^s ≤ R.</summary>
    public static int MaxBracket(int maxEpochs, int eta)
    {
        Check(maxEpochs, eta);
        int s = 0;
        for (long power = eta; power <= maxEpochs; power *= eta) s++;
        return s;
    }

    /// <summary>
    /// The brackets for a maximum budget of <paramref name="maxEpochs"/> epochs (R) and reduction factor
    /// <paramref name="eta"/> (η), from the most aggressive (s = s_max) down to s = 0. See
    /// <see cref="HyperbandRounding"/> for the two roundings.
    /// </summary>
    public static IReadOnlyList<HyperbandBracket> Brackets(int maxEpochs, int eta, HyperbandRounding rounding)
    {
        int sMax = MaxBracket(maxEpochs, eta);
        long keras = Power(eta, sMax) == maxEpochs ? sMax + 1 : sMax + 2; // ⌈1 + log_η R⌉, exactly
        var brackets = new List<HyperbandBracket>(sMax + 1);
        for (int s = sMax; s >= 0; s--)
        {
            var rungs = new List<HyperbandRung>(s + 1);
            long n = CeilDiv((sMax + 1) * Power(eta, s), s + 1);
            for (int i = 0; i <= s; i++)
            {
                long down = Power(eta, s - i);
                rungs.Add(rounding switch
                {
                    HyperbandRounding.Paper => new HyperbandRung(checked((int)(n / Power(eta, i))), (int)(maxEpochs / down)),
                    HyperbandRounding.Keras => new HyperbandRung(checked((int)CeilDiv(keras * down, s + 1)), (int)CeilDiv(maxEpochs, down)),
                    _ => throw new ArgumentOutOfRangeException(nameof(rounding), rounding, "unknown rounding."),
                });
            }
            brackets.Add(new HyperbandBracket(s, rungs));
        }
        return brackets;
    }

    /// <summary>Parses the <c>rounding</c> option: <c>paper</c> or <c>keras</c> (case-insensitive).</summary>
    public static HyperbandRounding ParseRounding(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "paper" => HyperbandRounding.Paper,
        "keras" => HyperbandRounding.Keras,
        _ => throw new ArgumentException($"rounding must be 'paper' or 'keras', not '{text}'.", nameof(text)),
    };

    private static void Check(int maxEpochs, int eta)
    {
        if (maxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(maxEpochs), maxEpochs, "the maximum budget R must be at least 1 epoch.");
        if (eta < 2) throw new ArgumentOutOfRangeException(nameof(eta), eta, "the reduction factor η must be at least 2.");
    }

    // η^s ≤ R ≤ int.MaxValue throughout, so these fit a long; the products with s_max+1 ≤ 32 do too.
    private static long Power(int eta, int exponent)
    {
        long p = 1;
        for (int i = 0; i < exponent; i++) p *= eta;
        return p;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}

/// <summary>Where one trial sits in a <see cref="HyperbandPlan"/>.</summary>
/// <param name="Index">The slot's number: the trial number that fills it.</param>
/// <param name="Iteration">The Hyperband iteration, from 0.</param>
/// <param name="Bracket">The bracket's s (s_max first).</param>
/// <param name="Rung">The rung within the bracket, from 0.</param>
/// <param name="Position">The position within the rung, from 0; for a promotion, the rank of its source in the previous rung.</param>
/// <param name="Epochs">The rung's cumulative epoch budget r_i (the trial's <see cref="TrialRequest.Epochs"/>).</param>
public readonly record struct HyperbandSlot(int Index, int Iteration, int Bracket, int Rung, int Position, int Epochs);

/// <summary>A trial of a Hyperband experiment, labelled for display.</summary>
/// <param name="TrialId">The trial.</param>
/// <param name="Number">Its number.</param>
/// <param name="Slot">Its place in the schedule.</param>
/// <param name="PromotedFrom">For rung &gt; 0, the trial of the previous rung whose configuration it continues
/// (its <see cref="TrialRecord.ResumedFrom"/> unless that trial had no checkpoint to resume), else <c>null</c>.</param>
/// <param name="PromotedTo">The trial of the next rung that continues this one's configuration, or <c>null</c>
/// (not promoted, or the next rung has not started).</param>
public sealed record HyperbandTrialLabel(string TrialId, int Number, HyperbandSlot Slot, string? PromotedFrom, string? PromotedTo);

/// <summary>
/// The whole deterministic schedule of a Hyperband experiment, laid out as numbered slots: for each iteration, for
/// each bracket from s_max down to 0, for each rung, its n_i slots. Trial number k fills slot k, so a trial's
/// bracket and rung follow from its number alone, and the schedule can be replayed against any history.
/// </summary>
public sealed class HyperbandPlan
{
    private readonly int[] bracketStarts; // slot index at which each bracket of one iteration starts
    private readonly int iterationSize;

    /// <summary>Lays out the schedule.</summary>
    /// <param name="maxEpochs">R, the most epochs one configuration is trained.</param>
    /// <param name="eta">η, the reduction factor; at least 2.</param>
    /// <param name="rounding">How sizes and budgets are rounded.</param>
    /// <param name="iterations">How many times the whole set of brackets runs; at least 1.</param>
    public HyperbandPlan(int maxEpochs, int eta, HyperbandRounding rounding, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        MaxEpochs = maxEpochs;
        Eta = eta;
        Rounding = rounding;
        Iterations = iterations;
        Brackets = HyperbandSchedule.Brackets(maxEpochs, eta, rounding);
        bracketStarts = new int[Brackets.Count];
        int at = 0;
        for (int b = 0; b < Brackets.Count; b++)
        {
            bracketStarts[b] = at;
            at = checked(at + Brackets[b].Trials);
        }
        iterationSize = at;
        Count = checked(iterationSize * iterations);
    }

    /// <summary>R.</summary>
    public int MaxEpochs { get; }

    /// <summary>η.</summary>
    public int Eta { get; }

    /// <summary>The rounding.</summary>
    public HyperbandRounding Rounding { get; }

    /// <summary>The number of iterations.</summary>
    public int Iterations { get; }

    /// <summary>The brackets of one iteration, s_max first.</summary>
    public IReadOnlyList<HyperbandBracket> Brackets { get; }

    /// <summary>The number of slots (trials) in the whole plan.</summary>
    public int Count { get; }

    /// <summary>The epochs the whole plan trains when every promotion continues its source's checkpoint.</summary>
    public long EpochBudget => Iterations * Brackets.Sum(b => b.EpochBudget);

    /// <summary>Slot number <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public HyperbandSlot this[int index]
    {
        get
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the plan has {Count} slots.");
            int iteration = index / iterationSize, offset = index % iterationSize;
            int b = Brackets.Count - 1;
            while (bracketStarts[b] > offset) b--;
            var bracket = Brackets[b];
            offset -= bracketStarts[b];
            int rung = 0;
            while (offset >= bracket.Rungs[rung].Configurations) offset -= bracket.Rungs[rung++].Configurations;
            return new HyperbandSlot(index, iteration, bracket.S, rung, offset, bracket.Rungs[rung].Epochs);
        }
    }

    /// <summary>The first slot index of a rung and its size.</summary>
    public (int Start, int Count) RungSlots(int iteration, int bracketS, int rung)
    {
        int b = Brackets.Count - 1 - bracketS; // brackets are listed from s_max down
        var bracket = Brackets[b];
        int start = iteration * iterationSize + bracketStarts[b];
        for (int i = 0; i < rung; i++) start += bracket.Rungs[i].Configurations;
        return (start, bracket.Rungs[rung].Configurations);
    }

    /// <summary>
    /// The plan a <c>hyperband</c> strategy with these options follows in a study of <paramref name="studyEpochs"/>
    /// epochs (a <c>max_epochs</c> of 0 or absent means the study's epochs). Missing options take their defaults.
    /// </summary>
    public static HyperbandPlan FromOptions(IReadOnlyDictionary<string, ParameterValue> options, int studyEpochs)
    {
        ArgumentNullException.ThrowIfNull(options);
        int r = options.TryGetValue(HyperbandPlugin.MaxEpochs, out var m) ? m.AsInt() : 0;
        int eta = options.TryGetValue(HyperbandPlugin.Eta, out var e) ? e.AsInt() : 3;
        int iterations = options.TryGetValue(HyperbandPlugin.Iterations, out var i) ? i.AsInt() : 1;
        var rounding = HyperbandSchedule.ParseRounding(options.TryGetValue(HyperbandPlugin.Rounding, out var x) ? x.AsString() : null);
        return new HyperbandPlan(r > 0 ? r : studyEpochs, eta, rounding, iterations);
    }

    /// <summary>
    /// The configurations of a finished rung, best first: completed trials by their objective at their last epoch
    /// (respecting <paramref name="direction"/>), then pruned trials likewise, then failed and interrupted trials
    /// (and any without a finite value); ties by trial number. The first n_{i+1} are promoted.
    /// </summary>
    public static IReadOnlyList<TrialRecord> Rank(IEnumerable<TrialRecord> rung, ObjectiveDirection direction)
    {
        ArgumentNullException.ThrowIfNull(rung);
        return rung.Select(t => (Trial: t, Value: LastValue(t)))
            .Select(x => (x.Trial, Group: x.Value is null ? 2 : x.Trial.State switch { TrialState.Completed => 0, TrialState.Pruned => 1, _ => 2 }, x.Value))
            .OrderBy(x => x.Group)
            .ThenBy(x => x.Group == 2 ? 0 : direction == ObjectiveDirection.Minimize ? x.Value!.Value : -x.Value!.Value)
            .ThenBy(x => x.Trial.Number)
            .Select(x => x.Trial)
            .ToList();
    }

    /// <summary>
    /// Labels the trials of a history (in number order) with their slots and promotion links, by replaying the plan
    /// as the strategy does. Trials beyond the plan are left out.
    /// </summary>
    public IReadOnlyList<HyperbandTrialLabel> Label(IReadOnlyList<TrialRecord> trials, ObjectiveDirection direction)
    {
        ArgumentNullException.ThrowIfNull(trials);
        int count = Math.Min(trials.Count, Count);
        var from = new string?[count];
        var to = new string?[count];
        var rankings = new Dictionary<(int Iteration, int Bracket, int Rung), IReadOnlyList<TrialRecord>?>();
        for (int k = 0; k < count; k++)
        {
            var slot = this[k];
            if (slot.Rung == 0) continue;
            (int Iteration, int Bracket, int Rung) key = (slot.Iteration, slot.Bracket, slot.Rung - 1);
            if (!rankings.TryGetValue(key, out var ranked)) rankings[key] = ranked = RankedRung(key.Iteration, key.Bracket, key.Rung, trials, direction);
            if (ranked is null) continue;
            var source = ranked[slot.Position];
            from[k] = source.Id;
            if (source.Number >= 0 && source.Number < count && trials[source.Number].Id == source.Id) to[source.Number] = trials[k].Id;
        }
        return trials.Take(count).Select((t, k) => new HyperbandTrialLabel(t.Id, t.Number, this[k], from[k], to[k])).ToList();
    }

    /// <summary>
    /// The trial of the previous rung that a promotion slot continues, or <c>null</c> while that rung still has a
    /// trial running (or not yet asked for).
    /// </summary>
    public TrialRecord? SourceOf(HyperbandSlot slot, IReadOnlyList<TrialRecord> trials, ObjectiveDirection direction)
    {
        ArgumentNullException.ThrowIfNull(trials);
        return slot.Rung == 0 ? null : RankedRung(slot.Iteration, slot.Bracket, slot.Rung - 1, trials, direction)?[slot.Position];
    }

    private IReadOnlyList<TrialRecord>? RankedRung(int iteration, int bracketS, int rung, IReadOnlyList<TrialRecord> trials, ObjectiveDirection direction)
    {
        var (start, count) = RungSlots(iteration, bracketS, rung);
        if (start + count > trials.Count) return null;
        var members = Enumerable.Range(start, count).Select(i => trials[i]).ToList();
        return members.Any(t => t.State is TrialState.Queued or TrialState.Running) ? null : Rank(members, direction);
    }

    /// <summary>The objective at a trial's last finished epoch (its final objective when it reported none), or <c>null</c> when not finite or absent.</summary>
    public static double? LastValue(TrialRecord trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        double? v = trial.Intermediate.Count > 0 ? trial.Intermediate.MaxBy(x => x.Step).Value : trial.Objective;
        return v is { } d && double.IsFinite(d) ? d : null;
    }
}
