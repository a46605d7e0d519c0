using Microsoft.CodeAnalysis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;
using Tracker.Core.Training;
using Tracker.Storage.LiteDb;
using TorchSharp;

namespace Tracker.Plugins.Tests;

/// <summary>
/// A drop-in model that misbehaves on request: its <c>poison</c> hyperparameter makes it throw while being built or
/// produce NaN logits. The runner must fail exactly those trials, with their reasons, and run the rest.
/// </summary>
public sealed class RunnerFailureTests : IDisposable
{
    private const string PoisonSource = """
        using System;
        using System.Collections.Generic;
        using Tracker.Abstractions;
        using TorchSharp;
        using static TorchSharp.torch;

        namespace DropIn;

        public sealed class PoisonModel : IModelPlugin
        {
            public string Name => "poison";
            public string Description => "Throws or returns NaN on request.";
            public IReadOnlyList<ParameterSpec> Hyperparameters { get; } =
                [new ChoiceParameter { Name = "poison", Values = ["none", "throw", "nan"], Default = "none" }];

            public nn.Module<Tensor, Tensor> Build(ModelSpec spec)
            {
                string poison = spec.Parameters["poison"].AsString();
                if (poison == "throw") throw new InvalidOperationException("poisoned build");
                return new Net(spec.Input.Channels * spec.Input.Height * spec.Input.Width, spec.ClassCount, poison == "nan");
            }

            private sealed class Net : nn.Module<Tensor, Tensor>
            {
                private readonly TorchSharp.Modules.Linear linear;
                private readonly bool nan;

                public Net(int inputs, int classes, bool nan) : base("Net")
                {
                    linear = nn.Linear(inputs, classes);
                    this.nan = nan;
                    RegisterComponents();
                }

                public override Tensor forward(Tensor x)
                {
                    var logits = linear.forward(x.flatten(1));
                    return nan ? logits * float.NaN : logits;
                }
            }
        }
        """;

    private readonly string folder = Directory.CreateTempSubdirectory("tracker-runner").FullName;

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { /* the plugin's DLL may still be mapped */ }
    }

    [Fact]
    public async Task Runner_PoisonedTrials_FailWithReasonsWhileTheOthersComplete()
    {
        var dropIn = Path.Combine(folder, "plugins");
        PluginCompiler.CompilePlugin(dropIn, "Poison", PoisonSource, PluginCompiler.Sdk, MetadataReference.CreateFromFile(typeof(torch).Assembly.Location));
        var catalog = new PluginCatalog([Repo.BuiltInPlugins, dropIn], NullLogger.Instance);
        Assert.NotNull(catalog.FindModel("poison"));
        using var store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        var datasets = new DatasetCatalog([new ShapesDataset()]);
        var feed = new MetricFeed();
        var weights = new WeightsLibrary(Options.Create(new ModelOptions { WeightsFolder = Path.Combine(folder, "weights") }));
        var coordinator = new StudyCoordinator(store, store, catalog, feed, NullLogger<StudyCoordinator>.Instance);
        var runner = new TrialRunnerService(store, store, store, store, catalog, datasets, feed, weights, coordinator,
            Options.Create(new RunnerOptions { Devices = ["cpu"], TorchThreads = 1, PollMilliseconds = 50 }), NullLogger<TrialRunnerService>.Instance);
        var experiments = new ExperimentService(store, store, catalog, datasets, runner, coordinator, feed, weights);

        var created = await experiments.CreateAsync(new ExperimentSpec
        {
            Name = "poison",
            Model = "poison",
            Strategy = "random",
            Dataset = new DatasetSpec { Options = new() { ["classes"] = 3, ["image_size"] = 8, ["samples"] = 60 } },
            SearchSpace = new SearchSpace([new ChoiceParameter { Name = "poison", Values = ["none", "throw", "nan"] }]),
            MaxTrials = 9,
            Epochs = 1,
            Seed = 3, // draws none, throw, nan, none, throw, nan, none, none, none: failures between successes
        }, TestContext.Current.CancellationToken);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.SelectMany(e => e.Value)));
        string id = created.Experiment!.Id;

        await runner.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await store.GetExperimentAsync(id))!.State == ExperimentState.Running && DateTime.UtcNow < deadline)
                await Task.Delay(50);
        }
        finally
        {
            await runner.StopAsync(CancellationToken.None);
        }

        Assert.Equal(ExperimentState.Completed, (await store.GetExperimentAsync(id))!.State);
        var trials = await store.ListTrialsAsync(id);
        Assert.Equal(9, trials.Count);
        foreach (var trial in trials)
        {
            switch (trial.Parameters["poison"].AsString())
            {
                case "none":
                    Assert.Equal(TrialState.Completed, trial.State);
                    Assert.InRange(trial.FinalMetrics[MetricNames.ValF1Macro], 0, 1);
                    break;
                case "throw":
                    Assert.Equal(TrialState.Failed, trial.State);
                    Assert.Equal("InvalidOperationException: poisoned build", trial.Error);
                    break;
                case "nan":
                    Assert.Equal(TrialState.Failed, trial.State);
                    Assert.Contains("loss became NaN at epoch 1", trial.Error);
                    break;
            }
        }
        // The seed was chosen so that all three kinds occur; the test is only meaningful if they do.
        Assert.Equal(3, trials.Select(t => t.Parameters["poison"].AsString()).Distinct().Count());
    }
}
