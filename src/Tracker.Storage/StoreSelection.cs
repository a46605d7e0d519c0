using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Postgres;

namespace Tracker.Storage;

/// <summary>The one place that knows every store backend: hosts pick one by <c>Store:Provider</c>.</summary>
public static class StoreSelection
{
    /// <summary>Registers the backend that <c>Store:Provider</c> names (bound and validated by <c>AddTrackerCore</c>).</summary>
    public static IHostApplicationBuilder AddTrackerStore(this IHostApplicationBuilder builder)
    {
        string provider = builder.Configuration["Store:Provider"] is { Length: > 0 } p ? p : StoreOptions.LiteDb;
        if (provider == StoreOptions.Postgres) builder.Services.AddPostgresStore();
        else builder.Services.AddLiteDbStore();
        builder.Services.AddHostedService<StoreVerificationService>();
        return builder;
    }

    /// <summary>
    /// Opens the store that <paramref name="options"/> name (paths already absolute) for a command's lifetime; disposing
    /// the handle closes it.
    /// </summary>
    public static async Task<OpenStore> OpenAsync(StoreOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Provider == StoreOptions.Postgres)
        {
            var postgres = await PostgresStore.OpenAsync(options.ConnectionString, options.ArtifactRoot, cancellationToken);
            return new OpenStore(new TrackerStores(postgres, postgres, postgres, postgres, postgres, postgres), postgres.DisposeAsync);
        }
        var lite = new LiteDbStore(options);
        return new OpenStore(new TrackerStores(lite, lite, lite, lite, lite, lite), () =>
        {
            lite.Dispose();
            return ValueTask.CompletedTask;
        });
    }
}

/// <summary>A store opened by <see cref="StoreSelection.OpenAsync"/>.</summary>
/// <param name="Stores">Its interfaces.</param>
/// <param name="close">Closes it.</param>
public sealed class OpenStore(TrackerStores Stores, Func<ValueTask> close) : IAsyncDisposable
{
    /// <summary>The store's interfaces.</summary>
    public TrackerStores Stores { get; } = Stores;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => close();
}
