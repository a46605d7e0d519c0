using Tracker.Plugins.Hyperband;

namespace Tracker.Strategies.Tests;

public sealed class HyperbandStrategyTests
{
    private static readonly SearchSpace Space = ConformanceSpaces.Mixed();

    private static ISearchStrategy Create(int seed, int maxEpochs = 0, int eta = 3, HyperbandRounding rounding = HyperbandRounding.Paper, int iterations = 1) =>
        new HyperbandPlugin().Create(new StrategyContext(Space, seed, new Dictionary<string, ParameterValue>
        {
            [HyperbandPlugin.MaxEpochs] = maxEpochs,
            [HyperbandPlugin.Eta] = eta,
            [HyperbandPlugin.Rounding] = rounding.ToString().ToLowerInvariant(),
            [HyperbandPlugin.Iterations] = iterations,
        }));

    private static StudySimulator Study(ISearchStrategy strategy, int epochs, ObjectiveDirection direction = ObjectiveDirection.Minimize,
        int maxTrials = 10_000, int? completionSeed = null, Func<int, TrialState>? outcome = null) =>
        new(strategy, Space, maxTrials, epochs, direction, completionSeed) { Outcome = outcome ?? (_ => TrialState.Completed) };

    private static TrialRecord ById(StudySimulator study, string id) => study.Trials.Single(t => t.Id == id);

    private static string Point(TrialRecord t) => StudySimulator.Describe(t with { Epochs = 0, ResumedFrom = null, State = TrialState.Queued, Objective = null, Number = 0 });

    public static TheoryData<int, int, HyperbandRounding, ObjectiveDirection, int> FullRuns => new()
    {
        { 9, 3, HyperbandRounding.Paper, ObjectiveDirection.Minimize, 1 },
        { 9, 3, HyperbandRounding.Paper, ObjectiveDirection.Maximize, 4 },
        { 27, 3, HyperbandRounding.Keras, ObjectiveDirection.Minimize, 5 },
        { 16, 2, HyperbandRounding.Paper, ObjectiveDirection.Maximize, 3 },
        { 10, 3, HyperbandRounding.Keras, ObjectiveDirection.Maximize, 2 },
        { 81, 3, HyperbandRounding.Paper, ObjectiveDirection.Minimize, 8 },
    };

    [Theory]
    [MemberData(nameof(FullRuns))]
    public void Run_Full_FollowsTheScheduleExactly(int r, int eta, HyperbandRounding rounding, ObjectiveDirection direction, int parallelism)
    {
        var plan = new HyperbandPlan(r, eta, rounding, iterations: 1);

        var study = Study(Create(seed: 3, eta: eta, rounding: rounding), epochs: r, direction, completionSeed: 12).Run(parallelism);

        Assert.Empty(study.Violations);
        Assert.True(study.IsFinished);
        Assert.Equal(plan.Count, study.Trials.Count);
        foreach (var trial in study.Trials)
        {
            var slot = plan[trial.Number];
            Assert.Equal(slot.Epochs, trial.Epochs);
            if (slot.Rung == 0)
            {
                Assert.Null(trial.ResumedFrom);
                continue;
            }
            // A promotion continues a trial of the previous rung of the same bracket, with the same parameters.
            var source = ById(study, Assert.IsType<string>(trial.ResumedFrom));
            var sourceSlot = plan[source.Number];
            Assert.Equal((slot.Iteration, slot.Bracket, slot.Rung - 1), (sourceSlot.Iteration, sourceSlot.Bracket, sourceSlot.Rung));
            Assert.Equal(Point(source), Point(trial));
        }

        // The promoted ones are the best n_{i+1} of each rung, in rank order.
        foreach (var bracket in plan.Brackets)
            for (int rung = 0; rung + 1 < bracket.Rungs.Count; rung++)
            {
                var (start, count) = plan.RungSlots(0, bracket.S, rung);
                var members = study.Trials.Skip(start).Take(count);
                var best = (direction == ObjectiveDirection.Minimize ? members.OrderBy(t => t.Objective) : members.OrderByDescending(t => t.Objective))
                    .ThenBy(t => t.Number).Take(bracket.Rungs[rung + 1].Configurations).Select(t => t.Id);
                var (nextStart, nextCount) = plan.RungSlots(0, bracket.S, rung + 1);
                Assert.Equal(best, study.Trials.Skip(nextStart).Take(nextCount).Select(t => t.ResumedFrom));
            }

        // Every epoch trained is new: the total is the schedule's budget.
        long trained = study.Trials.Sum(t => (long)t.Epochs - (t.ResumedFrom is { } from ? ById(study, from).Epochs : 0));
        Assert.Equal(plan.EpochBudget, trained);
        Assert.Equal(plan.EpochBudget, study.Trials.Sum(t => (long)t.Intermediate.Count));
    }

