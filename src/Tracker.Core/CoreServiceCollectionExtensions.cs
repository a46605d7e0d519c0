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
using Tracker.Core.Tracking;
using Tracker.Core.Training;

namespace Tracker.Core;

/// <summary>Registers the engine.</summary>
public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the plugin catalog, data sets, live feed, experiment service and trial runner, with options bound to the
    /// <c>Store</c>, <c>Plugins</c>, <c>Datasets</c>, <c>Runner</c> and <c>Tracking</c> sections. Relative paths resolve
    /// against the content root. The store backend itself is the host's choice (<c>AddTrackerStore</c>), by <c>Store:Provider</c>.
    /// </summary>
    public static IHostApplicationBuilder AddTrackerCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        string root = builder.Environment.ContentRootPath;
        string Full(string path) => Path.GetFullPath(Path.Combine(root, path));

        services.AddOptions<StoreOptions>().Bind(builder.Configuration.GetSection("Store"))
            .Validate(o => o.Provider is StoreOptions.LiteDb or StoreOptions.Postgres, "Store:Provider must be 'litedb' or 'postgres'.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Store:ConnectionString must be set.")
            .PostConfigure(o =>
            {
                // A LiteDB connection string is a file, relative to the content root; PostgreSQL's is Npgsql's own.
                if (o.Provider == StoreOptions.LiteDb) o.ConnectionString = Full(o.ConnectionString);
                o.ArtifactRoot = o.ArtifactRoot is { Length: > 0 } root ? Full(root)
                    : o.Provider == StoreOptions.LiteDb ? Path.Combine(Path.GetDirectoryName(o.ConnectionString)!, "artifacts")
                    : Full("data/artifacts");
            }).ValidateOnStart();
        services.AddOptions<PluginOptions>().Bind(builder.Configuration.GetSection("Plugins"))
            .PostConfigure(o => (o.BuiltInFolder, o.DropInFolder) = (Full(o.BuiltInFolder), Full(o.DropInFolder)));
        services.AddOptions<RunnerOptions>().Bind(builder.Configuration.GetSection("Runner"))
            .Validate(o => o.TrialsPerDevice >= 1, "Runner:TrialsPerDevice must be at least 1.")
            .Validate(o => o.TorchThreads >= 0, "Runner:TorchThreads must be 0 (automatic) or positive.")
            .Validate(o => o.MaxTrialAttempts >= 1, "Runner:MaxTrialAttempts must be at least 1.")
            .ValidateOnStart();

        services.AddOptions<ModelOptions>().Bind(builder.Configuration.GetSection("Models"))
            .PostConfigure(o => o.WeightsFolder = Full(o.WeightsFolder));
        services.AddSingleton<WeightsLibrary>();
        services.AddSingleton<PluginCatalog>();
        services.AddSingleton<ModelSizes>();
        services.AddOptions<DatasetOptions>().Bind(builder.Configuration.GetSection("Datasets"))
            .Validate(o => o.ImageFolders.All(f => !string.IsNullOrWhiteSpace(f.Key) && !string.IsNullOrWhiteSpace(f.Value)),
                "Datasets:ImageFolders: every entry needs a name and a folder.")
            .PostConfigure(o =>
            {
                o.FashionMnistFolder = Full(o.FashionMnistFolder);
                o.ImageFolders = o.ImageFolders.ToDictionary(f => f.Key, f => string.IsNullOrWhiteSpace(f.Value) ? f.Value : Full(f.Value));
            })
            .ValidateOnStart();
        services.AddSingleton<IDatasetProvider, ShapesDataset>();
        services.AddSingleton<IDatasetProvider, FashionMnistDataset>();
        // Code-defined providers are registered services; configured image folders are data, one provider per entry,
        // so the catalog gets both: the registrations plus a provider for each Datasets:ImageFolders entry.
        services.AddSingleton(sp => new DatasetCatalog(sp.GetServices<IDatasetProvider>()
            .Concat(ImageFolderDataset.FromOptions(sp.GetRequiredService<IOptions<DatasetOptions>>().Value))));
        services.AddSingleton<MetricFeed>();
        services.AddSingleton<StudyCoordinator>();
        services.AddSingleton<ExternalTrials>();
        services.AddSingleton<TrialRunnerService>();
        services.AddHostedService(sp => sp.GetRequiredService<TrialRunnerService>());
        services.AddSingleton<ExperimentService>();
        services.AddSingleton<RunRegistry>();
        services.AddSingleton<RunIngest>();
        services.AddSingleton<RunQueries>();
        services.AddOptions<TrackingOptions>().Bind(builder.Configuration.GetSection("Tracking"))
            .Validate(o => o.MaxMetricPointsPerRequest >= 1, "Tracking:MaxMetricPointsPerRequest must be at least 1.")
            .Validate(o => o.MaxArtifactBytes >= 1, "Tracking:MaxArtifactBytes must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<RunArtifacts>();
        return builder;
    }
}
