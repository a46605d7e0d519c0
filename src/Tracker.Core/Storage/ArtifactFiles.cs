namespace Tracker.Core.Storage;

/// <summary>
/// The bytes of trials' artifacts as files under one root folder, one sub-folder per trial: the half of
/// <see cref="IArtifactStore"/> that every backend shares (the records of what the files are live in each backend's
/// database). A local or shared file system lets MLflow clients and plain tools read the files too.
/// </summary>
/// <remarks>
/// Every path stays below <see cref="Root"/>: artifact paths are relative, without <c>..</c> (<see cref="Normalise"/>), and
/// a symbolic link below the root (to a file or a folder, inside or outside it) is never followed: it is not listed, not
/// read (as if it were not there) and not written through. The root itself may be a link.
/// </remarks>
public sealed class ArtifactFiles
{
    private const string UploadPrefix = ".upload-";

    /// <summary>Serves the trial folders under <paramref name="root"/> (made when first written to).</summary>
    public ArtifactFiles(string root) => Root = Path.GetFullPath(root);

    /// <summary>The absolute root folder.</summary>
    public string Root { get; }

    /// <summary>The absolute folder of a trial's files.</summary>
    public string TrialFolder(string trialId)
    {
        if (string.IsNullOrEmpty(trialId) || trialId.IndexOfAny(['/', '\\']) >= 0 || trialId is "." or "..")
            throw new ArgumentException($"'{trialId}' is not a trial id.", nameof(trialId));
        return Path.Combine(Root, trialId);
    }

    /// <summary>See <see cref="IArtifactStore.ArtifactUri"/>.</summary>
    public string ArtifactUri(string trialId) => new Uri(TrialFolder(trialId)).AbsoluteUri;

    /// <summary>See <see cref="IArtifactStore.WriteArtifactAsync"/>.</summary>
    public async Task<long> WriteAsync(string trialId, string path, Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        string target = FilePath(trialId, path);
        if (PassesLink(target))
            throw new ArgumentException($"Invalid artifact path '{path}': it passes a symbolic link in the artifact folder, which is never written through.", nameof(path));
        string folder = Path.GetDirectoryName(target)!;
        if (Directory.Exists(target)) throw new ArtifactPathConflictException(path);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (IOException)
        {
            throw new ArtifactPathConflictException(path); // a part of the path is a file
        }
        // Written beside its target and renamed over it, so a reader never sees half a file.
        string temporary = Path.Combine(folder, UploadPrefix + Guid.NewGuid().ToString("N"));
        long written = 0;
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    written += read;
                    if (written > maxBytes) throw new ArtifactTooLargeException(maxBytes);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
            return written;
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>See <see cref="IArtifactStore.OpenArtifactAsync"/>.</summary>
    public Stream? Open(string trialId, string path)
    {
        string file = FilePath(trialId, path);
        if (!File.Exists(file) || PassesLink(file)) return null;
        try
        {
            return new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, useAsync: true);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>See <see cref="IArtifactStore.ListArtifactsAsync"/>.</summary>
    public IReadOnlyList<ArtifactEntry> List(string trialId, string folder)
    {
        string relative = Normalise(folder, allowEmpty: true);
        string directory = relative.Length == 0 ? TrialFolder(trialId) : Path.Combine(TrialFolder(trialId), relative);
        if (!Directory.Exists(directory) || PassesLink(directory)) return [];
        return new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(f => !f.Name.StartsWith(UploadPrefix, StringComparison.Ordinal) && !IsLink(f))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new ArtifactEntry(relative.Length == 0 ? f.Name : $"{relative}/{f.Name}", f is DirectoryInfo, f is FileInfo file ? file.Length : null))
            .ToList();
    }

    /// <summary>See <see cref="IArtifactStore.ListAllArtifactsAsync"/>.</summary>
    public IReadOnlyList<ArtifactEntry> ListAll(string trialId)
    {
        string top = TrialFolder(trialId);
        if (!Directory.Exists(top) || PassesLink(top)) return [];
        var files = new List<ArtifactEntry>();
        var folders = new Stack<DirectoryInfo>([new DirectoryInfo(top)]);
        while (folders.TryPop(out var folder))
        {
            // Walked by hand, so that a link to a folder is skipped rather than followed.
            foreach (var entry in folder.EnumerateFileSystemInfos())
            {
                if (IsLink(entry)) continue;
                if (entry is DirectoryInfo sub) folders.Push(sub);
                else if (entry is FileInfo file && !file.Name.StartsWith(UploadPrefix, StringComparison.Ordinal))
                    files.Add(new ArtifactEntry(Path.GetRelativePath(top, file.FullName).Replace('\\', '/'), false, file.Length));
            }
        }
        return files.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Whether <paramref name="path"/> (below <see cref="Root"/>), or a folder on the way to it, is a symbolic link:
    /// such a path is never read, listed or written through, wherever the link points.
    /// </summary>
    public bool PassesLink(string path)
    {
        string relative = Path.GetRelativePath(Root, Path.GetFullPath(path));
        if (relative == ".") return false;
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) return true; // not below the root at all
        string current = Root;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (IsLink(info)) return true;
            if (!Directory.Exists(current)) return false; // a file, or nothing: there is nothing further down to pass
        }
        return false;
    }

    private static bool IsLink(FileSystemInfo info)
    {
        try
        {
            return info.LinkTarget is not null;
        }
        catch (IOException)
        {
            return false; // not there (any more)
        }
    }

    /// <summary>
    /// Deletes a trial's folder with everything in it (links are removed, not followed); <c>true</c> when it is gone
    /// afterwards, also when there was none, <c>false</c> when some of it could not be removed.
    /// </summary>
    public bool DeleteTrial(string trialId)
    {
        string folder = TrialFolder(trialId);
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return !Directory.Exists(folder);
        }
    }

    /// <summary>
    /// Deletes the half-written uploads that a crash left behind (they are never listed, but take space). Returns how
    /// many were removed.
    /// </summary>
    public int SweepOrphanUploads()
    {
        if (!Directory.Exists(Root)) return 0;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, UploadPrefix + "*", SearchOption.AllDirectories))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
                // Being written right now by another process sharing the folder: its writer removes it.
            }
        }
        return removed;
    }

    private string FilePath(string trialId, string path) => Path.Combine(TrialFolder(trialId), Normalise(path, allowEmpty: false));

    /// <summary>A relative artifact path with '/' and no empty, '.' or '..' parts; refused otherwise.</summary>
    public static string Normalise(string? path, bool allowEmpty)
    {
        // A folder may be named with a trailing '/', but a leading one makes a path absolute: refused, never trimmed.
        string trimmed = (path ?? "").TrimEnd('/');
        if (allowEmpty && trimmed == "") return "";
        if (trimmed.StartsWith('/'))
            throw new ArgumentException($"Invalid artifact path '{path}': it must be relative to the trial's files.", nameof(path));
        if (trimmed.Length == 0)
            return allowEmpty ? "" : throw new ArgumentException("An artifact path must name a file.", nameof(path));
        if (trimmed.Contains('\\') || trimmed.Contains('\0') || Path.IsPathRooted(trimmed)
            || trimmed.Split('/').Any(part => part is "" or "." or ".."))
            throw new ArgumentException($"Invalid artifact path '{path}': it must be a relative path inside the trial's files, without '..'.", nameof(path));
        return trimmed;
    }
}