    [Fact]
    public void Run_Parallel_HandsOutWholeRungThenWaits()
    {
        var study = Study(Create(seed: 1), epochs: 9, completionSeed: 2).Run(parallelism: 20);

        Assert.Empty(study.Violations);
        // The first ask hands out all 9 configurations of the first rung, then waits for them.
        Assert.All(study.Decisions.Take(9), d => Assert.IsType<StrategyDecision.Next>(d));
        Assert.IsType<StrategyDecision.Wait>(study.Decisions[9]);
        Assert.Contains(study.Decisions, d => d is StrategyDecision.Wait);
    }

    [Fact]
    public void Ask_RungStillRunning_WaitsThenPromotesOnceItEnds()
    {
        var study = Study(Create(seed: 1), epochs: 9);
        for (int i = 0; i < 9; i++) Assert.IsType<StrategyDecision.Next>(study.Ask());
        for (int i = 0; i < 8; i++) study.Finish(i);

        Assert.IsType<StrategyDecision.Wait>(study.Ask());

        study.Finish(8);
        var next = Assert.IsType<StrategyDecision.Next>(study.Ask());
        Assert.Equal(3, next.Request.Epochs);
        Assert.NotNull(next.Request.ResumeFrom);
    }

    [Fact]
    public void Ask_NewConfiguration_DrawnFromSeedAndSlot()
    {
        var study = Study(Create(seed: 77), epochs: 9).Run();

        foreach (var trial in study.Trials.Where(t => t.ResumedFrom is null))
            Assert.Equal(Space.Sample(new Random(Seeds.Derive(77, trial.Number))), trial.Parameters);
    }

    [Fact]
    public void Ask_MaxEpochsOption_OverridesStudyEpochs()
    {
        var study = Study(Create(seed: 1, maxEpochs: 27), epochs: 9).Run(parallelism: 10);

        Assert.Empty(study.Violations);
        Assert.Equal(new HyperbandPlan(27, 3, HyperbandRounding.Paper, 1).Count, study.Trials.Count);
        Assert.Equal(27, study.Trials.Max(t => t.Epochs));
        Assert.Equal(1, study.Trials.Min(t => t.Epochs));
    }

    [Fact]
    public void Run_TwoIterations_RepeatsTheBracketsWithNewConfigurations()
    {
        var study = Study(Create(seed: 5, iterations: 2), epochs: 9).Run(parallelism: 3);

        Assert.Empty(study.Violations);
        Assert.Equal(44, study.Trials.Count);
        Assert.Equal(study.Trials.Take(22).Select(t => t.Epochs), study.Trials.Skip(22).Select(t => t.Epochs));
        Assert.Empty(study.Trials.Take(22).Select(Point).Intersect(study.Trials.Skip(22).Select(Point)));
        Assert.Contains("2 Hyperband iteration", Assert.IsType<StrategyDecision.Done>(study.Decisions[^1]).Reason);
    }

    [Fact]
    public void Run_MaxTrialsBelowSchedule_StopsAtMaxTrials()
    {
        var study = Study(Create(seed: 5), epochs: 9, maxTrials: 11).Run(parallelism: 4);

        Assert.Empty(study.Violations);
        Assert.Equal(11, study.Trials.Count);
        Assert.Contains("11 trials", Assert.IsType<StrategyDecision.Done>(study.Decisions[^1]).Reason);
    }

    [Fact]
    public void Run_SourceFailed_PromotionStartsAfresh()
    {
        // Rung 0 of the first bracket: only trials 0 and 4 complete, so the rung's 3 promotions take 0, 4 and then
        // the best-ranked of the rest (failed, ranked by number: trial 1), which has no checkpoint to resume.
        var study = Study(Create(seed: 2), epochs: 9, outcome: n => n < 9 && n is not (0 or 4) ? TrialState.Failed : TrialState.Completed).Run();

        Assert.Empty(study.Violations);
        var promotions = study.Trials.Skip(9).Take(3).ToList();
        Assert.Equal(["t0", "t4"], promotions.Where(t => t.ResumedFrom is not null).Select(t => t.ResumedFrom!).Order());
        var fresh = Assert.Single(promotions, t => t.ResumedFrom is null);
        Assert.Equal(3, fresh.Epochs);
        Assert.Equal(Point(study.Trials[1]), Point(fresh));
    }

