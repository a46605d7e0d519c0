using System.Reflection;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using TorchSharp;

namespace Tracker.Core.Plugins;

/// <summary>Options of plugin loading, bound to <c>Plugins</c> in appsettings.json.</summary>
public sealed class PluginOptions
{
    /// <summary>Where the built-in plugins are built to; relative to the content root. Defaults to <c>artifacts/plugins</c>.</summary>
    public string BuiltInFolder { get; set; } = "artifacts/plugins";

    /// <summary>A folder for third-party plugins; relative to the content root. Defaults to <c>data/plugins</c>.</summary>
    public string DropInFolder { get; set; } = "data/plugins";
}

/// <summary>What a catalog entry provides.</summary>
public enum PluginKind
{
    /// <summary>An <see cref="IModelPlugin"/>.</summary>
    Model,

    /// <summary>An <see cref="ISearchStrategyPlugin"/>.</summary>
    Strategy,

    /// <summary>An <see cref="IPrunerPlugin"/>.</summary>
    Pruner,

    /// <summary>Nothing usable could be read from it.</summary>
    Unknown,
}

/// <summary>Whether a plugin can be used.</summary>
public enum PluginStatus
{
    /// <summary>Loaded and usable.</summary>
    Active,

    /// <summary>Built against another contract, or for another runtime.</summary>
    Incompatible,

    /// <summary>Corrupt, or threw while loading.</summary>
    Faulted,
}

/// <summary>One entry of the catalog, as the dashboard and API show it.</summary>
public sealed record PluginInfo(
    string Name, PluginKind Kind, string Version, PluginStatus Status, string? Reason, string Source, string? Description);

/// <summary>
/// Loads model, strategy and pruner plugins from the built-in and drop-in folders with McMaster.NETCore.Plugins (the only
/// place that library is used). The SDK and TorchSharp are shared with the host so that plugins and the engine agree
/// on their types and one libtorch is loaded. A plugin that cannot be loaded becomes an entry with a status and a
/// reason; loading never throws.
/// </summary>
public sealed class PluginCatalog
{
    private static readonly AssemblyName Sdk = typeof(IModelPlugin).Assembly.GetName();
    private readonly List<PluginInfo> entries = [];
    private readonly Dictionary<string, IModelPlugin> models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ISearchStrategyPlugin> strategies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPrunerPlugin> pruners = new(StringComparer.Ordinal);
    private readonly ILogger logger;

    /// <summary>Scans the folders named by <paramref name="options"/>.</summary>
    public PluginCatalog(IOptions<PluginOptions> options, ILogger<PluginCatalog> logger)
        : this([options.Value.BuiltInFolder, options.Value.DropInFolder], logger) { }

    /// <summary>Scans the given folders (missing folders are skipped).</summary>
    public PluginCatalog(IEnumerable<string> folders, ILogger logger)
    {
        this.logger = logger;
        foreach (var folder in folders.Distinct())
            foreach (var file in CandidateFiles(folder))
                Load(file);
    }

