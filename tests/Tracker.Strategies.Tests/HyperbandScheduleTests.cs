using Tracker.Plugins.Hyperband;

namespace Tracker.Strategies.Tests;

public sealed class HyperbandScheduleTests
{
    /// <summary>The schedule as lines "s=4: (81,1) (27,3) …": n_i configurations at r_i epochs per rung.</summary>
    private static string[] Table(int maxEpochs, int eta, HyperbandRounding rounding) =>
        HyperbandSchedule.Brackets(maxEpochs, eta, rounding)
            .Select(b => $"s={b.S}: " + string.Join(" ", b.Rungs.Select(r => $"({r.Configurations},{r.Epochs})")))
            .ToArray();

    [Fact]
    public void Brackets_Paper81Eta3_MatchesTheTableOfLiEtAl()
    {
        // Li et al., JMLR 2018, Table 1 (R = 81, η = 3): n_i configurations at r_i epochs.
        string[] expected =
        [
            "s=4: (81,1) (27,3) (9,9) (3,27) (1,81)",
            "s=3: (34,3) (11,9) (3,27) (1,81)",
            "s=2: (15,9) (5,27) (1,81)",
            "s=1: (8,27) (2,81)",
            "s=0: (5,81)",
        ];

        Assert.Equal(expected, Table(81, 3, HyperbandRounding.Paper));
    }

    [Fact]
    public void Brackets_Keras81Eta3_RoundsEachRungUp()
    {
        // keras_tuner HyperbandOracle: n_i = ceil(ceil(1 + log3 81)/(s+1) · 3^(s−i)) = ceil(5/(s+1) · 3^(s−i)).
        string[] expected =
        [
            "s=4: (81,1) (27,3) (9,9) (3,27) (1,81)",
            "s=3: (34,3) (12,9) (4,27) (2,81)",
            "s=2: (15,9) (5,27) (2,81)",
            "s=1: (8,27) (3,81)",
            "s=0: (5,81)",
        ];

        Assert.Equal(expected, Table(81, 3, HyperbandRounding.Keras));
    }

    [Theory]
    [InlineData(HyperbandRounding.Paper)]
    [InlineData(HyperbandRounding.Keras)]
    public void Brackets_9Eta3_HandWritten(HyperbandRounding rounding)
    {
        string[] expected = rounding == HyperbandRounding.Paper
            ? ["s=2: (9,1) (3,3) (1,9)", "s=1: (5,3) (1,9)", "s=0: (3,9)"]
            : ["s=2: (9,1) (3,3) (1,9)", "s=1: (5,3) (2,9)", "s=0: (3,9)"];

        Assert.Equal(expected, Table(9, 3, rounding));
    }

    [Theory]
    [InlineData(HyperbandRounding.Paper)]
    [InlineData(HyperbandRounding.Keras)]
    public void Brackets_RNotAPowerOfEta_RoundsBudgetsDownOrUp(HyperbandRounding rounding)
    {
        // R = 10, η = 3: s_max = 2. Paper: r_i = floor(10/3^(s−i)); Keras: ceil, and B = ceil(1 + log3 10) = 4.
        string[] expected = rounding == HyperbandRounding.Paper
            ? ["s=2: (9,1) (3,3) (1,10)", "s=1: (5,3) (1,10)", "s=0: (3,10)"]
            : ["s=2: (12,2) (4,4) (2,10)", "s=1: (6,4) (2,10)", "s=0: (4,10)"];

        Assert.Equal(expected, Table(10, 3, rounding));
    }

    [Fact]
    public void Brackets_Keras125Eta5_UsesExactLogarithm()
    {
        // Python's math.log(125, 5) is 3.0000000000000004, so Keras Tuner itself would take B = 5; we take B = 4.
        var brackets = HyperbandSchedule.Brackets(125, 5, HyperbandRounding.Keras);

        Assert.Equal([(125, 1), (25, 5), (5, 25), (1, 125)], brackets[0].Rungs.Select(r => (r.Configurations, r.Epochs)));
        Assert.Equal([(34, 5), (7, 25), (2, 125)], brackets[1].Rungs.Select(r => (r.Configurations, r.Epochs)));
    }

    [Theory]
    [InlineData(1, 3, 0)]
    [InlineData(2, 3, 0)]
    [InlineData(3, 3, 1)]
    [InlineData(80, 3, 3)]
    [InlineData(81, 3, 4)]
    [InlineData(82, 3, 4)]
    [InlineData(10_000, 2, 13)]
    public void MaxBracket_IsFloorOfLogExactly(int maxEpochs, int eta, int expected)
    {
        Assert.Equal(expected, HyperbandSchedule.MaxBracket(maxEpochs, eta));
    }

    [Theory]
    [InlineData(HyperbandRounding.Paper)]
    [InlineData(HyperbandRounding.Keras)]
    public void Brackets_Budget1_IsOneBracketOfOneRung(HyperbandRounding rounding)
    {
        var bracket = Assert.Single(HyperbandSchedule.Brackets(1, 3, rounding));

        Assert.Equal(0, bracket.S);
        Assert.Equal([new HyperbandRung(1, 1)], bracket.Rungs);
    }