    [Fact]
    public void Run_SourcePruned_RanksBeforeFailedAndResumesFromItsLastEpoch()
    {
        // Rung 1 of the first bracket is trials 9–11: 9 is pruned after its first new epoch (epoch 2 of 3), 10 and 11
        // fail. The pruned trial ranks first, so the last rung continues it from epoch 3.
        var study = Study(Create(seed: 4), epochs: 9, outcome: n => n switch
        {
            9 => TrialState.Pruned,
            10 or 11 => TrialState.Failed,
            _ => TrialState.Completed,
        }).Run();

        Assert.Empty(study.Violations);
        Assert.Equal([2], study.Trials[9].Intermediate.Select(v => v.Step));
        var last = study.Trials[12];
        Assert.Equal("t9", last.ResumedFrom);
        Assert.Equal(9, last.Epochs);
        Assert.Equal(Enumerable.Range(3, 7), last.Intermediate.Select(v => v.Step));
    }

    [Fact]
    public void Restart_AtEveryTrial_FreshInstanceContinuesIdentically()
    {
        var original = Study(Create(seed: 8), epochs: 9).Run();

        for (int k = 0; k < original.Trials.Count; k++)
        {
            var restarted = new StudySimulator(Create(seed: 8), Space, 10_000, 9, history: original.Trials.Take(k)).Run();

            Assert.Empty(restarted.Violations);
            Assert.Equal(original.Trials.Select(StudySimulator.Describe), restarted.Trials.Select(StudySimulator.Describe));
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(15)]
    public void Restart_MidRungWithTrialsRunning_FreshInstanceMatchesOriginal(int k)
    {
        var before = Study(Create(seed: 6), epochs: 9, completionSeed: 1).Run(parallelism: 4, stopWhen: s => s.Trials.Count >= k);
        Assert.NotEmpty(before.Running);
        var kept = before.Fork(before.Strategy, completionSeed: 2);
        kept.InterruptRunning(tell: true);
        var fresh = before.Fork(Create(seed: 6), completionSeed: 2);
        fresh.InterruptRunning(tell: false);

        kept.Run(parallelism: 4);
        fresh.Run(parallelism: 4);

        Assert.Empty(fresh.Violations);
        Assert.Equal(22, fresh.Trials.Count);
        Assert.Equal(kept.Trials.Select(StudySimulator.Describe), fresh.Trials.Select(StudySimulator.Describe));
    }

    [Fact]
    public void Label_FullRun_GivesBracketRungAndPromotionLinks()
    {
        var study = Study(Create(seed: 9), epochs: 9).Run(parallelism: 3);
        var plan = new HyperbandPlan(9, 3, HyperbandRounding.Paper, 1);

        var labels = plan.Label(study.Trials, ObjectiveDirection.Minimize);

        Assert.Equal(study.Trials.Count, labels.Count);
        Assert.All(labels, l => Assert.Equal(plan[l.Number], l.Slot));
        Assert.All(labels, l => Assert.Equal(study.Trials[l.Number].ResumedFrom, l.PromotedFrom));
        foreach (var l in labels.Where(l => l.PromotedTo is not null))
            Assert.Equal(l.TrialId, labels.Single(x => x.TrialId == l.PromotedTo).PromotedFrom);
        Assert.Equal(3 + 1 + 1, labels.Count(l => l.PromotedTo is not null)); // 3 to rung 1, 1 to rung 2 (s=2); 1 (s=1)
        Assert.Equal([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0], labels.Select(l => l.Slot.Bracket));
    }

    [Fact]
    public void Label_PartialHistory_LinksOnlyFinishedRungs()
    {
        var study = Study(Create(seed: 9), epochs: 9).Run(parallelism: 9, stopWhen: s => s.Trials.Count >= 9);
        var plan = new HyperbandPlan(9, 3, HyperbandRounding.Paper, 1);

        var labels = plan.Label(study.Trials, ObjectiveDirection.Minimize);

        Assert.Equal(9, labels.Count);
        Assert.All(labels, l => Assert.Null(l.PromotedTo));
        Assert.All(labels, l => Assert.Equal(0, l.Slot.Rung));
    }

    [Theory]
    [InlineData("eta", 1)]
    [InlineData("iterations", 0)]
    public void Create_InvalidOption_Throws(string option, int value)
    {
        var options = new Dictionary<string, ParameterValue> { [option] = value };

        Assert.ThrowsAny<ArgumentException>(() => new HyperbandPlugin().Create(new StrategyContext(Space, 1, options)));
    }

    [Fact]
    public void Create_UnknownRounding_Throws()
    {
        var options = new Dictionary<string, ParameterValue> { ["rounding"] = "banker" };

        Assert.Throws<ArgumentException>(() => new HyperbandPlugin().Create(new StrategyContext(Space, 1, options)));
    }
}