    /// <summary>A catalog of plugins already created, with no folder scanned (the engine's tests use it).</summary>
    internal static PluginCatalog Of(params object[] instances)
    {
        var catalog = new PluginCatalog([], Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        foreach (var instance in instances)
        {
            var type = instance.GetType();
            catalog.Register(instance, type.Assembly.GetName().Version?.ToString(3) ?? "?", type.Assembly.Location);
        }
        return catalog;
    }

    /// <summary>Every entry, in load order.</summary>
    public IReadOnlyList<PluginInfo> Entries => entries;

    /// <summary>The active model plugins.</summary>
    public IReadOnlyCollection<IModelPlugin> Models => models.Values;

    /// <summary>The active strategy plugins.</summary>
    public IReadOnlyCollection<ISearchStrategyPlugin> Strategies => strategies.Values;

    /// <summary>The active pruner plugins.</summary>
    public IReadOnlyCollection<IPrunerPlugin> Pruners => pruners.Values;

    /// <summary>An active pruner plugin by name, or <c>null</c>.</summary>
    public IPrunerPlugin? FindPruner(string name) => pruners.GetValueOrDefault(name);

    /// <summary>An active model plugin by name, or <c>null</c>.</summary>
    public IModelPlugin? FindModel(string name) => models.GetValueOrDefault(name);

    /// <summary>An active strategy plugin by name, or <c>null</c>.</summary>
    public ISearchStrategyPlugin? FindStrategy(string name) => strategies.GetValueOrDefault(name);

    /// <summary>A plugin's main assembly is <c>Folder/Name/Name.dll</c>; a loose <c>Folder/*.dll</c> is one too.</summary>
    private static IEnumerable<string> CandidateFiles(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var dir in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))
        {
            var main = Path.Combine(dir, Path.GetFileName(dir) + ".dll");
            if (File.Exists(main)) yield return main;
        }
        foreach (var file in Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal))
            yield return file;
    }

    private void Load(string path)
    {
        string fallbackName = Path.GetFileNameWithoutExtension(path);
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(path,
                sharedTypes: [typeof(IModelPlugin), typeof(torch)],
                configure: c => c.PreferSharedTypes = true);
            var assembly = loader.LoadDefaultAssembly();
            string version = assembly.GetName().Version?.ToString(3) ?? "?";

            var sdk = assembly.GetReferencedAssemblies().FirstOrDefault(a => a.Name == Sdk.Name);
            if (sdk is null)
            {
                Add(new(fallbackName, PluginKind.Unknown, version, PluginStatus.Incompatible, $"does not reference {Sdk.Name}, so it provides no plugin.", path, null));
                return;
            }
            if (sdk.Version?.Major != Sdk.Version?.Major)
            {
                Add(new(fallbackName, PluginKind.Unknown, version, PluginStatus.Incompatible,
                    $"built against plugin contract {sdk.Version?.Major} but this server implements contract {Sdk.Version?.Major}.", path, null));
                return;
            }

            Type[] types;
            try
            {
                // Eager: binary incompatibilities surface here, at load, rather than in trial 37.
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException e)
            {
                var first = e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? e.Message;
                Add(new(fallbackName, PluginKind.Unknown, version, PluginStatus.Incompatible, $"its types cannot be loaded: {first}", path, null));
                return;
            }

            var pluginTypes = types.Where(t => t is { IsClass: true, IsAbstract: false } &&
                (typeof(IModelPlugin).IsAssignableFrom(t) || typeof(ISearchStrategyPlugin).IsAssignableFrom(t) || typeof(IPrunerPlugin).IsAssignableFrom(t))).ToList();
            if (pluginTypes.Count == 0)
            {
                Add(new(fallbackName, PluginKind.Unknown, version, PluginStatus.Incompatible, "contains no model, strategy or pruner plugin type.", path, null));
                return;
            }
            foreach (var type in pluginTypes) Instantiate(type, version, path);
        }
        catch (BadImageFormatException e)
        {
            Add(new(fallbackName, PluginKind.Unknown, "?", PluginStatus.Faulted, $"not a valid .NET assembly: {e.Message}", path, null));
        }
        catch (Exception e)
        {
            Add(new(fallbackName, PluginKind.Unknown, "?", PluginStatus.Faulted, $"failed to load: {e.GetType().Name}: {e.Message}", path, null));
        }
    }

    private void Instantiate(Type type, string version, string path)
    {
        object instance;
        try
        {
            instance = Activator.CreateInstance(type)!;
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
            Add(new(type.FullName ?? type.Name, KindOf(type), version, PluginStatus.Faulted, $"threw while being created: {inner.GetType().Name}: {inner.Message}", path, null));
            return;
        }
        Register(instance, version, path);
    }

    private static PluginKind KindOf(Type type) =>
        typeof(IModelPlugin).IsAssignableFrom(type) ? PluginKind.Model
        : typeof(ISearchStrategyPlugin).IsAssignableFrom(type) ? PluginKind.Strategy : PluginKind.Pruner;

    private void Register(object instance, string version, string path)
    {
        var kind = KindOf(instance.GetType());
        string name, description;
        try
        {
            (name, description) = instance switch
            {
                IModelPlugin m => (m.Name, m.Description),
                ISearchStrategyPlugin s => (s.Name, s.Description),
                IPrunerPlugin p => (p.Name, p.Description),
                _ => throw new ArgumentException($"{instance.GetType().Name} is not a model, strategy or pruner plugin.", nameof(instance)),
            };
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            Add(new(instance.GetType().FullName ?? instance.GetType().Name, kind, version, PluginStatus.Faulted, $"threw while being created: {e.GetType().Name}: {e.Message}", path, null));
            return;
        }

        bool duplicate = kind switch
        {
            PluginKind.Model => models.ContainsKey(name),
            PluginKind.Strategy => strategies.ContainsKey(name),
            _ => pruners.ContainsKey(name),
        };
        if (duplicate)
        {
            var first = entries.First(x => x.Name == name && x.Kind == kind && x.Status == PluginStatus.Active);
            Add(new(name, kind, version, PluginStatus.Faulted, $"a {kind.ToString().ToLowerInvariant()} plugin named '{name}' is already loaded from {first.Source}.", path, description));
            return;
        }
        if (instance is IModelPlugin model) models[name] = model;
        if (instance is ISearchStrategyPlugin strategy) strategies[name] = strategy;
        if (instance is IPrunerPlugin pruner) pruners[name] = pruner;
        Add(new(name, kind, version, PluginStatus.Active, null, path, description));
    }

    private void Add(PluginInfo info)
    {
        entries.Add(info);
        if (info.Status == PluginStatus.Active)
            logger.LogInformation("Loaded {Kind} plugin {Name} {Version} from {Source}", info.Kind, info.Name, info.Version, info.Source);
        else
            logger.LogWarning("Plugin {Name} from {Source} is {Status}: {Reason}", info.Name, info.Source, info.Status, info.Reason);
    }
}
