using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

public sealed class TrialProgressTests
{
    private static Trial Running(int done, int epochs) => new()
    {
        Id = "t", ExperimentId = "e", Number = 0, Parameters = [], State = TrialState.Running, Epochs = epochs, EpochsDone = done,
    };

    [Fact]
    public void Remaining_TwoOfFiveEpochsDone_MeanEpochTimeTimesEpochsLeft()
    {
        var left = TrialProgress.Remaining(Running(2, 5), [10, 14]);

        Assert.Equal(TimeSpan.FromSeconds(36), left);
        Assert.Equal("36 s", TrialProgress.Format(left));
    }

    [Fact]
    public void Remaining_BeforeTheFirstEpoch_UnknownShownAsADash()
    {
        var left = TrialProgress.Remaining(Running(0, 5), []);

        Assert.Null(left);
        Assert.Equal("–", TrialProgress.Format(left));
    }

    [Fact]
    public void Remaining_FinishedTrial_None() =>
        Assert.Null(TrialProgress.Remaining(Running(5, 5) with { State = TrialState.Completed }, [3]));

    [Theory]
    [InlineData(0.2, "1 s")]
    [InlineData(59, "59 s")]
    [InlineData(185, "3 min 05 s")]
    [InlineData(7800, "2 h 10 min")]
    public void Format_Durations_Short(double seconds, string expected) =>
        Assert.Equal(expected, TrialProgress.Format(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Fraction_ThreeOfFour_ThreeQuarters() => Assert.Equal(0.75, TrialProgress.Fraction(Running(3, 4)));
}
