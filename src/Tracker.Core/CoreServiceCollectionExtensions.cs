using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;

namespace Tracker.Core;

/// <summary>Registers the engine.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the store, plugin catalog, data sets, live feed, experiment service and trial runner, with options bound
    /// to the <c>Store</c>, <c>Plugins</c>, <c>Datasets</c> and <c>Runner</c> sections. Relative paths resolve against the content root.
    /// </summary>
    public static IHostApplicationBuilder AddTrackerCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        string root = builder.Environment.ContentRootPath;
        string Full(string path) => Path.GetFullPath(Path.Combine(root, path));

        services.AddOptions<StoreOptions>().Bind(builder.Configuration.GetSection("Store"))
            .Validate(o => !string.IsNullOrWhiteSpace(o.DatabasePath), "Store:DatabasePath must be set.")
            .PostConfigure(o => o.DatabasePath = Full(o.DatabasePath)).ValidateOnStart();
        services.AddOptions<PluginOptions>().Bind(builder.Configuration.GetSection("Plugins"))
            .PostConfigure(o => (o.BuiltInFolder, o.DropInFolder) = (Full(o.BuiltInFolder), Full(o.DropInFolder)));
        services.AddOptions<RunnerOptions>().Bind(builder.Configuration.GetSection("Runner"))
            .Validate(o => o.TrialsPerDevice >= 1, "Runner:TrialsPerDevice must be at least 1.")
            .Validate(o => o.TorchThreads >= 0, "Runner:TorchThreads must be 0 (automatic) or positive.")
            .ValidateOnStart();

        services.AddSingleton<LiteDbRunStore>();
        services.AddSingleton<IRunStore>(sp => sp.GetRequiredService<LiteDbRunStore>());
        services.AddSingleton<PluginCatalog>();
        services.AddOptions<DatasetOptions>().Bind(builder.Configuration.GetSection("Datasets"))
            .PostConfigure(o => o.FashionMnistFolder = Full(o.FashionMnistFolder));
        services.AddSingleton<IDatasetProvider, ShapesDataset>();
        services.AddSingleton<IDatasetProvider, FashionMnistDataset>();
        services.AddSingleton<DatasetCatalog>();
        services.AddSingleton<MetricFeed>();
        services.AddSingleton<TrialRunnerService>();
        services.AddHostedService(sp => sp.GetRequiredService<TrialRunnerService>());
        services.AddSingleton<ExperimentService>();
        return builder;
    }
}
