using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using Tracker.Abstractions;
using Tracker.Core.Plugins;
using TorchSharp;

namespace Tracker.Plugins.Tests;

/// <summary>The built-in plugins, loaded from their build output on disk exactly as the server loads them.</summary>
public sealed class BuiltInPluginTests
{
    private readonly PluginCatalog catalog = new([Repo.BuiltInPlugins], NullLogger.Instance);

    [Fact]
    public void Catalog_BuiltInFolder_SmallCnnActiveAsModel()
    {
        var entry = Assert.Single(catalog.Entries, e => e.Name == "small-cnn");

        Assert.Equal(PluginKind.Model, entry.Kind);
        Assert.Equal(PluginStatus.Active, entry.Status);
        Assert.Null(entry.Reason);
        Assert.Equal("1.0.0", entry.Version);
        Assert.StartsWith("Small CNN", entry.Description);
        Assert.Equal(Path.Combine(Repo.BuiltInPlugins, "Tracker.Plugins.SmallCnn", "Tracker.Plugins.SmallCnn.dll"), entry.Source);
    }

    [Fact]
    public void Catalog_BuiltInFolder_RandomActiveAsStrategy()
    {
        var entry = Assert.Single(catalog.Entries, e => e.Name == "random");

        Assert.Equal(PluginKind.Strategy, entry.Kind);
        Assert.Equal(PluginStatus.Active, entry.Status);
        Assert.Null(entry.Reason);
        Assert.Equal("1.0.0", entry.Version);
        Assert.StartsWith("Random search", entry.Description);
        Assert.Equal(Path.Combine(Repo.BuiltInPlugins, "Tracker.Plugins.RandomSearch", "Tracker.Plugins.RandomSearch.dll"), entry.Source);
    }

    [Fact]
    public void Catalog_BuiltInFolder_PluginsLiveInTheirOwnLoadContexts()
    {
        var model = catalog.FindModel("small-cnn");
        var strategy = catalog.FindStrategy("random");

        Assert.NotNull(model);
        Assert.NotNull(strategy);
        Assert.Contains(model, catalog.Models);
        Assert.Contains(strategy, catalog.Strategies);
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(model.GetType().Assembly));
        Assert.NotSame(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(strategy.GetType().Assembly));
        // Shared types: the plugin sees the host's SDK and TorchSharp, not copies of its own.
        Assert.Same(typeof(IModelPlugin).Assembly, model.GetType().GetInterfaces().Single(i => i.Name == nameof(IModelPlugin)).Assembly);
        Assert.Null(catalog.FindModel("random"));
        Assert.Null(catalog.FindStrategy("small-cnn"));
    }

    [Fact]
    public void LoadedSmallCnn_Hyperparameters_DeclareWidthAndDropoutWithDefaults()
    {
        var model = catalog.FindModel("small-cnn")!;

        Assert.Equal(["width", "dropout"], model.Hyperparameters.Select(p => p.Name));
        Assert.Equal(ParameterValue.Of(16), model.Hyperparameters[0].Default);
        Assert.Equal(ParameterValue.Of(0.1), model.Hyperparameters[1].Default);
        Assert.Empty(new SearchSpace(model.Hyperparameters).Validate());
    }

    [Fact]
    public void LoadedSmallCnn_Build_ForwardGivesOneLogitPerClass()
    {
        var model = catalog.FindModel("small-cnn")!;
        var spec = new ModelSpec(5, new InputShape(3, 16, 16), new Dictionary<string, ParameterValue> { ["width"] = 8, ["dropout"] = 0.1 });
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);

        using var module = model.Build(spec);
        module.eval();
        var logits = module.forward(torch.rand(2, 3, 16, 16));

        Assert.Equal([2L, 5L], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        // width 8, 3 channels, 5 classes: conv 3*8*9 = 216, BN 2*8 = 16, conv 8*16*9 = 1152, BN 2*16 = 32, linear 16*5 + 5 = 85.
        Assert.Equal(1501L, module.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void LoadedSmallCnn_BuildOtherShape_AdaptsToInputAndClasses()
    {
        var model = catalog.FindModel("small-cnn")!;
        var spec = new ModelSpec(2, new InputShape(1, 8, 8), new Dictionary<string, ParameterValue>());
        using var scope = torch.NewDisposeScope();

        using var module = model.Build(spec);
        module.eval();
        var logits = module.forward(torch.rand(3, 1, 8, 8));

        Assert.Equal([3L, 2L], logits.shape);
        Assert.True(module.parameters().Sum(p => p.numel()) > 0);
    }

    private static StudyView Study(SearchSpace space, int trials = 0, int maxTrials = 10) => new()
    {
        Space = space,
        Trials = Enumerable.Range(0, trials).Select(n => new TrialRecord
        {
            Id = $"t{n}", Number = n, Parameters = new Dictionary<string, ParameterValue>(), State = TrialState.Completed, Epochs = 2,
        }).ToList(),
        Direction = ObjectiveDirection.Maximize,
        MaxTrials = maxTrials,
        Epochs = 2,
    };

    private static readonly SearchSpace Space = new(
    [
        new FloatParameter { Name = "learning_rate", Low = 1e-5, High = 1, Log = true },
        new IntParameter { Name = "width", Low = 8, High = 64, Step = 8 },
        new ChoiceParameter { Name = "optimizer", Values = ["adam", "adamw", "sgd"] },
    ]);

    private static IReadOnlyDictionary<string, ParameterValue> Suggest(ISearchStrategyPlugin plugin, int seed, int trialsSoFar)
    {
        var strategy = plugin.Create(new StrategyContext(Space, seed, new Dictionary<string, ParameterValue>()));
        var next = Assert.IsType<StrategyDecision.Next>(strategy.Ask(Study(Space, trialsSoFar)));
        Assert.Equal(2, next.Request.Epochs);
        Assert.Null(Space.Check(next.Request.Parameters));
        return next.Request.Parameters;
    }

    [Fact]
    public void LoadedRandom_SameSeed_SameSuggestions()
    {
        var plugin = catalog.FindStrategy("random")!;
        var again = new PluginCatalog([Repo.BuiltInPlugins], NullLogger.Instance).FindStrategy("random")!;

        for (int n = 0; n < 3; n++)
            Assert.Equal(Suggest(plugin, 42, n), Suggest(again, 42, n));
    }

    [Fact]
    public void LoadedRandom_OtherSeedOrTrial_OtherSuggestions()
    {
        var plugin = catalog.FindStrategy("random")!;

        Assert.NotEqual(Suggest(plugin, 42, 0)["learning_rate"], Suggest(plugin, 43, 0)["learning_rate"]);
        Assert.NotEqual(Suggest(plugin, 42, 0)["learning_rate"], Suggest(plugin, 42, 1)["learning_rate"]);
    }

    [Fact]
    public void LoadedRandom_BudgetUsed_Done()
    {
        var strategy = catalog.FindStrategy("random")!.Create(new StrategyContext(Space, 1, new Dictionary<string, ParameterValue>()));

        Assert.IsType<StrategyDecision.Done>(strategy.Ask(Study(Space, trials: 3, maxTrials: 3)));
    }

    [Fact]
    public void Catalog_MissingFolder_SkippedWithoutEntries()
    {
        var empty = new PluginCatalog([Path.Combine(Repo.Root, "no-such-folder")], NullLogger.Instance);

        Assert.Empty(empty.Entries);
        Assert.Empty(empty.Models);
        Assert.Empty(empty.Strategies);
    }
}
