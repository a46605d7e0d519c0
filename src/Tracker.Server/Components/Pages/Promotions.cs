using Tracker.Core.Experiments;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// The successive-halving structure of an experiment (Hyperband, or any strategy that continues trials), derived from
/// the trials alone: a configuration is a chain of trials linked by <see cref="Trial.ResumedFrom"/>, each link a
/// promotion to a larger epoch budget; a bracket is a run of consecutive new configurations that started with the same
/// budget. Strategy plugins stay opaque to the dashboard, so this reads only what every trial records.
/// </summary>
public sealed record Promotions(IReadOnlyList<Promotions.Bracket> Brackets)
{
    /// <summary>One step of a configuration: the trial that trained it to <see cref="Trial.Epochs"/> epochs.</summary>
    public sealed record Rung(Trial Trial, bool Promoted);

    /// <summary>A configuration's chain of trials, from its first budget on.</summary>
    public sealed record Chain(IReadOnlyList<Rung> Rungs);

    /// <summary>Configurations that started together with the same budget, and the budgets their rungs reached.</summary>
    public sealed record Bracket(int Index, IReadOnlyList<int> Budgets, IReadOnlyList<Chain> Chains)
    {
        /// <summary>
        /// The configurations a page shows, at most <paramref name="max"/>: those promoted furthest first (ties: the
        /// earliest), listed in their order; a bracket of thousands of configurations is not drawn row by row.
        /// </summary>
        public IReadOnlyList<Chain> Shown(int max = MaxChainsShown) =>
            Chains.Count <= max ? Chains
            : Chains.Select((c, i) => (Chain: c, Index: i)).OrderByDescending(x => x.Chain.Rungs.Count).ThenBy(x => x.Index).Take(max)
                .OrderBy(x => x.Index).Select(x => x.Chain).ToList();
    }

    /// <summary>The most configurations of one bracket a page shows.</summary>
    public const int MaxChainsShown = 50;

    /// <summary>Whether any trial continued another (otherwise there is nothing to show).</summary>
    public bool Any => Brackets.Any(b => b.Budgets.Count > 1);

    /// <summary>Derives the brackets from an experiment's trials.</summary>
    public static Promotions From(IReadOnlyList<Trial> trials)
    {
        var byId = trials.ToDictionary(t => t.Id);
        var next = trials.Where(t => t.ResumedFrom is not null && byId.ContainsKey(t.ResumedFrom))
            .GroupBy(t => t.ResumedFrom!).ToDictionary(g => g.Key, g => g.OrderBy(t => t.Number).First());
        var roots = trials.Where(t => t.ResumedFrom is null || !byId.ContainsKey(t.ResumedFrom)).OrderBy(t => t.Number).ToList();

        var brackets = new List<Bracket>();
        var current = new List<Chain>();
        int? budget = null;
        foreach (var root in roots)
        {
            if (budget is not null && root.Epochs != budget)
            {
                brackets.Add(Close(brackets.Count, current));
                current = [];
            }
            budget = root.Epochs;
            var rungs = new List<Rung>();
            for (var t = root; t is not null; t = next.GetValueOrDefault(t.Id))
                rungs.Add(new Rung(t, next.ContainsKey(t.Id)));
            current.Add(new Chain(rungs));
        }
        if (current.Count > 0) brackets.Add(Close(brackets.Count, current));
        return new Promotions(brackets);
    }

    private static Bracket Close(int index, List<Chain> chains) =>
        new(index, chains.SelectMany(c => c.Rungs.Select(r => r.Trial.Epochs)).Distinct().Order().ToList(), chains);
}
