using Microsoft.Extensions.Logging;
using Tracker.Abstractions;
using Tracker.Core.Plugins;

namespace Tracker.Plugins.Tests;

/// <summary>Third-party plugins in the drop-in folder: real assemblies (compiled here) and broken files.</summary>
public sealed class DropInPluginTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("tracker-plugins-").FullName;
    private readonly ListLogger logger = new();

    private string DropIn => Path.Combine(root, "drop-in");

    public void Dispose()
    {
        // Plugin assemblies stay loaded (their contexts are not collectible), but Linux lets us delete open files.
        Directory.Delete(root, recursive: true);
    }

    private PluginCatalog Scan() => new([Repo.BuiltInPlugins, DropIn], logger);

    private static void AssertBuiltInsActive(PluginCatalog catalog)
    {
        Assert.Equal(PluginStatus.Active, Assert.Single(catalog.Entries, e => e.Name == "small-cnn").Status);
        Assert.Equal(PluginStatus.Active, Assert.Single(catalog.Entries, e => e.Name == "random").Status);
        Assert.NotNull(catalog.FindModel("small-cnn"));
        Assert.NotNull(catalog.FindStrategy("random"));
    }

    [Fact]
    public void Scan_TextFileNamedDll_FaultedAndBuiltInsStillActive()
    {
        Directory.CreateDirectory(DropIn);
        string path = Path.Combine(DropIn, "Broken.dll");
        File.WriteAllText(path, "this is not an assembly");

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Source == path);
        Assert.Equal(PluginStatus.Faulted, entry.Status);
        Assert.Equal("Broken", entry.Name);
        Assert.Equal(PluginKind.Unknown, entry.Kind);
        Assert.StartsWith("not a valid .NET assembly", entry.Reason);
        AssertBuiltInsActive(catalog);
        Assert.Contains(logger.Entries, l => l.Level == LogLevel.Warning && l.Message.Contains("Broken") && l.Message.Contains("Faulted"));
    }

    [Fact]
    public void Scan_RandomBytesInPluginFolder_FaultedWithReason()
    {
        string folder = Path.Combine(DropIn, "Garbage");
        Directory.CreateDirectory(folder);
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        bytes[0] = (byte)'M'; // a PE signature start, so the loader has to look further before giving up
        bytes[1] = (byte)'Z';
        File.WriteAllBytes(Path.Combine(folder, "Garbage.dll"), bytes);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Name == "Garbage");
        Assert.Equal(PluginStatus.Faulted, entry.Status);
        Assert.StartsWith("not a valid .NET assembly", entry.Reason);
        AssertBuiltInsActive(catalog);
    }

    [Fact]
    public void Scan_CompiledStrategy_ActiveAndUsable()
    {
        string path = PluginCompiler.CompilePlugin(DropIn, "Compiled", PluginCompiler.StrategySource("compiled"), PluginCompiler.Sdk);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Name == "compiled");
        Assert.Equal((PluginKind.Strategy, PluginStatus.Active, "2.3.4", path), (entry.Kind, entry.Status, entry.Version, entry.Source));
        Assert.Equal("A strategy compiled by the tests.", entry.Description);
        var strategy = catalog.FindStrategy("compiled")!.Create(new StrategyContext(SearchSpace.Empty, 1, new Dictionary<string, ParameterValue>()));
        var done = Assert.IsType<StrategyDecision.Done>(strategy.Ask(new StudyView
        {
            Space = SearchSpace.Empty, Trials = [], Direction = ObjectiveDirection.Maximize, MaxTrials = 1, Epochs = 1,
        }));
        Assert.Equal("compiled strategy: nothing to try", done.Reason);
        AssertBuiltInsActive(catalog);
    }

    [Fact]
    public void Scan_ConstructorThrows_FaultedNamingTheException()
    {
        PluginCompiler.CompilePlugin(DropIn, "Thrower",
            PluginCompiler.StrategySource("thrower", constructorBody: "throw new InvalidOperationException(\"the thrower refuses to start\");"),
            PluginCompiler.Sdk);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Source.EndsWith(Path.Combine("Thrower", "Thrower.dll")));
        Assert.Equal(PluginStatus.Faulted, entry.Status);
        Assert.Equal(PluginKind.Strategy, entry.Kind);
        Assert.Equal("DropIn.CompiledStrategyPlugin", entry.Name);
        Assert.Equal("threw while being created: InvalidOperationException: the thrower refuses to start", entry.Reason);
        Assert.Null(catalog.FindStrategy("thrower"));
        AssertBuiltInsActive(catalog);
    }

    [Fact]
    public void Scan_AssemblyWithoutSdkReference_Incompatible()
    {
        PluginCompiler.CompilePlugin(DropIn, "Unrelated", """
            namespace Unrelated;
            public sealed class Helper { public int Answer => 42; }
            """);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Name == "Unrelated");
        Assert.Equal(PluginStatus.Incompatible, entry.Status);
        Assert.Equal(PluginKind.Unknown, entry.Kind);
        Assert.Equal("does not reference Tracker.Abstractions, so it provides no plugin.", entry.Reason);
        AssertBuiltInsActive(catalog);
    }

    [Fact]
    public void Scan_SdkReferenceButNoPluginType_Incompatible()
    {
        PluginCompiler.CompilePlugin(DropIn, "NoPlugin", """
            namespace NoPlugin;
            public static class Spaces { public static Tracker.Abstractions.SearchSpace Empty => Tracker.Abstractions.SearchSpace.Empty; }
            """, PluginCompiler.Sdk);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Name == "NoPlugin");
        Assert.Equal(PluginStatus.Incompatible, entry.Status);
        Assert.Equal("contains no model, strategy or pruner plugin type.", entry.Reason);
    }

    [Fact]
    public void Scan_BuiltAgainstOtherContractMajor_Incompatible()
    {
        // A stand-in SDK of contract 2, compiled outside the scanned folders, and a plugin built against it.
        var futureSdk = Microsoft.CodeAnalysis.MetadataReference.CreateFromFile(PluginCompiler.Compile(Path.Combine(root, "future-sdk"), "Tracker.Abstractions", """
            [assembly: System.Reflection.AssemblyVersion("2.0.0.0")]
            namespace Tracker.Abstractions;
            public interface IModelPluginV2 { string Name { get; } }
            """));
        PluginCompiler.CompilePlugin(DropIn, "Future", """
            namespace Future;
            public sealed class FuturePlugin : Tracker.Abstractions.IModelPluginV2 { public string Name => "future"; }
            """, futureSdk);

        var catalog = Scan();

        var entry = Assert.Single(catalog.Entries, e => e.Name == "Future");
        Assert.Equal(PluginStatus.Incompatible, entry.Status);
        Assert.Equal("built against plugin contract 2 but this server implements contract 1.", entry.Reason);
        AssertBuiltInsActive(catalog);
    }

    [Fact]
    public void Scan_SecondPluginWithSameName_SecondFaultedAlreadyLoaded()
    {
        string path = PluginCompiler.CompilePlugin(DropIn, "Impostor", PluginCompiler.StrategySource("random"), PluginCompiler.Sdk);

        var catalog = Scan();

        var entries = catalog.Entries.Where(e => e.Name == "random").ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(PluginStatus.Active, entries[0].Status);
        Assert.StartsWith(Repo.BuiltInPlugins, entries[0].Source);
        Assert.Equal(PluginStatus.Faulted, entries[1].Status);
        Assert.Equal(path, entries[1].Source);
        Assert.Contains("already loaded", entries[1].Reason);
        Assert.Contains(entries[0].Source, entries[1].Reason);
        // The built-in one is what experiments get.
        Assert.StartsWith("Random search", catalog.Entries.First(e => e.Name == "random").Description);
        Assert.Equal("Tracker.Plugins.RandomSearch", catalog.FindStrategy("random")!.GetType().Assembly.GetName().Name);
    }

    [Fact]
    public void Scan_TwoDropInsWithSameName_FirstInOrderWins()
    {
        PluginCompiler.CompilePlugin(DropIn, "Alpha", PluginCompiler.StrategySource("twin", version: "1.0.0.0"), PluginCompiler.Sdk);
        PluginCompiler.CompilePlugin(DropIn, "Beta", PluginCompiler.StrategySource("twin", version: "1.1.0.0"), PluginCompiler.Sdk);

        var catalog = Scan();

        var twins = catalog.Entries.Where(e => e.Name == "twin").ToList();
        Assert.Equal([("1.0.0", PluginStatus.Active), ("1.1.0", PluginStatus.Faulted)], twins.Select(e => (e.Version, e.Status)));
        Assert.Contains("already loaded", twins[1].Reason);
    }

    [Fact]
    public void Scan_SameFolderTwice_LoadedOnce()
    {
        var catalog = new PluginCatalog([Repo.BuiltInPlugins, Repo.BuiltInPlugins], logger);

        Assert.Single(catalog.Entries, e => e.Name == "random");
        Assert.All(catalog.Entries.Where(e => e.Name is "random" or "small-cnn"), e => Assert.Equal(PluginStatus.Active, e.Status));
    }
}
