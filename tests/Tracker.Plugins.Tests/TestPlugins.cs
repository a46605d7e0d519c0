using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Tracker.Abstractions;

namespace Tracker.Plugins.Tests;

/// <summary>Where the repository and its built-in plugins are.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The folder the plugin projects build into (referenced by the test project, so built before it).</summary>
    public static string BuiltInPlugins => Path.Combine(Root, "artifacts", "plugins");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tracker.sln")) || File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props")))
                return dir.FullName;
        throw new InvalidOperationException($"no Tracker.sln or Directory.Packages.props above {AppContext.BaseDirectory}");
    }
}

/// <summary>Compiles C# source into real assemblies on disk, to act as third-party plugins.</summary>
internal static class PluginCompiler
{
    private static readonly Lazy<MetadataReference[]> Framework = new(() =>
    {
        // The running framework's own assemblies, out of the trusted platform list (which also names the test's).
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => Path.GetDirectoryName(p) == runtime)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();
    });

    /// <summary>The plugin SDK the host runs with.</summary>
    public static MetadataReference Sdk { get; } = MetadataReference.CreateFromFile(typeof(IModelPlugin).Assembly.Location);

    /// <summary>
    /// Compiles <paramref name="source"/> into <c><paramref name="folder"/>/<paramref name="name"/>/<paramref name="name"/>.dll</c>
    /// (the layout the catalog scans) and returns the file's path.
    /// </summary>
    public static string CompilePlugin(string folder, string name, string source, params MetadataReference[] references) =>
        Compile(Path.Combine(folder, name), name, source, references);

    /// <summary>Compiles <paramref name="source"/> into <c><paramref name="directory"/>/<paramref name="name"/>.dll</c>.</summary>
    public static string Compile(string directory, string name, string source, params MetadataReference[] references)
    {
        Directory.CreateDirectory(directory);
        var compilation = CSharpCompilation.Create(name,
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            [.. Framework.Value, .. references],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        string path = Path.Combine(directory, name + ".dll");
        var result = compilation.Emit(path);
        if (!result.Success)
            throw new InvalidOperationException($"{name} does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return path;
    }

    /// <summary>Source of a strategy plugin named <paramref name="pluginName"/> whose strategy is always done.</summary>
    public static string StrategySource(string pluginName, string version = "2.3.4.0", string constructorBody = "") => $$"""
        using System;
        using System.Collections.Generic;
        using Tracker.Abstractions;

        [assembly: System.Reflection.AssemblyVersion("{{version}}")]

        namespace DropIn;

        public sealed class CompiledStrategyPlugin : ISearchStrategyPlugin
        {
            public CompiledStrategyPlugin() { {{constructorBody}} }
            public string Name => "{{pluginName}}";
            public string Description => "A strategy compiled by the tests.";
            public IReadOnlyList<ParameterSpec> Options { get; } = [];
            public ISearchStrategy Create(StrategyContext context) => new Strategy();

            private sealed class Strategy : ISearchStrategy
            {
                public StrategyDecision Ask(StudyView study) => new StrategyDecision.Done("compiled strategy: nothing to try");
                public void Tell(StudyView study, TrialRecord trial) { }
            }
        }
        """;
}
