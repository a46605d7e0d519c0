using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Tracker.StoreBench;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb in a temporary folder, started on a free loopback port (as the postgres user
/// when this runs as root, which PostgreSQL refuses), stopped and removed on dispose. Defaults to PostgreSQL's own
/// settings (fsync and synchronous_commit on); <c>--pg-setting name=value</c> adds <c>-c</c> options.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string binaries, folder;
    private bool running;

    private PostgresServer(string binaries, string folder, int port)
    {
        this.binaries = binaries;
        this.folder = folder;
        Port = port;
    }

    public int Port { get; }

    private string DataFolder => Path.Combine(folder, "data");

    private static bool AsRoot => Environment.UserName == "root";

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=60;Command Timeout=600;Maximum Pool Size=50";

    /// <summary>The postmaster's process id (its first line of postmaster.pid), for CPU accounting.</summary>
    public int PostmasterPid => int.Parse(File.ReadLines(Path.Combine(DataFolder, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    /// <summary>The postgres binary's version line.</summary>
    public static string? Version(string? bin)
    {
        bin = Find(bin);
        if (bin is null) return null;
        var (_, output) = Run(Path.Combine(bin, "postgres"), ["--version"], asPostgres: false);
        return output.Trim();
    }

    public static string? Find(string? chosen)
    {
        if (chosen is not null) return File.Exists(Path.Combine(chosen, "pg_ctl")) ? chosen : null;
        const string debian = "/usr/lib/postgresql";
        if (!Directory.Exists(debian)) return null;
        return Directory.EnumerateDirectories(debian)
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out int v) ? v : 0)
            .FirstOrDefault();
    }

    public static async Task<PostgresServer> StartAsync(string? bin, IReadOnlyList<string> settings, string parent)
    {
        string binaries = Find(bin) ?? throw new InvalidOperationException("No PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; pass --pg-bin DIR or --backends litedb.");
        string folder = Path.Combine(parent, "pg");
        Directory.CreateDirectory(folder);
        if (AsRoot) Check(Run("chown", ["-R", "postgres:postgres", folder], asPostgres: false), "chown");
        Check(Run(Path.Combine(binaries, "initdb"), ["-D", Path.Combine(folder, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"], asPostgres: AsRoot), "initdb");
        int port = FreePort();
        var server = new PostgresServer(binaries, folder, port);
        string options = $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=100 "
            + string.Join(' ', settings.Select(s => $"-c {s}"));
        Check(Run(Path.Combine(binaries, "pg_ctl"), ["-D", server.DataFolder, "-o", options, "-w", "-t", "120", "-l", Path.Combine(folder, "log"), "start"], asPostgres: AsRoot), "pg_ctl start");
        server.running = true;
        await using var connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await connection.OpenAsync();
        return server;
    }

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async Task<string> ShowAsync(params string[] names)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        var parts = new List<string>();
        foreach (var name in names)
        {
            await using var command = new NpgsqlCommand($"SHOW {name}", connection);
            parts.Add($"{name}={await command.ExecuteScalarAsync()}");
        }
        return string.Join(", ", parts);
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// CPU seconds of the cluster so far: the postmaster and its live children (backends, checkpointer, autovacuum…),
    /// plus the children that have exited (the postmaster's cutime and cstime), so a closed connection's CPU stays counted.
    /// </summary>
    public double CpuSeconds()
    {
        int postmaster = PostmasterPid;
        double total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            if (ProcStat.Read(pid) is not { } stat) continue;
            if (pid == postmaster) total += stat.CpuSeconds + stat.ChildrenCpuSeconds;
            else if (stat.ParentPid == postmaster) total += stat.CpuSeconds;
        }
        return total;
    }

    public ValueTask DisposeAsync()
    {
        if (running)
        {
            Run(Path.Combine(binaries, "pg_ctl"), ["-D", DataFolder, "stop", "-m", "fast", "-w", "-t", "60"], asPostgres: AsRoot);
            running = false;
        }
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return ValueTask.CompletedTask;
    }

    private static void Check((int Exit, string Output) result, string what)
    {
        if (result.Exit != 0) throw new InvalidOperationException($"{what} failed ({result.Exit}): {result.Output}");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static (int Exit, string Output) Run(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres)
        {
            start.FileName = "/usr/sbin/runuser";
            foreach (var a in (string[])["-u", "postgres", "--", file]) start.ArgumentList.Add(a);
        }
        else start.FileName = file;
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["LC_ALL"] = "C";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A process's parent, CPU time and its reaped children's CPU time from <c>/proc/PID/stat</c>.</summary>
public readonly record struct ProcStat(int ParentPid, double CpuSeconds, double ChildrenCpuSeconds)
{
    private static readonly double Tick = 100.0; // USER_HZ on Linux

    public static ProcStat? Read(int pid)
    {
        try
        {
            string text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces; the fields after it are space separated.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            int parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            long user = long.Parse(fields[11], CultureInfo.InvariantCulture), system = long.Parse(fields[12], CultureInfo.InvariantCulture);
            long childUser = long.Parse(fields[13], CultureInfo.InvariantCulture), childSystem = long.Parse(fields[14], CultureInfo.InvariantCulture);
            return new ProcStat(parent, (user + system) / Tick, (childUser + childSystem) / Tick);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
