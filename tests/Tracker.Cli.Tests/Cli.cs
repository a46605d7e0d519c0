using System.Text.Json;
using Spectre.Console.Testing;

namespace Tracker.Cli.Tests;

/// <summary>Runs <c>tracker</c> in-process on a test console wide enough that no table cell wraps.</summary>
internal static class Cli
{
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args) => await RunAsync(args, CancellationToken.None);

    public static async Task<(int ExitCode, string Output)> RunAsync(string[] args, CancellationToken cancel)
    {
        var console = new TestConsole().Width(250);
        int code = await TrackerCli.RunAsync(args, console, cancel);
        return (code, console.Output);
    }

    public static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "tracker-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The tiny reference spec: small CNN, random search, 120 generated 16×16 images.</summary>
    public static string WriteSpec(string folder, string name = "tiny cli", int trials = 2, int epochs = 1, string model = "small-cnn", int samples = 120)
    {
        var path = Path.Combine(folder, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            name,
            model,
            strategy = "random",
            dataset = new { name = "shapes", options = new { samples, image_size = 16 } },
            searchSpace = new { parameters = new object[] { new { type = "float", name = "learning_rate", low = 1e-3, high = 3e-2, log = true } } },
            maxTrials = trials,
            epochs,
            seed = 5,
        }));
        return path;
    }
}

/// <summary>
/// One headless run of the tiny spec into a fresh database, shared by the tests that read it back. The run itself is
/// part of what is tested (see <see cref="RunCommandTests"/>).
/// </summary>
public sealed class RunDatabaseFixture : IAsyncLifetime
{
    public string Folder { get; } = Cli.NewFolder();

    public string DatabasePath => Path.Combine(Folder, "tracker.db");

    public int ExitCode { get; private set; }

    public string Output { get; private set; } = "";

    public async ValueTask InitializeAsync() =>
        (ExitCode, Output) = await Cli.RunAsync("run", Cli.WriteSpec(Folder), "--db", DatabasePath);

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The command-line tests share one database and run one at a time: the store holds its file exclusively, and
/// libtorch's threads and random generator are process-wide.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<RunDatabaseFixture>
{
    public const string Name = "cli";
}