    [Fact]
    public void EpochBudget_Paper81_CountsOnlyTheEpochsAPromotionAdds()
    {
        var brackets = HyperbandSchedule.Brackets(81, 3, HyperbandRounding.Paper);

        // s=4: 81·1 + 27·2 + 9·6 + 3·18 + 1·54; s=3: 34·3 + 11·6 + 3·18 + 54; s=2: 15·9 + 5·18 + 54; s=1: 8·27 + 2·54; s=0: 5·81.
        Assert.Equal([297L, 276, 279, 324, 405], brackets.Select(b => b.EpochBudget));
        Assert.Equal([121, 49, 21, 10, 5], brackets.Select(b => b.Trials));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(9, 1)]
    public void Brackets_InvalidArguments_Throw(int maxEpochs, int eta)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HyperbandSchedule.Brackets(maxEpochs, eta, HyperbandRounding.Paper));
    }

    [Theory]
    [InlineData(HyperbandRounding.Paper)]
    [InlineData(HyperbandRounding.Keras)]
    public void Brackets_EveryRung_ShrinksAndGrows(HyperbandRounding rounding)
    {
        foreach (var (r, eta) in new[] { (81, 3), (100, 3), (27, 2), (1000, 4), (10_000, 2), (7, 7), (50, 10) })
            foreach (var bracket in HyperbandSchedule.Brackets(r, eta, rounding))
            {
                Assert.Equal(bracket.S + 1, bracket.Rungs.Count);
                Assert.Equal(r, bracket.Rungs[^1].Epochs);
                Assert.True(bracket.Rungs[0].Epochs >= 1);
                for (int i = 1; i < bracket.Rungs.Count; i++)
                {
                    Assert.True(bracket.Rungs[i].Configurations <= bracket.Rungs[i - 1].Configurations);
                    Assert.True(bracket.Rungs[i].Configurations >= 1);
                    Assert.True(bracket.Rungs[i].Epochs > bracket.Rungs[i - 1].Epochs);
                }
                if (rounding == HyperbandRounding.Paper)
                    for (int i = 1; i < bracket.Rungs.Count; i++)
                        Assert.Equal(bracket.Rungs[i - 1].Configurations / eta, bracket.Rungs[i].Configurations);
            }
    }

    [Fact]
    public void Plan_9Eta3_LaysOutSlotsBracketByBracketRungByRung()
    {
        var plan = new HyperbandPlan(9, 3, HyperbandRounding.Paper, iterations: 2);

        Assert.Equal(44, plan.Count);
        Assert.Equal(2 * (9 + 6 + 6 + 15 + 6 + 27), plan.EpochBudget);
        Assert.Equal(new HyperbandSlot(0, 0, 2, 0, 0, 1), plan[0]);
        Assert.Equal(new HyperbandSlot(8, 0, 2, 0, 8, 1), plan[8]);
        Assert.Equal(new HyperbandSlot(9, 0, 2, 1, 0, 3), plan[9]);
        Assert.Equal(new HyperbandSlot(12, 0, 2, 2, 0, 9), plan[12]);
        Assert.Equal(new HyperbandSlot(13, 0, 1, 0, 0, 3), plan[13]);
        Assert.Equal(new HyperbandSlot(18, 0, 1, 1, 0, 9), plan[18]);
        Assert.Equal(new HyperbandSlot(21, 0, 0, 0, 2, 9), plan[21]);
        Assert.Equal(new HyperbandSlot(22, 1, 2, 0, 0, 1), plan[22]);
        Assert.Equal(new HyperbandSlot(43, 1, 0, 0, 2, 9), plan[43]);
        Assert.Equal((31, 3), plan.RungSlots(1, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan[44]);
    }

    [Fact]
    public void Plan_FromOptions_ZeroMaxEpochsMeansStudyEpochs()
    {
        var plan = HyperbandPlan.FromOptions(new Dictionary<string, ParameterValue> { ["max_epochs"] = 0, ["eta"] = 2, ["rounding"] = "keras" }, studyEpochs: 8);

        Assert.Equal(8, plan.MaxEpochs);
        Assert.Equal(2, plan.Eta);
        Assert.Equal(HyperbandRounding.Keras, plan.Rounding);
        Assert.Equal(27, HyperbandPlan.FromOptions(new Dictionary<string, ParameterValue> { ["max_epochs"] = 27 }, studyEpochs: 8).MaxEpochs);
    }

    [Fact]
    public void Rank_CompletedThenPrunedThenFailed_ByDirection()
    {
        static TrialRecord T(int n, TrialState state, double? last) => new()
        {
            Id = $"t{n}", Number = n, Parameters = new Dictionary<string, ParameterValue>(), State = state, Epochs = 3,
            Intermediate = last is { } v ? [new IntermediateValue(1, 100), new IntermediateValue(3, v)] : [],
            Objective = state is TrialState.Completed or TrialState.Pruned ? last : null,
        };
        TrialRecord[] rung =
        [
            T(0, TrialState.Failed, null), T(1, TrialState.Completed, 0.5), T(2, TrialState.Pruned, 0.1),
            T(3, TrialState.Completed, 0.2), T(4, TrialState.Interrupted, 0.0), T(5, TrialState.Completed, double.NaN),
            T(6, TrialState.Completed, 0.2),
        ];

        Assert.Equal(["t3", "t6", "t1", "t2", "t0", "t4", "t5"], HyperbandPlan.Rank(rung, ObjectiveDirection.Minimize).Select(t => t.Id));
        Assert.Equal(["t1", "t3", "t6", "t2", "t0", "t4", "t5"], HyperbandPlan.Rank(rung, ObjectiveDirection.Maximize).Select(t => t.Id));
    }
}
