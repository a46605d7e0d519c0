using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Tracker.Core.Storage;
using Tracker.Storage;

namespace Tracker.Cli.Tests;

/// <summary>
/// <c>tracker db backup</c>: a copy that <c>db check</c> passes and that holds what the source holds, the source left as it
/// was; an existing destination, a database a server holds and a PostgreSQL store are refused with what to do instead.
/// </summary>
[Collection(CliCollection.Name)]
public sealed partial class DbBackupCommandTests : IDisposable
{
    private readonly string folder = Cli.NewFolder();

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private string Path(params string[] parts) => System.IO.Path.Combine([folder, .. parts]);

    private static Task<OpenStore> OpenAsync(string file, string? artifacts = null) =>
        StoreSelection.OpenAsync(new StoreOptions { Provider = StoreOptions.LiteDb, ConnectionString = file, ArtifactRoot = artifacts ?? "" });

    private async Task<string> SeededSourceAsync()
    {
        string file = Path("data", "tracker.db");
        await using var source = await OpenAsync(file);
        await StoreContents.SeedAsync(source.Stores);
        return file;
    }

    // The console wraps long lines; the tests read its words.
    private static string Words(string output) => Spaces().Replace(output, " ");

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [Fact]
    public async Task Backup_writes_a_copy_that_checks_and_holds_what_the_source_holds()
    {
        string source = await SeededSourceAsync();
        var before = SHA256.HashData(await File.ReadAllBytesAsync(source));
        string destination = Path("backups", "tracker-copy.db");

        var (code, output) = await Cli.RunAsync("db", "backup", destination, "--db", source);

        Assert.True(code == 0, output);
        Assert.Contains("2 experiments and 5 trials among them", Words(output));
        Assert.Contains("artifacts: 3 files (1,712,345 bytes)", Words(output)); // the seeded files: 200,000 + 1,500,000 + 12,345 bytes
        Assert.True(File.Exists(destination));
        Assert.False(File.Exists(Path("backups", "tracker-copy-log.db")), "the copy is one file, its log merged into it");
        Assert.Equal(["tracker-copy-artifacts", "tracker-copy.db"],
            Directory.EnumerateFileSystemEntries(Path("backups")).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(source)));

        var (checkCode, checkOutput) = await Cli.RunAsync("db", "check", destination);
        Assert.True(checkCode == 0, checkOutput);
        Assert.Contains("2 experiments and 5 trials among them", Words(checkOutput));

        await using var from = await OpenAsync(source);
        await using var copy = await OpenAsync(destination, Path("backups", "tracker-copy-artifacts"));
        // Byte for byte, so a logged run still names the source's artifact folder (restored in place, that is the folder).
        await StoreContents.AssertSameAsync(from.Stores, copy.Stores, relocated: false);
    }

    [Fact]
    public async Task Backup_to_an_existing_file_is_refused_and_leaves_it_alone()
    {
        string source = await SeededSourceAsync();
        string destination = Path("old.db");
        await File.WriteAllTextAsync(destination, "yesterday's backup");

        var (code, output) = await Cli.RunAsync("db", "backup", destination, "--db", source);

        Assert.Equal(2, code);
        Assert.Contains($"DEST {destination} exists already", Words(output));
        Assert.Equal("yesterday's backup", await File.ReadAllTextAsync(destination));
        Assert.False(Directory.Exists(Path("old-artifacts")));
    }

    [Fact]
    public async Task Backup_of_a_database_in_use_names_the_holder_and_how_to_back_up()
    {
        string source = await SeededSourceAsync();
        string destination = Path("backups", "tracker-copy.db");

        (int code, string output) result;
        await using (await OpenAsync(source)) // as a running server holds it
            result = await Cli.RunAsync("db", "backup", destination, "--db", source);

        Assert.Equal(1, result.code);
        string words = Words(result.output);
        Assert.Contains($"is in use by process {Environment.ProcessId} on {Environment.MachineName}", words);
        Assert.Contains("stop the server, run tracker db backup, then start it again", words);
        Assert.False(File.Exists(destination));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path("backups"))); // no copy, no work folder left behind
    }

    [Fact]
    public async Task Backup_of_a_PostgreSQL_store_prints_the_pg_dump_command()
    {
        string config = Path("appsettings.json");
        await File.WriteAllTextAsync(config, """
            { "Store": { "Provider": "postgres", "ArtifactRoot": "/srv/tracker/artifacts",
                         "ConnectionString": "Host=db.example;Port=5433;Username=tracker;Password=s3cret;Database=runs" } }
            """);

        var (code, output) = await Cli.RunAsync("db", "backup", Path("runs.dump"), "--config", config);

        Assert.Equal(2, code);
        string words = Words(output);
        Assert.Contains($"pg_dump --format=custom --file {Path("runs.dump")} --host db.example --port 5433 --username tracker runs", words);
        Assert.Contains("copy its artifact folder /srv/tracker/artifacts", words);
        Assert.DoesNotContain("s3cret", output);
        Assert.False(File.Exists(Path("runs.dump")));
    }
}
