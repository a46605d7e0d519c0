using Tracker.Core.Storage;
using Tracker.Core.Training;

namespace Tracker.Core.Running;

/// <summary>
/// Moves a trial's checkpoints between the local folder the trainer writes them to and the artifact store, where they
/// outlive the process (and, with a shared store, the machine): uploaded after every epoch, downloaded to resume a
/// promoted trial or to explain a prediction. They keep their names, <c>last.pt</c> and <c>best.pt</c>, at the top of
/// the trial's files.
/// </summary>
public static class CheckpointTransfer
{
    /// <summary>A fresh local working folder for one trial's checkpoints (deleted by <see cref="DeleteWorkFolder"/>).</summary>
    public static string NewWorkFolder(string trialId)
    {
        string folder = Path.Combine(Path.GetTempPath(), "tracker-trials", $"{trialId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Deletes a working folder, ignoring a folder that is already gone.</summary>
    public static void DeleteWorkFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; the trial's checkpoints are in the store.
        }
    }

    /// <summary>Uploads the checkpoints in <paramref name="folder"/> that changed since <paramref name="uploaded"/> recorded them.</summary>
    public static async Task UploadAsync(IArtifactStore artifacts, string trialId, string folder, Dictionary<string, DateTime> uploaded,
        CancellationToken cancellationToken = default)
    {
        foreach (var name in new[] { Checkpoints.Last, Checkpoints.Best })
        {
            var file = new FileInfo(Path.Combine(folder, name));
            if (!file.Exists || uploaded.TryGetValue(name, out var at) && at == file.LastWriteTimeUtc) continue;
            await using (var stream = file.OpenRead())
                await artifacts.WriteArtifactAsync(trialId, name, stream, cancellationToken: cancellationToken);
            uploaded[name] = file.LastWriteTimeUtc;
        }
    }

    /// <summary>
    /// Downloads the first of <paramref name="names"/> that a trial has into <paramref name="folder"/>; returns its local
    /// path, or <c>null</c> when the trial has none of them.
    /// </summary>
    public static async Task<string?> DownloadAsync(IArtifactStore artifacts, string trialId, string folder, IEnumerable<string> names,
        CancellationToken cancellationToken = default)
    {
        foreach (var name in names)
        {
            await using var source = await artifacts.OpenArtifactAsync(trialId, name, cancellationToken);
            if (source is null) continue;
            Directory.CreateDirectory(folder);
            string local = Path.Combine(folder, $"{trialId}-{name}");
            await using (var target = File.Create(local)) await source.CopyToAsync(target, cancellationToken);
            return local;
        }
        return null;
    }
}
