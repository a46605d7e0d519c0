using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Tracking;

namespace Tracker.Core.Tests;

public sealed class ExperimentSummaryTests
{
    private static Trial Trial(int number, double? objective, LifecycleStage stage = LifecycleStage.Active) => new()
    {
        Id = $"t{number}",
        ExperimentId = "e",
        Number = number,
        Parameters = [],
        Epochs = 1,
        State = TrialState.Completed,
        Objective = objective,
        LifecycleStage = stage,
    };

    private static Experiment Experiment(TrialExecution execution, int maxTrials = 10) => new()
    {
        Id = "e",
        Spec = new ExperimentSpec { Name = "e", Execution = execution, MaxTrials = maxTrials },
    };

    [Fact]
    public void From_DeletedRun_NeitherCountedNorBest()
    {
        var summary = ExperimentSummary.From(Experiment(TrialExecution.Logged), [Trial(1, 0.5), Trial(2, 0.9, LifecycleStage.Deleted)]);

        Assert.Equal(1, summary.TrialCount);
        Assert.Equal("t1", summary.BestTrialId);
        Assert.Equal(0.5, summary.BestObjective);
        Assert.Equal(1, summary.TrialsByState[TrialState.Completed]);
    }

    [Fact]
    public void TrialProgress_SearchShowsItsBudget_LoggedRunsHaveNone()
    {
        Assert.Equal("2 / 10", ExperimentSummary.From(Experiment(TrialExecution.Builtin), [Trial(1, 0.1), Trial(2, 0.2)]).TrialProgress);
        Assert.Equal("2 runs", ExperimentSummary.From(Experiment(TrialExecution.Logged), [Trial(1, 0.1), Trial(2, 0.2)]).TrialProgress);
        Assert.Equal("1 run", ExperimentSummary.From(Experiment(TrialExecution.Logged), [Trial(1, 0.1)]).TrialProgress);
        // An interrupted trial leaves its place in the budget to another.
        Assert.Equal("2 / 10", ExperimentSummary.From(Experiment(TrialExecution.Builtin),
            [Trial(1, 0.1), Trial(2, null) with { State = TrialState.Interrupted }, Trial(3, 0.3)]).TrialProgress);
    }

    [Theory]
    [InlineData("", "Empty")]
    [InlineData("Completed:2,Running:1", "Running")]
    [InlineData("Queued:1", "Running")]
    [InlineData("Completed:1,Failed:3", "Completed")]
    [InlineData("Failed:2,Interrupted:1", "Failed")]
    [InlineData("Interrupted:2", "Interrupted")]
    public void StateOfRuns_ALoggedExperimentFollowsItsRuns(string counts, string expected)
    {
        var byState = counts.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split(':')).ToDictionary(p => Enum.Parse<TrialState>(p[0]), p => int.Parse(p[1]));

        Assert.Equal(expected, ExperimentSummary.StateOfRuns(byState));
    }
}
