using System.Text;
using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary><see cref="IArtifactStore"/>: trials' files as streams, listings, limits, refused paths, and their records.</summary>
public abstract class ArtifactStoreConformance : StoreConformance
{
    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private async Task<string?> ReadAsync(string trialId, string path)
    {
        await using var stream = await Artifacts.OpenArtifactAsync(trialId, path);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>The trial's folder on this machine, from the URI the store gives MLflow clients.</summary>
    private string TrialFolder(string trialId)
    {
        var uri = new Uri(Artifacts.ArtifactUri(trialId));
        Assert.True(uri.IsFile, $"{uri} is not a file: URI.");
        return uri.LocalPath;
    }

    private static IEnumerable<string> FilesUnder(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task WriteArtifactAsync_SeveralFiles_OpenListAndListAll()
    {
        await Trials.SaveTrialAsync(Trial("t1"));

        long size = await Artifacts.WriteArtifactAsync("t1", "model.pt", Bytes("weights!"));
        await Artifacts.WriteArtifactAsync("t1", "plots/loss.png", Bytes("png"));
        await Artifacts.WriteArtifactAsync("t1", "plots/deep/x.txt", Bytes("deep text"));
        await Artifacts.WriteArtifactAsync("t1", "B.txt", Bytes("capital"));

        Assert.Equal(8, size);
        Assert.Equal("weights!", await ReadAsync("t1", "model.pt"));
        Assert.Equal("deep text", await ReadAsync("t1", "plots/deep/x.txt"));
        Assert.Null(await ReadAsync("t1", "nothing.txt"));
        Assert.Null(await ReadAsync("t2", "model.pt"));
        Assert.Equal(
            [new ArtifactEntry("B.txt", false, 7), new ArtifactEntry("model.pt", false, 8), new ArtifactEntry("plots", true, null)],
            await Artifacts.ListArtifactsAsync("t1", ""));
        Assert.Equal(
            [new ArtifactEntry("plots/deep", true, null), new ArtifactEntry("plots/loss.png", false, 3)],
            await Artifacts.ListArtifactsAsync("t1", "plots"));
        Assert.Equal([new ArtifactEntry("plots/deep/x.txt", false, 9)], await Artifacts.ListArtifactsAsync("t1", "plots/deep"));
        Assert.Empty(await Artifacts.ListArtifactsAsync("t1", "no-such-folder"));
        Assert.Empty(await Artifacts.ListArtifactsAsync("t2", ""));
        Assert.Equal(["B.txt", "model.pt", "plots/deep/x.txt", "plots/loss.png"], (await Artifacts.ListAllArtifactsAsync("t1")).Select(e => e.Path));
        Assert.All(await Artifacts.ListAllArtifactsAsync("t1"), e => Assert.False(e.IsFolder));
        Assert.Empty(await Artifacts.ListAllArtifactsAsync("t2"));
    }

    [Fact]
    public async Task WriteArtifactAsync_LargerThanABuffer_RoundTripsEveryByte()
    {
        var content = new byte[300_000];
        new Random(3).NextBytes(content);

        long size = await Artifacts.WriteArtifactAsync("t1", "blob.bin", new MemoryStream(content), maxBytes: content.Length);

        Assert.Equal(content.Length, size);
        await using var stream = (await Artifacts.OpenArtifactAsync("t1", "blob.bin"))!;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task ArtifactUri_FileUri_NamesTheFolderTheFilesAreIn()
    {
        await Artifacts.WriteArtifactAsync("t1", "a/b.txt", Bytes("hello"));

        string folder = TrialFolder("t1");

        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(folder, "a", "b.txt")));
        Assert.NotEqual(TrialFolder("t1"), TrialFolder("t2"));
    }

    [Fact]
    public async Task WriteArtifactAsync_SamePathTwice_ReplacesTheFile()
    {
        await Artifacts.WriteArtifactAsync("t1", "notes.txt", Bytes("first version, longer"));

        long size = await Artifacts.WriteArtifactAsync("t1", "notes.txt", Bytes("second"));

        Assert.Equal(6, size);
        Assert.Equal("second", await ReadAsync("t1", "notes.txt"));
        Assert.Equal([new ArtifactEntry("notes.txt", false, 6)], await Artifacts.ListAllArtifactsAsync("t1"));
    }

    [Fact]
    public async Task WriteArtifactAsync_TooLarge_ThrowsAndKeepsNothing()
    {
        await Artifacts.WriteArtifactAsync("t1", "kept.txt", Bytes("old"));

        var error = await Assert.ThrowsAsync<ArtifactTooLargeException>(() => Artifacts.WriteArtifactAsync("t1", "big.bin", new MemoryStream(new byte[100]), maxBytes: 10));
        await Assert.ThrowsAsync<ArtifactTooLargeException>(() => Artifacts.WriteArtifactAsync("t1", "kept.txt", new MemoryStream(new byte[200_000]), maxBytes: 100_000));
        long exact = await Artifacts.WriteArtifactAsync("t1", "exact.bin", new MemoryStream(new byte[10]), maxBytes: 10);

        Assert.Equal(10, error.Limit);
        Assert.Equal(10, exact);
        Assert.Null(await Artifacts.OpenArtifactAsync("t1", "big.bin"));
        Assert.Equal("old", await ReadAsync("t1", "kept.txt"));
        Assert.Equal(["exact.bin", "kept.txt"], (await Artifacts.ListAllArtifactsAsync("t1")).Select(e => e.Path));
        Assert.Equal(["exact.bin", "kept.txt"], FilesUnder(TrialFolder("t1")).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // no leftover upload
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a\\b")]
    [InlineData("..\\x")]
    [InlineData("..")]
    [InlineData("a/..")]
    public async Task WriteArtifactAsync_PathLeavingTheTrial_RefusedWithArgumentException(string path)
    {
        string outside = Path.Combine(Harness.ArtifactRoot, "x");

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Artifacts.WriteArtifactAsync("t1", path, Bytes("evil")));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Artifacts.OpenArtifactAsync("t1", path));

        Assert.False(File.Exists(outside));
        Assert.Empty(await Artifacts.ListAllArtifactsAsync("t1"));
        Assert.Empty(FilesUnder(Harness.ArtifactRoot));
    }

    [Fact]
    public async Task WriteArtifactAsync_PathNamingAFolderOrRunningThroughAFile_Conflict()
    {
        await Artifacts.WriteArtifactAsync("t1", "plots/a.png", Bytes("png"));

        await Assert.ThrowsAsync<ArtifactPathConflictException>(() => Artifacts.WriteArtifactAsync("t1", "plots", Bytes("x")));
        await Assert.ThrowsAsync<ArtifactPathConflictException>(() => Artifacts.WriteArtifactAsync("t1", "plots/a.png/b.txt", Bytes("x")));

        Assert.Equal(["plots/a.png"], (await Artifacts.ListAllArtifactsAsync("t1")).Select(e => e.Path));
        Assert.Equal("png", await ReadAsync("t1", "plots/a.png"));
    }

    [Fact]
    public async Task ListArtifactsAsync_OrphanUploads_AreNotListed()
    {
        await Artifacts.WriteArtifactAsync("t1", "sub/real.txt", Bytes("real"));
        string folder = TrialFolder("t1");
        await File.WriteAllTextAsync(Path.Combine(folder, ".upload-0123456789abcdef"), "half");
        await File.WriteAllTextAsync(Path.Combine(folder, "sub", ".upload-fedcba9876543210"), "half");

        Assert.Equal([new ArtifactEntry("sub", true, null)], await Artifacts.ListArtifactsAsync("t1", ""));
        Assert.Equal([new ArtifactEntry("sub/real.txt", false, 4)], await Artifacts.ListArtifactsAsync("t1", "sub"));
        Assert.Equal(["sub/real.txt"], (await Artifacts.ListAllArtifactsAsync("t1")).Select(e => e.Path));
    }

    [Fact]
    public async Task WriteArtifactAsync_ConcurrentWritersOfOnePath_LastCompletedWriteIsWhole()
    {
        var contents = Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)('a' + i), 200_000).ToArray()).ToList();

        await Task.WhenAll(contents.Select(c => Task.Run(() => Artifacts.WriteArtifactAsync("t1", "same.bin", new MemoryStream(c)))));

        await using var stream = (await Artifacts.OpenArtifactAsync("t1", "same.bin"))!;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Contains(contents, c => c.AsSpan().SequenceEqual(copy.ToArray()));
        Assert.Equal(["same.bin"], (await Artifacts.ListAllArtifactsAsync("t1")).Select(e => e.Path));
    }

    [Fact]
    public async Task SaveArtifactMetadataAsync_SamePathTwice_ReplacesTheRecord()
    {
        await Trials.SaveTrialsAsync([Trial("t1"), Trial("t2", number: 1)]);
        var first = new ArtifactMetadata("t1", "images/0.png", "image/png", "a cat", "cat", "dog", T0);
        await Artifacts.SaveArtifactMetadataAsync(first);
        await Artifacts.SaveArtifactMetadataAsync(new ArtifactMetadata("t1", "report.json", "application/json", null, null, null, T0.AddSeconds(1)));
        await Artifacts.SaveArtifactMetadataAsync(new ArtifactMetadata("t2", "images/0.png", "image/png", null, null, null, T0));

        await Artifacts.SaveArtifactMetadataAsync(first with { Caption = "still a cat", PredictedLabel = "cat", LoggedAt = T0.AddMinutes(1) });

        var records = (await Artifacts.GetArtifactMetadataAsync("t1")).OrderBy(m => m.Path, StringComparer.Ordinal).ToList();
        Assert.Equal(
            [first with { Caption = "still a cat", PredictedLabel = "cat", LoggedAt = T0.AddMinutes(1) },
             new ArtifactMetadata("t1", "report.json", "application/json", null, null, null, T0.AddSeconds(1))],
            records);
        Assert.Single(await Artifacts.GetArtifactMetadataAsync("t2"));
        Assert.Empty(await Artifacts.GetArtifactMetadataAsync("none"));
    }
}
