using Microsoft.Extensions.Options;

namespace Tracker.Core.Training;

/// <summary>Options of model weights, bound to <c>Models</c> in appsettings.json.</summary>
public sealed class ModelOptions
{
    /// <summary>Where users put pretrained weight files; relative to the content root. Defaults to <c>data/weights</c>.</summary>
    public string WeightsFolder { get; set; } = "data/weights";
}

/// <summary>
/// The pretrained weight files experiments may start from. Specs name a file inside the weights folder, never a
/// path elsewhere, so an API client cannot make the server read arbitrary files.
/// </summary>
public sealed class WeightsLibrary(IOptions<ModelOptions> options)
{
    /// <summary>The folder.</summary>
    public string Folder => Path.GetFullPath(options.Value.WeightsFolder);

    /// <summary>The files available, by name.</summary>
    public IReadOnlyList<string> Files() =>
        Directory.Exists(Folder) ? Directory.GetFiles(Folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>Returns <c>null</c> when <paramref name="name"/> names an existing file of the folder, else why not.</summary>
    public string? Check(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "must name a file.";
        var full = Path.GetFullPath(Path.Combine(Folder, name));
        if (!full.StartsWith(Folder + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return $"'{name}' is outside the weights folder.";
        return File.Exists(full) ? null : $"there is no file '{name}' in the weights folder {Folder} (available: {string.Join(", ", Files())}).";
    }

    /// <summary>The full path of a checked file name.</summary>
    public string Resolve(string name) =>
        Check(name) is { } problem ? throw new TrainingFailedException($"initial weights: {problem}") : Path.GetFullPath(Path.Combine(Folder, name));
}
