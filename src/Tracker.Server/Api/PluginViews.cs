using Microsoft.Extensions.Options;
using Tracker.Core.Plugins;

namespace Tracker.Server.Api;

/// <summary>
/// How the API shows where a plugin came from: relative to the plugin folder it was found in (<c>built-in/…</c>,
/// <c>drop-in/…</c>), never as an absolute path of the server's disk. The same goes for paths in a load failure's reason.
/// The server's own log keeps the full paths.
/// </summary>
public sealed class PluginViews(IOptions<PluginOptions> options)
{
    private readonly (string Folder, string Label)[] folders =
    [
        (Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.BuiltInFolder)), "built-in"),
        (Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Value.DropInFolder)), "drop-in"),
    ];

    /// <summary>The entry with its source and reason free of server paths.</summary>
    public PluginInfo Public(PluginInfo entry) => entry with { Source = Hide(entry.Source), Reason = entry.Reason is null ? null : Hide(entry.Reason) };

    /// <summary>Replaces each plugin folder's path in <paramref name="text"/> by its label.</summary>
    public string Hide(string text)
    {
        foreach (var (folder, label) in folders.OrderByDescending(f => f.Folder.Length))
            text = text.Replace(folder, label, StringComparison.Ordinal);
        return text.Replace(Path.DirectorySeparatorChar, '/');
    }
}
