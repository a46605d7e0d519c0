using System.Security.Cryptography;
using Tracker.Core.Storage;
using Tracker.Storage;

namespace Tracker.Cli.Tests;

/// <summary><c>tracker db check</c>: a sound file passes with what it read; a damaged one fails with the reason and is not changed.</summary>
[Collection(CliCollection.Name)]
public sealed class DbCheckCommandTests : IDisposable
{
    private readonly string folder = Cli.NewFolder();

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Check_a_sound_database_reads_every_record()
    {
        string file = Path.Combine(folder, "tracker.db");
        await using (var store = await StoreSelection.OpenAsync(new StoreOptions { Provider = StoreOptions.LiteDb, ConnectionString = file }))
            await StoreContents.SeedAsync(store.Stores);

        var (code, output) = await Cli.RunAsync("db", "check", file);

        Assert.True(code == 0, output);
        Assert.Contains("ok:", output);
        Assert.Contains("2 experiments and 5 trials read back", output);
    }

    [Fact]
    public async Task Check_a_text_file_fails_with_the_reason_and_leaves_it_alone()
    {
        string file = Path.Combine(folder, "notes.db");
        await File.WriteAllTextAsync(file, new string('x', 20_000));
        var before = SHA256.HashData(await File.ReadAllBytesAsync(file));

        var (code, output) = await Cli.RunAsync("db", "check", file);

        Assert.Equal(1, code);
        Assert.Contains("not a LiteDB database", output.Replace("\n", " "));
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(file)));
        Assert.Equal(20_000, new FileInfo(file).Length);
    }

    [Fact]
    public async Task Check_a_missing_file_is_an_input_error()
    {
        var (code, output) = await Cli.RunAsync("db", "check", Path.Combine(folder, "nothing.db"));

        Assert.Equal(2, code);
        Assert.Contains("There is no database", output);
    }
}
