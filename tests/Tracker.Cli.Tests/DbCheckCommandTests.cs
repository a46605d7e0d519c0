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
        Assert.Contains("2 experiments and 5 trials among them", output);
        Assert.Matches(@"[1-9][0-9,]* records read back", output);
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
    public async Task Check_garbage_inside_a_page_fails_with_the_record_and_leaves_the_file_alone()
    {
        string file = Path.Combine(folder, "tracker.db");
        await using (var store = await StoreSelection.OpenAsync(new StoreOptions { Provider = StoreOptions.LiteDb, ConnectionString = file }))
        {
            await store.Stores.Experiments.SaveExperimentAsync(new Core.Experiments.Experiment { Id = "e1", Spec = new() { Name = "damaged" }, CreatedAt = DateTimeOffset.UtcNow });
            for (int i = 0; i < 40; i++)
                await store.Stores.Trials.SaveTrialAsync(new Core.Experiments.Trial
                {
                    Id = $"t{i}", ExperimentId = "e1", Number = i, Parameters = [], Epochs = 1, Notes = new string('n', 3000), CreatedAt = DateTimeOffset.UtcNow,
                }, [.. Enumerable.Range(0, 500).Select(s => new Core.Experiments.MetricPoint($"t{i}", "loss", s, 1.0 / (s + 1), DateTimeOffset.UtcNow))]);
        }
        long pages = new FileInfo(file).Length / 8192;
        await using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.Position = pages * 3 / 10 * 8192 + 1000; // inside a page, past its header
            var garbage = new byte[3000];
            new Random(7).NextBytes(garbage);
            stream.Write(garbage);
        }
        var before = SHA256.HashData(await File.ReadAllBytesAsync(file));

        var (code, output) = await Cli.RunAsync("db", "check", file);

        Assert.Equal(1, code);
        Assert.Contains("does not read back", output.Replace("\n", " "));
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(file)));
    }

    [Fact]
    public async Task Check_a_missing_file_is_an_input_error()
    {
        var (code, output) = await Cli.RunAsync("db", "check", Path.Combine(folder, "nothing.db"));

        Assert.Equal(2, code);
        Assert.Contains("There is no database", output);
    }
}
