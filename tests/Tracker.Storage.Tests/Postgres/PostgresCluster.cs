using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Tracker.Storage.Postgres;

[assembly: AssemblyFixture(typeof(Tracker.Storage.Tests.Postgres.PostgresCluster))]

namespace Tracker.Storage.Tests.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster for the whole test run, started from the machine's PostgreSQL binaries (Debian's
/// <c>postgresql</c> package: <c>/usr/lib/postgresql/&lt;version&gt;/bin</c>, else <c>PATH</c>) the first time a test asks
/// for a database, in a temporary folder on a free loopback port, and removed at the end. Each test gets a database of
/// its own, so tests run in parallel without seeing each other. Without binaries, or when the cluster does not start,
/// every PostgreSQL test is skipped with the reason.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    /// <summary>Names the folder of initdb and pg_ctl, instead of looking for them.</summary>
    public const string BinariesVariable = "TRACKER_TEST_POSTGRES_BIN";

    /// <summary>The migrated database every <see cref="CreateDatabaseAsync"/> copies.</summary>
    public const string TemplateName = "tracker_template";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);
    private readonly SemaphoreSlim gate = new(1, 1);
    private bool started;
    private string? failure;
    private string? templateFailure;
    private string? binaries;
    private string? folder;
    private int port;
    private int serverMajor;
    private NpgsqlDataSource? admin;

    /// <summary>Whether the server processes run as the <c>postgres</c> user (PostgreSQL refuses to run as root).</summary>
    private static bool AsRoot => Environment.UserName == "root";

    private string DataFolder => Path.Combine(folder!, "data");

    /// <summary>
    /// A new database holding the current schema (a copy of the migrated template) on the cluster, starting it first if
    /// need be, as an Npgsql connection string; skips the calling test when there is no cluster.
    /// </summary>
    public async Task<string> CreateDatabaseAsync()
    {
        await EnsureStartedAsync();
        if (templateFailure is not null) throw new InvalidOperationException($"The template database could not be migrated: {templateFailure}");
        // FILE_COPY (PostgreSQL 15+, whose default WAL-logs every page of the copy) copies the template's files as they are.
        return await CreateAsync($"TEMPLATE {TemplateName}{(serverMajor >= 15 ? " STRATEGY FILE_COPY" : "")}");
    }

    /// <summary>
    /// A new database holding the current schema whose files live in <paramref name="folder"/> (an empty folder the
    /// <c>postgres</c> user owns), through a tablespace of its own: a small file system there makes a full disk for
    /// this database alone.
    /// </summary>
    public async Task<string> CreateDatabaseInAsync(string folder)
    {
        await EnsureStartedAsync();
        if (failure is not null) Assert.Skip($"PostgreSQL tests skipped: {failure}");
        string tablespace = "ts_" + Guid.NewGuid().ToString("N");
        await ChangeDatabasesAsync($"CREATE TABLESPACE {tablespace} LOCATION '{folder.Replace("'", "''")}'");
        return await CreateAsync($"TEMPLATE {TemplateName} TABLESPACE {tablespace}");
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseInAsync"/> and then its tablespace, so that its folder is let go.</summary>
    public async Task DropDatabaseAndTablespaceAsync(string connectionString)
    {
        await DropDatabaseAsync(connectionString);
        await using var command = admin!.CreateCommand("SELECT spcname FROM pg_tablespace WHERE spcname LIKE 'ts\\_%'");
        var names = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        foreach (var name in names)
        {
            try
            {
                await ChangeDatabasesAsync($"DROP TABLESPACE {Quoted(name)}");
            }
            catch (NpgsqlException)
            {
                // Another test's tablespace still in use: it drops its own.
            }
        }
    }

    /// <summary>
    /// A new database without any table (as <c>createdb</c> makes one), for tests of the migrations themselves; skips
    /// the calling test when there is no cluster.
    /// </summary>
    public async Task<string> CreateEmptyDatabaseAsync()
    {
        await EnsureStartedAsync();
        return await CreateAsync("");
    }

    /// <summary>Why there is no cluster (no binaries, or it did not start), or <c>null</c> when there is one; starts it if need be.</summary>
    public async Task<string?> UnavailableAsync()
    {
        await EnsureStartedAsync();
        return failure is null ? null : $"PostgreSQL tests skipped: {failure}";
    }

    // Creating or dropping a database makes the cluster checkpoint, and a checkpoint fails while a test has filled the
    // disk under a tablespace (the checkpointer cannot write that tablespace's pages). Such a test holds this gate from
    // filling the disk until it has room again; creating and dropping databases wait meanwhile.
    private readonly SemaphoreSlim fullDiskGate = new(1, 1);
    private int databaseChanges; // creating or dropping now

    /// <summary>
    /// Holds back creating and dropping databases (waiting for those under way) until the answer is disposed: take it
    /// before filling a disk under this cluster, and dispose it once the disk has room again.
    /// </summary>
    public async Task<IAsyncDisposable> HoldDatabaseChangesAsync()
    {
        await fullDiskGate.WaitAsync();
        while (Volatile.Read(ref databaseChanges) > 0) await Task.Delay(20);
        return new GateRelease(fullDiskGate);
    }

    private sealed class GateRelease(SemaphoreSlim gate) : IAsyncDisposable
    {
        private int released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) gate.Release();
            return ValueTask.CompletedTask;
        }
    }

    // Runs a statement that creates or drops a database once no disk is being filled.
    private async Task ChangeDatabasesAsync(string sql)
    {
        await fullDiskGate.WaitAsync();
        Interlocked.Increment(ref databaseChanges);
        fullDiskGate.Release();
        try
        {
            await ExecuteAsync(sql);
        }
        finally
        {
            Interlocked.Decrement(ref databaseChanges);
        }
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its connections; failures are ignored.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        string? name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (name is null || admin is null) return;
        try
        {
            // WITH (FORCE) (PostgreSQL 13+) ends the sessions still open on it, e.g. a pool not yet disposed.
            await ChangeDatabasesAsync($"DROP DATABASE IF EXISTS {Quoted(name)}{(serverMajor >= 13 ? " WITH (FORCE)" : "")}");
        }
        catch (NpgsqlException)
        {
        }
    }

    private async Task<string> CreateAsync(string options)
    {
        if (failure is not null) Assert.Skip($"PostgreSQL tests skipped: {failure}");
        string name = "t_" + Guid.NewGuid().ToString("N");
        try
        {
            await ChangeDatabasesAsync($"CREATE DATABASE {name} {options}");
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException($"CREATE DATABASE {name} {options} failed: {e.Message}", e);
        }
        return ConnectionString(name);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = admin!.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static string Quoted(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private string Port => port.ToString(CultureInfo.InvariantCulture);

    private string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=30;Command Timeout=60";

    private async Task EnsureStartedAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (started) return;
            started = true;
            failure = await StartAsync();
            if (failure is null) templateFailure = await CreateTemplateAsync();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Starts the cluster; returns why it could not, or <c>null</c>.</summary>
    private async Task<string?> StartAsync()
    {
        binaries = FindBinaries();
        if (binaries is null)
            return Environment.GetEnvironmentVariable(BinariesVariable) is { } chosen
                ? $"{BinariesVariable} is '{chosen}', which holds no initdb and pg_ctl."
                : "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or on PATH; install Debian's postgresql package.";
        folder = Directory.CreateTempSubdirectory("tracker-pg-").FullName;
        if (AsRoot)
        {
            var (chownExit, chownOutput) = await RunAsync("chown", ["-R", "postgres:postgres", folder], asPostgres: false);
            if (chownExit != 0) return $"running as root, and the folder cannot be given to the postgres user: {chownOutput.Trim()}";
        }
        var (initExit, initOutput) = await RunAsync(Tool("initdb"), ["-D", DataFolder, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres: AsRoot);
        if (initExit != 0) return $"initdb failed ({initExit}): {Last(initOutput)}";
        string log = Path.Combine(folder, "log");
        string lastError = "";
        for (int attempt = 0; attempt < 3; attempt++)
        {
            port = FreePort();
            string options = $"-p {Port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300";
            var (exit, output) = await RunAsync(Tool("pg_ctl"), ["-D", DataFolder, "-o", options, "-w", "-t", "60", "-l", log, "start"], asPostgres: AsRoot);
            if (exit == 0) return null;
            lastError = $"pg_ctl start failed ({exit}): {Last(output)} {Last(File.Exists(log) ? await File.ReadAllTextAsync(log) : "")}";
            await RunAsync(Tool("pg_ctl"), ["-D", DataFolder, "stop", "-m", "immediate", "-w"], asPostgres: AsRoot); // in case it half started
        }
        return lastError;
    }

    /// <summary>
    /// Connects, reads the server's version, and creates and migrates <see cref="TemplateName"/>; returns why that
    /// failed, or <c>null</c>. The template then refuses connections, since a database with sessions cannot be copied.
    /// </summary>
    private async Task<string?> CreateTemplateAsync()
    {
        try
        {
            admin = NpgsqlDataSource.Create(ConnectionString("postgres"));
            await using (var connection = await admin.OpenConnectionAsync()) serverMajor = connection.PostgreSqlVersion.Major;
            await ExecuteAsync($"CREATE DATABASE {TemplateName}");
            string templateConnection = ConnectionString(TemplateName) + ";Pooling=false";
            await using (await PostgresStore.OpenAsync(templateConnection, Path.Combine(folder!, "template-artifacts")))
            {
            }
            await ExecuteAsync($"ALTER DATABASE {TemplateName} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false");
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (admin is not null) await admin.DisposeAsync();
        if (folder is null) return;
        if (failure is null && binaries is not null)
            await RunAsync(Tool("pg_ctl"), ["-D", DataFolder, "stop", "-m", "immediate", "-w", "-t", "30"], asPostgres: AsRoot);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A server process still closing files; the system's temporary-file cleanup takes the rest.
        }
        catch (UnauthorizedAccessException)
        {
        }
        gate.Dispose();
    }

    /// <summary>The bin folder of the highest PostgreSQL version installed, or of <c>initdb</c> on PATH.</summary>
    private static string? FindBinaries()
    {
        // An explicit folder wins (another layout, or an empty value to run without PostgreSQL).
        if (Environment.GetEnvironmentVariable(BinariesVariable) is { } chosen)
            return File.Exists(Path.Combine(chosen, "initdb")) && File.Exists(Path.Combine(chosen, "pg_ctl")) ? chosen : null;
        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var best = Directory.EnumerateDirectories(debian)
                .Select(d => (Folder: Path.Combine(d, "bin"), Version: Version.TryParse(Path.GetFileName(d).Contains('.') ? Path.GetFileName(d) : Path.GetFileName(d) + ".0", out var v) ? v : null))
                .Where(c => c.Version is not null && File.Exists(Path.Combine(c.Folder, "initdb")) && File.Exists(Path.Combine(c.Folder, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .FirstOrDefault();
            if (best.Folder is not null) return best.Folder;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                // Debian links /usr/bin tools to a wrapper; the real binaries sit beside the resolved link.
                var resolved = new FileInfo(Path.Combine(dir, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
                return resolved is null ? dir : Path.GetDirectoryName(resolved.FullName);
            }
        }
        return null;
    }

    private string Tool(string name)
    {
        string path = Path.Combine(binaries!, name);
        return File.Exists(path) ? path : name;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string Last(string text) => text.Length <= 800 ? text.Trim() : "…" + text[^800..].Trim();

    /// <summary>Runs a command (as the postgres user when <paramref name="asPostgres"/>) and returns its exit code and output.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string? runuser = new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists);
        if (asPostgres && runuser is not null)
        {
            start.FileName = runuser;
            foreach (var a in (string[])["-u", "postgres", "--", file]) start.ArgumentList.Add(a);
            foreach (var a in arguments) start.ArgumentList.Add(a);
        }
        else if (asPostgres)
        {
            start.FileName = "su";
            foreach (var a in (string[])["postgres", "-s", "/bin/sh", "-c", string.Join(' ', new[] { file }.Concat(arguments).Select(Quote))]) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = file;
            foreach (var a in arguments) start.ArgumentList.Add(a);
        }
        start.Environment["LC_ALL"] = "C";
        try
        {
            using var process = Process.Start(start)!;
            var output = new StringBuilder();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(CommandTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{start.FileName} timed out after {CommandTimeout.TotalSeconds:0} s");
            }
            output.Append(await stdout).Append(await stderr);
            return (process.ExitCode, output.ToString());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{start.FileName}: {e.Message}");
        }
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
