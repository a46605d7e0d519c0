using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

/// <summary>Registers the embedded LiteDB backend.</summary>
public static class LiteDbStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="LiteDbStore"/> on the file that <see cref="StoreOptions.ConnectionString"/> names (an
    /// absolute path by then) behind every store interface; it is opened when first asked for.
    /// </summary>
    public static IServiceCollection AddLiteDbStore(this IServiceCollection services) =>
        services.AddStoreBackend(sp => new LiteDbStore(sp.GetRequiredService<IOptions<StoreOptions>>().Value))
            .AddSingleton<IStoreBackup>(sp => sp.GetRequiredService<LiteDbStore>())
            .AddSingleton<IStoreVerification>(sp => sp.GetRequiredService<LiteDbStore>());
}
