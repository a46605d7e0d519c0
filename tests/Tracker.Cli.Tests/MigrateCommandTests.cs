using Tracker.Cli.Commands;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Tests.Postgres;

namespace Tracker.Cli.Tests;

/// <summary>
/// <c>tracker migrate</c>: every record of a seeded store arrives in the target, compared field by field, between LiteDB
/// files and into and out of a PostgreSQL database of the throwaway test cluster (skipped, saying why, without PostgreSQL).
/// </summary>
// In the command-line collection, so it runs one at a time with the other commands, which share process-wide state
// (libtorch, the command line's statics).
[Collection(CliCollection.Name)]
public sealed class MigrateCommandTests(PostgresCluster cluster) : IDisposable
{
    private readonly string folder = Cli.NewFolder();

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
    }

    private string Path(params string[] parts) => System.IO.Path.Combine([folder, .. parts]);

    private static Task<OpenStore> OpenLiteDbAsync(string file) =>
        StoreSelection.OpenAsync(new StoreOptions { Provider = StoreOptions.LiteDb, ConnectionString = file });

    private static Task<OpenStore> OpenPostgresAsync(string connectionString, string artifactRoot) =>
        StoreSelection.OpenAsync(new StoreOptions { Provider = StoreOptions.Postgres, ConnectionString = connectionString, ArtifactRoot = artifactRoot });

    private async Task<string> SeededSourceAsync()
    {
        string file = Path("source", "tracker.db");
        await using var source = await OpenLiteDbAsync(file);
        await StoreContents.SeedAsync(source.Stores);
        return file;
    }

    [Fact]
    public async Task Migrate_copies_a_LiteDB_file_into_another_whole()
    {
        string source = await SeededSourceAsync();
        string target = Path("target", "tracker.db");

        var (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", target);

        Assert.True(code == 0, output);
        Assert.Matches(@"│ experiments +│ +2 │", output);
        Assert.Matches(@"│ trials +│ +5 │", output);
        Assert.Matches(@"│ metric series +│ +6 │", output);
        Assert.Matches(@"│ metric points +│ +30,055 │", output);
        Assert.Matches(@"│ reports +│ +4 │", output);
        Assert.Matches(@"│ sample images +│ +3 │", output);
        Assert.Matches(@"│ artifact files +│ +3 │", output);
        Assert.Matches(@"│ artifact records +│ +2 │", output);
        Assert.Matches(@"│ API keys +│ +2 │", output);
        Assert.True(File.Exists(Path("target", "artifacts", StoreContents.MainTrial, "last.pt")));
        await using var from = await OpenLiteDbAsync(source);
        await using var to = await OpenLiteDbAsync(target);
        await StoreContents.AssertSameAsync(from.Stores, to.Stores);
    }

    [Fact]
    public async Task Migrate_copies_a_LiteDB_file_into_PostgreSQL_and_back()
    {
        string connection = await cluster.CreateDatabaseAsync();
        try
        {
            string source = await SeededSourceAsync();
            string pgFiles = Path("pg-artifacts");

            var (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", connection, "--to-artifacts", pgFiles);

            Assert.True(code == 0, output);
            Assert.Contains("PostgreSQL Host=127.0.0.1", output);
            Assert.Matches(@"│ metric points +│ +30,055 │", output);
            await using (var from = await OpenLiteDbAsync(source))
            await using (var to = await OpenPostgresAsync(connection, pgFiles))
                await StoreContents.AssertSameAsync(from.Stores, to.Stores);

            // And out again, into a new file: the PostgreSQL backend as a source.
            string back = Path("back", "tracker.db");
            (code, output) = await Cli.RunAsync("migrate", "--from", connection, "--from-artifacts", pgFiles, "--to", back);

            Assert.True(code == 0, output);
            await using (var from = await OpenLiteDbAsync(source))
            await using (var to = await OpenLiteDbAsync(back))
                await StoreContents.AssertSameAsync(from.Stores, to.Stores);

            // A second migration into the database, now in use, is refused and changes nothing.
            string before;
            await using (var pg = await OpenPostgresAsync(connection, pgFiles)) before = await StoreContents.SummaryAsync(pg.Stores);

            (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", connection, "--to-artifacts", pgFiles);

            Assert.Equal(TrackerCli.InvalidInput, code);
            Assert.Contains("not empty", output);
            await using (var pg = await OpenPostgresAsync(connection, pgFiles)) Assert.Equal(before, await StoreContents.SummaryAsync(pg.Stores));
        }
        finally
        {
            await cluster.DropDatabaseAsync(connection);
        }
    }

    [Fact]
    public async Task PostgreSQL_hands_out_trial_numbers_after_the_highest_copied_one()
    {
        string connection = await cluster.CreateDatabaseAsync();
        try
        {
            await using var store = await OpenPostgresAsync(connection, Path("pg-artifacts"));
            var trials = store.Stores.Trials;
            // A counter that already exists (it handed out 0 and 1) moves past saved numbers too.
            Assert.Equal(0, await trials.NextTrialNumberAsync("e-counted"));
            Assert.Equal(1, await trials.NextTrialNumberAsync("e-counted"));
            await trials.SaveTrialsAsync([Trial("a", "e-copied", 4), Trial("b", "e-copied", 9), Trial("c", "e-counted", 6)]);

            Assert.Equal(10, await trials.NextTrialNumberAsync("e-copied"));
            Assert.Equal(11, await trials.NextTrialNumberAsync("e-copied"));
            Assert.Equal(7, await trials.NextTrialNumberAsync("e-counted"));
        }
        finally
        {
            await cluster.DropDatabaseAsync(connection);
        }
    }

    [Fact]
    public async Task LiteDB_hands_out_trial_numbers_after_the_highest_copied_one()
    {
        await using var store = await OpenLiteDbAsync(Path("numbers.db"));
        var trials = store.Stores.Trials;
        Assert.Equal(0, await trials.NextTrialNumberAsync("e-counted"));
        Assert.Equal(1, await trials.NextTrialNumberAsync("e-counted"));
        await trials.SaveTrialsAsync([Trial("a", "e-copied", 4), Trial("b", "e-copied", 9), Trial("c", "e-counted", 6)]);

        Assert.Equal(10, await trials.NextTrialNumberAsync("e-copied"));
        Assert.Equal(11, await trials.NextTrialNumberAsync("e-copied"));
        Assert.Equal(7, await trials.NextTrialNumberAsync("e-counted"));
    }

    [Fact]
    public async Task Migrate_into_a_store_that_holds_experiments_is_refused_and_changes_nothing()
    {
        string source = await SeededSourceAsync();
        string target = Path("live", "tracker.db");
        string before;
        await using (var live = await OpenLiteDbAsync(target))
        {
            await live.Stores.Experiments.SaveExperimentAsync(new Experiment { Id = "live", CreatedAt = StoreContents.T0, Spec = new ExperimentSpec { Name = "in use" } });
            await live.Stores.Trials.SaveTrialsAsync([Trial("live-t0", "live", 0)]);
            before = await StoreContents.SummaryAsync(live.Stores);
        }

        var (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", target);

        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("not empty", output);
        Assert.Contains("1 experiment(s)", output);
        await using var after = await OpenLiteDbAsync(target);
        Assert.Equal(before, await StoreContents.SummaryAsync(after.Stores));
        Assert.False(Directory.Exists(Path("live", "artifacts", StoreContents.MainTrial)));
    }

    [Fact]
    public async Task Migrate_into_a_store_that_holds_only_API_keys_is_refused()
    {
        string source = await SeededSourceAsync();
        string target = Path("keys", "tracker.db");
        await using (var live = await OpenLiteDbAsync(target))
            await live.Stores.ApiKeys.AddApiKeyAsync(new ApiKeyRecord("k", "ci", new string('a', 64), "trk_aaaa", StoreContents.T0));

        var (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", target);

        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("1 API key(s)", output);
        await using var after = await OpenLiteDbAsync(target);
        Assert.Empty(await after.Stores.Experiments.ListExperimentsAsync());
    }

    [Fact]
    public async Task Migrate_says_what_is_wrong_with_its_input()
    {
        string source = await SeededSourceAsync();

        var (code, output) = await Cli.RunAsync("migrate", "--from", source);
        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("--to", output);

        (code, output) = await Cli.RunAsync("migrate", "--from", Path("missing.db"), "--to", Path("new.db"));
        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("There is no database", output);
        Assert.False(File.Exists(Path("new.db")));

        (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", source);
        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("same store", output);

        (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", "Hots=127.0.0.1;Database=x");
        Assert.Equal(TrackerCli.InvalidInput, code);
        Assert.Contains("target", output);

        using (new LiteDbStore(source))
        {
            (code, output) = await Cli.RunAsync("migrate", "--from", source, "--to", Path("new.db"));
            Assert.Equal(TrackerCli.Failure, code);
            Assert.Contains("in use", output);
        }
    }

    [Fact]
    public void A_connection_string_is_shown_without_its_password()
    {
        var store = MigrationStore.Parse("Host=db;Username=tracker;Password=s3cret;Database=tracker", null, "--to");

        Assert.Equal(StoreOptions.Postgres, store.Provider);
        Assert.Equal("PostgreSQL Host=db;Username=tracker;Password=***;Database=tracker", store.Display);
        Assert.Equal(System.IO.Path.GetFullPath("data/artifacts"), store.ArtifactRoot);
        var file = MigrationStore.Parse("data/tracker.db", null, "--from");
        Assert.Equal(StoreOptions.LiteDb, file.Provider);
        Assert.Equal(System.IO.Path.GetFullPath("data/artifacts"), file.ArtifactRoot);
    }

    [Fact]
    public async Task StoreCopy_reads_and_writes_series_in_small_pages_and_batches_in_order_and_leaves_a_shared_artifact_folder_alone()
    {
        await using var from = await OpenLiteDbAsync(Path("small", "from.db"));
        await using var to = await OpenLiteDbAsync(Path("small", "to.db"));
        // A step with more points than a page, and batches that end inside it.
        await StoreContents.SeedAsync(from.Stores, crowdedStep: 3_000);
        var lines = new List<string>();

        var report = await new StoreCopy(metricBatch: 4_999, metricPage: 1_234).CopyAsync(from.Stores, to.Stores, new Lines(lines), TestContext.Current.CancellationToken);

        Assert.Equal(30_055, report.Points);
        // Two files in one folder share artifacts/ beside them: the files are already in place, and stay whole.
        Assert.Equal((0, 0, 3), (report.ArtifactFiles, report.ArtifactBytes, report.ArtifactFilesInPlace));
        Assert.Contains(lines, l => l.Contains("mig-e1", StringComparison.Ordinal));
        await StoreContents.AssertSameAsync(from.Stores, to.Stores);
    }

    private static Trial Trial(string id, string experimentId, int number) => new()
    {
        Id = id,
        ExperimentId = experimentId,
        Number = number,
        Parameters = [],
        Epochs = 1,
        CreatedAt = StoreContents.T0,
    };

    private sealed class Lines(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
