using System.Security.Cryptography;
using Tracker.Storage.LiteDb;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.LiteDb;

/// <summary>
/// Damaged files and files that are not databases are refused with an error naming the file and the reason, and are
/// left byte for byte as they were: LiteDB on its own replaces a short file with a new database, rewrites headers,
/// and extends the file to whatever page a garbage log names.
/// </summary>
public sealed class LiteDbDamageTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-litedb-damage-").FullName;

    private string DatabasePath => Path.Combine(folder, "tracker.db");

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private StoreDamagedException Refused()
    {
        var error = Assert.Throws<StoreDamagedException>(() => new LiteDbStore(DatabasePath, Path.Combine(folder, "files")).Dispose());
        Assert.Equal(DatabasePath, error.DatabasePath);
        Assert.Contains(DatabasePath, error.Message);
        return error;
    }

    private static byte[] Hash(string path) => SHA256.HashData(File.ReadAllBytes(path));

    /// <summary>A real database with some trials and points, closed; its length in pages.</summary>
    private async Task<long> RealDatabaseAsync()
    {
        using (var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files")))
        {
            await store.SaveExperimentAsync(Experiment("e1"));
            for (int i = 0; i < 40; i++)
                await store.SaveTrialAsync(FullTrial($"t{i}", "e1", i, TrialState.Completed) with { Notes = new string('n', 3000) },
                    [.. Enumerable.Range(0, 500).Select(s => Point($"t{i}", "loss", s, 1.0 / (s + 1)))]);
        }
        return new FileInfo(DatabasePath).Length / LiteDbFileCheck.PageSize;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(20_000)]
    [InlineData(16_384)]
    public void TextFile_Refused_Untouched(int bytes)
    {
        File.WriteAllText(DatabasePath, new string('x', bytes));
        var before = Hash(DatabasePath);

        var error = Refused();

        Assert.Contains(bytes == 0 ? "empty" : "not a LiteDB database", error.Reason);
        Assert.Equal(bytes, new FileInfo(DatabasePath).Length);
        Assert.Equal(before, Hash(DatabasePath));
        Assert.False(File.Exists(LiteDbFileCheck.LogPath(DatabasePath)));
    }

    [Theory]
    [InlineData(1000, "not a whole number")]                        // mid-page
    [InlineData(2 * LiteDbFileCheck.PageSize, "cut short")]         // at a page boundary
    public async Task CutShort_Refused_Untouched(int bytesCut, string reason)
    {
        long pages = await RealDatabaseAsync();
        Assert.True(pages > 4, $"the sample database has {pages} pages");
        using (var file = new FileStream(DatabasePath, FileMode.Open)) file.SetLength(pages * LiteDbFileCheck.PageSize - bytesCut);
        var before = Hash(DatabasePath);

        var error = Refused();

        Assert.Contains(reason, error.Reason);
        Assert.Equal(before, Hash(DatabasePath));
    }

    [Theory]
    [InlineData(0.5, 20_000)] // over two page starts in the middle
    [InlineData(0.9, 9_000)]  // over one page start near the end
    public async Task GarbageInTheMiddle_Refused_Untouched(double at, int bytes)
    {
        long pages = await RealDatabaseAsync();
        long offset = (long)(pages * at) * LiteDbFileCheck.PageSize - 100; // from just before a page's start
        var garbage = new byte[bytes];
        new Random(7).NextBytes(garbage);
        using (var file = new FileStream(DatabasePath, FileMode.Open))
        {
            file.Position = offset;
            file.Write(garbage);
        }
        var before = Hash(DatabasePath);

        var error = Refused();

        Assert.Contains($"page {offset / LiteDbFileCheck.PageSize + 1:N0} ", error.Reason);
        Assert.Contains("damaged", error.Reason);
        Assert.Equal(before, Hash(DatabasePath));
    }

    [Fact]
    public async Task GarbageLog_Refused_NeitherFileTouched()
    {
        await RealDatabaseAsync();
        string log = LiteDbFileCheck.LogPath(DatabasePath);
        var garbage = new byte[8 * LiteDbFileCheck.PageSize];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(log, garbage);
        var (database, logBefore) = (Hash(DatabasePath), Hash(log));
        long length = new FileInfo(DatabasePath).Length;

        var error = Refused();

        Assert.Contains("log", error.Reason);
        Assert.Contains(log, error.Reason);
        Assert.Equal(length, new FileInfo(DatabasePath).Length);
        Assert.Equal(database, Hash(DatabasePath));
        Assert.Equal(logBefore, Hash(log));
    }

    [Fact]
    public async Task HealthyDatabase_Opens_WithEverything()
    {
        await RealDatabaseAsync();

        using var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files"));

        Assert.Equal(40, (await store.ListTrialsAsync("e1")).Count);
        var page = await store.ReadMetricsAsync("t39", "loss", default, 1000);
        Assert.Equal(500, page.Points.Count);
    }

    [Fact]
    public async Task Refusal_LeavesNoLockBehind()
    {
        File.WriteAllText(DatabasePath, "not a database");
        Refused();
        File.Delete(DatabasePath);

        using var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files"));

        Assert.Empty(await store.ListExperimentsAsync());
    }

    // Garbage inside pages, past their headers: the open check does not see it (it reads headers only); reading every
    // record does, and from then on the store writes nothing into the file.
    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public async Task GarbageInsideAPage_FoundByVerification_WritesRefused_FileUntouched(double at)
    {
        long pages = await RealDatabaseAsync();
        long offset = (long)(pages * at) * LiteDbFileCheck.PageSize + 1000;
        var garbage = new byte[3000];
        new Random(7).NextBytes(garbage);
        using (var file = new FileStream(DatabasePath, FileMode.Open))
        {
            file.Position = offset;
            file.Write(garbage);
        }
        var before = Hash(DatabasePath);

        using (var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files")))
        {
            Assert.False(store.IsDamaged);
            var damaged = await Assert.ThrowsAsync<StoreDamagedException>(() => store.VerifyAsync());
            Assert.Equal(DatabasePath, damaged.DatabasePath);
            Assert.Contains("does not read back", damaged.Reason);
            Assert.True(store.IsDamaged);

            var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.SaveExperimentAsync(Experiment("e2")));
            Assert.Contains("tracker db check", refused.Message);
            await Assert.ThrowsAsync<StoreUnavailableException>(() => store.AppendMetricsAsync([Point("t0", "loss", 9999, 1)]));
        }
        Assert.Equal(before, Hash(DatabasePath));
    }

    [Fact]
    public async Task HealthyDatabase_Verified_EveryRecordReadBack()
    {
        await RealDatabaseAsync();
        using var store = new LiteDbStore(DatabasePath, Path.Combine(folder, "files"));

        long records = await store.VerifyAsync();

        Assert.True(records > 41, $"{records} records"); // the experiment, 40 trials, their series and points
        Assert.False(store.IsDamaged);
        await store.SaveExperimentAsync(Experiment("e2"));
    }
}
