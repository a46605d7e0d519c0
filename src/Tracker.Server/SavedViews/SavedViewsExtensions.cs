using Microsoft.Extensions.Options;
using Tracker.Core.Storage;

namespace Tracker.Server.SavedViews;

/// <summary>Registers the saved runs-grid views.</summary>
public static class SavedViewsExtensions
{
    /// <summary>Adds <see cref="ISavedViews"/>, a JSON file placed by <see cref="SavedViewsOptions"/> (the <c>SavedViews</c> section).</summary>
    public static IServiceCollection AddSavedViews(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SavedViewsOptions>().Bind(configuration.GetSection("SavedViews"))
            .PostConfigure<IOptions<StoreOptions>, IHostEnvironment>((o, store, host) =>
            {
                // Beside the data the views describe: the LiteDB file's folder (StoreOptions holds its full path by now).
                string Full(string path) => Path.GetFullPath(Path.Combine(host.ContentRootPath, path));
                o.File = o.File is { Length: > 0 } file ? Full(file)
                    : store.Value.Provider == StoreOptions.LiteDb ? Path.Combine(Path.GetDirectoryName(Full(store.Value.ConnectionString))!, "saved-views.json")
                    : Full("data/saved-views.json");
            });
        services.AddSingleton<ISavedViews>(sp => new JsonFileSavedViews(sp.GetRequiredService<IOptions<SavedViewsOptions>>().Value.File));
        return services;
    }
}
