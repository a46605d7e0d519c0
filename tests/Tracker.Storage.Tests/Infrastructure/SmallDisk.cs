using System.Diagnostics;

namespace Tracker.Storage.Tests.Infrastructure;

/// <summary>
/// A real, small file system: a tmpfs of a few MiB mounted on a temporary folder for one test, and unmounted after it.
/// Writes past its size fail with ENOSPC, as on a full disk. Mounting needs root (or CAP_SYS_ADMIN), which the test
/// machines have; the error says so when it is missing rather than skipping the test.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    /// <summary>The mounted folder.</summary>
    public string Path { get; }

    /// <summary>
    /// Mounts a tmpfs of <paramref name="mebibytes"/> MiB on a new temporary folder, owned by <paramref name="owner"/>
    /// (a user name, e.g. <c>postgres</c>) when given.
    /// </summary>
    public static SmallDisk Mount(int mebibytes, string? owner = null)
    {
        string path = Directory.CreateTempSubdirectory("tracker-small-disk-").FullName;
        string options = $"size={mebibytes}m";
        if (owner is not null)
        {
            var (uidCode, uid) = Run("id", "-u", owner);
            var (gidCode, gid) = Run("id", "-g", owner);
            if (uidCode != 0 || gidCode != 0) throw new InvalidOperationException($"No user {owner}: {uid} {gid}");
            options += $",uid={uid},gid={gid},mode=0700";
        }
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", options, "tracker-small-disk", path);
        if (code != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"Cannot mount a {mebibytes} MiB tmpfs on {path} (exit {code}): {output}. "
                + "The disk-full tests need root or CAP_SYS_ADMIN to mount one.");
        }
        return new SmallDisk(path);
    }

    /// <summary>Fills all but <paramref name="leaveBytes"/> of the free space with a file; deleting it frees the space again.</summary>
    public string Fill(long leaveBytes)
    {
        string filler = System.IO.Path.Combine(Path, $"filler-{Guid.NewGuid():N}");
        long free = new DriveInfo(Path).AvailableFreeSpace - leaveBytes;
        using var stream = File.Create(filler);
        var chunk = new byte[64 * 1024];
        Random.Shared.NextBytes(chunk); // tmpfs keeps what is written, random or not
        while (free > 0)
        {
            int n = (int)Math.Min(chunk.Length, free);
            stream.Write(chunk, 0, n);
            free -= n;
        }
        return filler;
    }

    /// <summary>
    /// Makes one existing file read-only for everyone, root included, until the answer is disposed: the file is
    /// bind-mounted onto itself and the bind remounted read-only, so opening it for writing fails with EROFS. Handles
    /// opened before keep writing, as they would after a chmod.
    /// </summary>
    public static IDisposable ReadOnlyFile(string file)
    {
        var (code, output) = Run("mount", "--bind", file, file);
        if (code != 0) throw new InvalidOperationException($"Cannot bind-mount {file} (exit {code}): {output}");
        (code, output) = Run("mount", "-o", "remount,ro,bind", file, file);
        if (code != 0)
        {
            Run("umount", file);
            throw new InvalidOperationException($"Cannot make {file} read-only (exit {code}): {output}");
        }
        return new Unmount(file);
    }

    private sealed class Unmount(string path) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            for (int attempt = 0; !done && attempt < 50; attempt++)
            {
                done = Run("umount", path).Code == 0;
                if (!done) Thread.Sleep(100);
            }
        }
    }

    /// <summary>Unmounts the file system and removes the folder.</summary>
    public void Dispose()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            if (Run("umount", Path).Code == 0) break;
            Thread.Sleep(100); // a file the test just closed can keep the mount busy for a moment
        }
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Still mounted: the next boot's tmp cleanup takes it.
        }
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}
