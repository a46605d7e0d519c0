using System.Text.RegularExpressions;

namespace Tracker.TrainingBench;

/// <summary>What the report says about the machine, so that numbers from different machines are not compared blindly.</summary>
internal static partial class Machine
{
    public static string CpuModel() => ReadFirst("/proc/cpuinfo", "model name") is { } line ? line[(line.IndexOf(':') + 1)..].Trim() : "unknown CPU";

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The folder that holds <c>bench/pytorch_training_baseline.py</c>, found upwards from the program.</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "bench", "pytorch_training_baseline.py"))) return folder.FullName;
        throw new FileNotFoundException("bench/pytorch_training_baseline.py not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The libtorch package version the build pinned (Directory.Packages.props).</summary>
    public static string LibTorchVersion()
    {
        string props = Path.Combine(RepositoryRoot(), "Directory.Packages.props");
        var match = File.Exists(props) ? LibTorchPackage().Match(File.ReadAllText(props)) : Match.Empty;
        return match.Success ? match.Groups[1].Value : "unknown";
    }

    private static string? ReadFirst(string path, string prefix) =>
        File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) : null;

    [GeneratedRegex("\"libtorch-cpu-linux-x64\" Version=\"([^\"]+)\"")]
    private static partial Regex LibTorchPackage();
}
