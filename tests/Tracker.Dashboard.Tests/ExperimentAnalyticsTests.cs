using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>The experiment page's analytics panel: parallel coordinates, objective by parameter, importance.</summary>
public sealed class ExperimentAnalyticsTests : BunitContext
{
    private static readonly Experiment Search = new()
    {
        Id = "e1",
        Spec = new ExperimentSpec
        {
            Name = "search",
            Model = "small-cnn",
            Strategy = "random",
            SearchSpace = new SearchSpace(
            [
                new FloatParameter { Name = "learning_rate", Low = 1e-4, High = 1e-1, Log = true },
                new IntParameter { Name = "width", Low = 8, High = 64, Step = 8 },
            ]),
        },
    };

    public ExperimentAnalyticsTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>Trials whose objective rises with log10 of the learning rate; width is noise.</summary>
    private static List<Trial> Trials(int completed)
    {
        var random = new Random(4);
        var trials = Enumerable.Range(0, completed).Select(i =>
        {
            double lr = Math.Pow(10, -4 + 3 * random.NextDouble());
            return new Trial
            {
                Id = $"t{i}",
                ExperimentId = "e1",
                Number = i,
                Parameters = new() { ["learning_rate"] = lr, ["width"] = 8 * (1 + random.Next(8)) },
                State = TrialState.Completed,
                Epochs = 1,
                EpochsDone = 1,
                Objective = 0.2 + 0.2 * (Math.Log10(lr) + 4),
            };
        }).ToList();
        trials.Add(new Trial { Id = "running", ExperimentId = "e1", Number = completed, Parameters = new() { ["learning_rate"] = 0.01, ["width"] = 8 }, State = TrialState.Running, Epochs = 1 });
        return trials;
    }

    [Fact]
    public void Render_SixCompletedTrials_ParallelCoordinatesScattersAndNamedImportance()
    {
        var cut = Render<ExperimentAnalytics>(p => p.Add(x => x.Experiment, Search).Add(x => x.Trials, Trials(6)));

        var parallel = cut.Find("[data-testid=parallel-coordinates]");
        Assert.Equal("6", parallel.GetAttribute("data-lines")); // completed trials only
        Assert.Equal("3", parallel.GetAttribute("data-axes"));
        Assert.Equal(6, cut.FindAll("polyline.pc-line").Count);
        Assert.Contains("trial #", cut.Find("polyline.pc-line title").TextContent);
        Assert.Equal("log", cut.FindAll(".pc-axis")[0].GetAttribute("data-scale"));

        Assert.Equal("true", cut.Find("[data-testid=objective-vs-learning_rate]").GetAttribute("data-log-x"));
        Assert.Null(cut.Find("[data-testid=objective-vs-width]").GetAttribute("data-log-x"));
        Assert.Equal("7", cut.Find("[data-testid=objective-vs-learning_rate]").GetAttribute("data-points")); // 6 trials + the best again

        Assert.Equal("2", cut.Find("[data-testid=importance-bars]").GetAttribute("data-bars"));
        Assert.Contains("random-forest permutation importance", cut.Find("[data-testid=importance-method]").TextContent);
        Assert.Contains("over 6 completed trials", cut.Find("[data-testid=importance-method]").TextContent);
    }

    [Fact]
    public void Render_ThreeCompletedTrials_ImportanceSaysNotEnoughTrials()
    {
        var cut = Render<ExperimentAnalytics>(p => p.Add(x => x.Experiment, Search).Add(x => x.Trials, Trials(3)));

        Assert.Contains("Not enough trials", cut.Find("[data-testid=importance-problem]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=importance-bars]"));
    }

    [Fact]
    public void Render_NoSearchSpace_NothingShown()
    {
        var cut = Render<ExperimentAnalytics>(p => p.Add(x => x.Experiment, Search with { Spec = Search.Spec with { SearchSpace = SearchSpace.Empty } }).Add(x => x.Trials, Trials(6)));

        Assert.Empty(cut.FindAll("[data-testid=analytics]"));
    }

    [Fact]
    public void Render_LargeSearch_ComputedInTheBackgroundThenShown()
    {
        var cut = Render<ExperimentAnalytics>(p => p.Add(x => x.Experiment, Search).Add(x => x.Trials, Trials(ExperimentAnalytics.BackgroundThreshold + 20)));

        cut.WaitForAssertion(() =>
            Assert.Equal((ExperimentAnalytics.BackgroundThreshold + 20).ToString(), cut.Find("[data-testid=parallel-coordinates]").GetAttribute("data-lines")));
        Assert.Equal("2", cut.Find("[data-testid=importance-bars]").GetAttribute("data-bars"));
    }

    [Fact]
    public void Model_LearningRateDrivesTheObjective_LearningRateMostImportant()
    {
        var trials = Trials(30);

        var model = ExperimentAnalyticsModel.From(Search.Spec, trials);

        Assert.True(model.Importance.Succeeded, model.Importance.Problem);
        Assert.Equal("learning_rate", model.Importance.Parameters[0].Parameter);
        Assert.True(model.Importance.Parameters[0].Importance > 0.8);
        Assert.Equal(trials.Where(t => t.Objective is not null).MaxBy(t => t.Objective)!.Number, model.BestNumber);
    }

    [Fact]
    public void Model_NumericChoices_NamedAsEveryPageWritesNumbers()
    {
        // A sensitivity study's learning rates: the tuned value and ten times less and more.
        var spec = Search.Spec with
        {
            SearchSpace = new SearchSpace([new ChoiceParameter { Name = "learning_rate", Values = [0.000023978553008078011, 0.00023978553008078011, 0.0023978553008078011] }]),
        };

        var model = ExperimentAnalyticsModel.From(spec, Trials(3));

        Assert.Equal(["2.398e-5", "2.398e-4", "0.002398"], model.Scatters.Single().Categories);
    }
}
