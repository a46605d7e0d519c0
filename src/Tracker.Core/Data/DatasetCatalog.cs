using System.Collections.Concurrent;
using Tracker.Abstractions;

namespace Tracker.Core.Data;

/// <summary>
/// The data sets experiments can name, with a small cache so that the trials of one experiment share one
/// loaded copy instead of regenerating or re-reading it per trial.
/// </summary>
public sealed class DatasetCatalog(IEnumerable<IDatasetProvider> providers)
{
    private readonly ConcurrentDictionary<string, Lazy<DatasetSplits>> cache = new();
    private readonly IReadOnlyList<IDatasetProvider> providers = providers.ToList();

    /// <summary>All providers.</summary>
    public IReadOnlyList<IDatasetProvider> Providers => providers;

    /// <summary>Finds a provider by name, or <c>null</c>.</summary>
    public IDatasetProvider? Find(string name) => providers.FirstOrDefault(p => p.Name == name);

    /// <summary>Loads a data set through the cache.</summary>
    public DatasetSplits Load(string name, IReadOnlyDictionary<string, ParameterValue> options, int seed)
    {
        var provider = Find(name) ?? throw new InvalidOperationException($"No data set named '{name}'.");
        var key = $"{name}|{seed}|{string.Join(";", options.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value}"))}";
        if (cache.Count > 8) cache.Clear(); // a handful of data sets at a time is plenty; keep memory bounded
        var entry = cache.GetOrAdd(key, _ => new Lazy<DatasetSplits>(() => provider.Load(options, seed)));
        try
        {
            return entry.Value;
        }
        catch
        {
            cache.TryRemove(key, out _); // do not cache a failure
            throw;
        }
    }
}
