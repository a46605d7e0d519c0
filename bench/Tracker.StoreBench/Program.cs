using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Tracker.Core;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;
using Tracker.Storage.Postgres;

namespace Tracker.StoreBench;

// Usage (build the server first: dotnet build -c Release src/Tracker.Server):
//   dotnet run -c Release --project bench/Tracker.StoreBench -- [--points 10000000] [--backends litedb,postgres]
//     [--filler N] [--short 10000] [--page 25000] [--downsample 2000] [--repeat 20]
//     [--clients 4] [--batches 1000,10000] [--rest-points 1000000] [--rounds 2] [--no-ingest] [--no-reads]
//     [--server PATH/Tracker.Server.dll] [--pg-bin DIR] [--pg-setting name=value]... [--dir TMP]
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var bench = new Bench(options);
        try
        {
            await bench.RunAsync();
            return 0;
        }
        finally
        {
            await bench.DisposeAsync();
        }
    }
}

public sealed class BenchOptions
{
    public int Points { get; private set; } = 10_000_000;
    public int Filler { get; private set; } = -1;
    public int Short { get; private set; } = 10_000;
    public int Page { get; private set; } = 25_000;
    public int Downsample { get; private set; } = 2_000;
    public int Repeat { get; private set; } = 20;
    public int Clients { get; private set; } = 4;
    public int[] Batches { get; private set; } = [1_000, 10_000];
    public int RestPoints { get; private set; } = 1_000_000;
    public int Rounds { get; private set; } = 2;
    public int WriteBatch { get; private set; } = 100_000;
    public string[] Backends { get; private set; } = ["litedb", "postgres"];
    public bool Ingest { get; private set; } = true;
    public bool Reads { get; private set; } = true;
    public string? Server { get; private set; }
    public string? PgBin { get; private set; }
    public List<string> PgSettings { get; } = [];
    public string? Dir { get; private set; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Int() => int.Parse(Next().Replace("_", "").Replace(",", ""), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--points": o.Points = Int(); break;
                case "--filler": o.Filler = Int(); break;
                case "--short": o.Short = Int(); break;
                case "--page": o.Page = Int(); break;
                case "--downsample": o.Downsample = Int(); break;
                case "--repeat": o.Repeat = Int(); break;
                case "--clients": o.Clients = Int(); break;
                case "--batches": o.Batches = Next().Split(',').Select(s => int.Parse(s.Replace("_", ""), CultureInfo.InvariantCulture)).ToArray(); break;
                case "--rest-points": o.RestPoints = Int(); break;
                case "--rounds": o.Rounds = Int(); break;
                case "--write-batch": o.WriteBatch = Int(); break;
                case "--backends": o.Backends = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--no-ingest": o.Ingest = false; break;
                case "--no-reads": o.Reads = false; break;
                case "--server": o.Server = Next(); break;
                case "--pg-bin": o.PgBin = Next(); break;
                case "--pg-setting": o.PgSettings.Add(Next()); break;
                case "--dir": o.Dir = Next(); break;
                default: throw new ArgumentException($"Unknown option {args[i]}. See the usage at the top of bench/Tracker.StoreBench/Program.cs.");
            }
        }
        if (o.Filler < 0) o.Filler = o.Points;
        if (o.Backends.Except(["litedb", "postgres"]).Any()) throw new ArgumentException("--backends takes litedb and/or postgres.");
        return o;
    }
}

/// <summary>A store opened by the bench, and how to close it.</summary>
public sealed record OpenedStore(IMetricStore Metrics, Func<ValueTask> Close);

/// <summary>One line of the summary.</summary>
public sealed record Result(string Backend, string Goal, string Measure, string Value, string Target, string Peer, bool? Met);

public sealed class Bench(BenchOptions o) : IAsyncDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly List<Result> results = [];
    private readonly Stopwatch sinceStart = Stopwatch.StartNew();
    private readonly HashSet<string> databases = [];
    private string root = "";
    private PostgresServer? postgres;

    public async Task RunAsync()
    {
        root = o.Dir is null
            ? Directory.CreateTempSubdirectory("tracker-storebench-").FullName
            : Directory.CreateDirectory(Path.Combine(o.Dir, $"tracker-storebench-{Guid.NewGuid():N}")).FullName;
        // The postgres user must reach the cluster's folder inside (a temporary subdirectory starts as 0700).
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        PrintMachine();
        if (o.Backends.Contains("postgres"))
        {
            postgres = await PostgresServer.StartAsync(o.PgBin, o.PgSettings, root);
            Log($"PostgreSQL cluster on 127.0.0.1:{postgres.Port}: {await postgres.ShowAsync("server_version", "shared_buffers", "fsync", "synchronous_commit", "max_wal_size")}");
        }
        foreach (var backend in o.Backends)
        {
            if (o.Ingest) await IngestionAsync(backend);
            if (o.Reads) await ReadsAsync(backend);
        }
        PrintSummary();
    }

    public async ValueTask DisposeAsync()
    {
        if (postgres is not null) await postgres.DisposeAsync();
        if (root.Length > 0)
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Could not remove {root}: {e.Message}");
            }
        }
    }

    // ---------------------------------------------------------------- machine

    private void PrintMachine()
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : "?";
        double memory = MemInfo("MemTotal") / 1048576.0;
        Console.WriteLine("# Tracker store bench");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores ({cpu}), {memory:F1} GiB memory, {RuntimeInformation.OSDescription}");
        Console.WriteLine($".NET {Environment.Version} ({RuntimeInformation.FrameworkDescription}), GC {(GCSettings.IsServerGC ? "server" : "workstation")}, {(o.Backends.Contains("postgres") ? PostgresServer.Version(o.PgBin) ?? "no PostgreSQL binaries" : "PostgreSQL not used")}");
        Console.WriteLine($"load average: {LoadAverage()}");
        Console.WriteLine($"sizes: long series {o.Points:N0} points; other series {o.Filler:N0} points ({Math.Max(1, o.Filler / o.Short):N0} series of {o.Short:N0}); page {o.Page:N0}; "
            + $"downsampled to {o.Downsample:N0}; warm reads: median of {o.Repeat}");
        Console.WriteLine($"ingestion: {o.Clients} clients, batches of {string.Join(" and ", o.Batches.Select(b => b.ToString("N0")))}, {o.RestPoints:N0} points per measurement, best of {o.Rounds} rounds");
        if (o.Points < 10_000_000) Console.WriteLine($"NOTE: reduced size; the issue's goals are stated for 10,000,000 points.");
        Console.WriteLine($"scratch folder: {root}");
        Console.WriteLine();
    }

    private static long MemInfo(string field) => ProcField("/proc/meminfo", field);

    private static long ProcField(string path, string field)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        return -1;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private void Log(string message) => Console.WriteLine($"[{sinceStart.Elapsed:mm\\:ss}] {message}");

    // ---------------------------------------------------------------- stores

    private async Task<OpenedStore> OpenAsync(string backend, string name)
    {
        if (backend == "litedb")
        {
            var store = new LiteDbStore(Path.Combine(root, name + ".db"), Path.Combine(root, name + "-artifacts"));
            return new OpenedStore(store, () => { store.Dispose(); return ValueTask.CompletedTask; });
        }
        string connection = await DatabaseAsync(name);
        var pg = await PostgresStore.OpenAsync(connection, Path.Combine(root, name + "-artifacts"));
        return new OpenedStore(pg, pg.DisposeAsync);
    }

    private async Task<string> DatabaseAsync(string name)
    {
        if (databases.Add(name)) return await postgres!.CreateDatabaseAsync(name);
        return postgres!.ConnectionString(name);
    }

    private async Task<string[]> ServerStoreArgumentsAsync(string backend, string name) => backend == "litedb"
        ? ["--Store:Provider", "litedb", "--Store:ConnectionString", Path.Combine(root, name + ".db"), "--Store:ArtifactRoot", Path.Combine(root, name + "-artifacts")]
        : ["--Store:Provider", "postgres", "--Store:ConnectionString", await DatabaseAsync(name), "--Store:ArtifactRoot", Path.Combine(root, name + "-artifacts")];

    private static string Title(string backend) => backend == "litedb" ? "LiteDB" : "PostgreSQL";

    private static double Value(int step) => Math.Exp(-step / 2_000_000.0) + 0.01 * Math.Sin(step * 0.37) + step % 7 * 1e-4;

    private static DateTimeOffset Time(int step) => T0.AddMilliseconds(step);

    private static MetricPoint[] Points(string trial, string key, int from, int count)
    {
        var points = new MetricPoint[count];
        for (int i = 0; i < count; i++) points[i] = new MetricPoint(trial, key, from + i, Value(from + i), Time(from + i));
        return points;
    }

    // ---------------------------------------------------------------- 1. ingestion

    private sealed record Ingest(double Seconds, long Points, double BenchCpu, double ServerCpu, double DatabaseCpu)
    {
        public double Rate => Points / Seconds;
    }

    private async Task IngestionAsync(string backend)
    {
        string title = Title(backend);
        Log($"== {title}: ingestion, {o.Clients} clients, each its own run; load average {LoadAverage()}");
        string dll = o.Server ?? Path.Combine(RepoRoot(), "src", "Tracker.Server", "bin", "Release", "net10.0", "Tracker.Server.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"No server at {dll}: build it first (dotnet build -c Release src/Tracker.Server) or pass --server PATH.");

        var inProcess = await OpenAsync(backend, "ingest_inprocess");
        try
        {
            await using var server = await TrackerServer.StartAsync(dll, Path.Combine(root, backend + "-server"), await ServerStoreArgumentsAsync(backend, "ingest_rest"));
            Log($"server pid {server.Pid} at {server.Url} ({dll}); log {server.LogPath}");
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, UseProxy = false })
            {
                BaseAddress = new Uri(server.Url),
                Timeout = TimeSpan.FromMinutes(10),
            };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackerServer.Key);

            // Warm-up: JIT, connection pools, the store's first writes.
            foreach (int batch in o.Batches)
            {
                int warm = Math.Min(o.RestPoints / o.Clients, batch * 5);
                await InProcessAsync(inProcess.Metrics, batch, warm, $"warm{batch}");
                await RestAsync(http, server, batch, warm, $"warm{batch}");
            }
            Log("warmed up; server RSS " + server.ResidentMiB().ToString("F0") + " MiB");

            var best = new Dictionary<(int Batch, bool IsRest), Ingest>();
            int perClient = o.RestPoints / o.Clients;
            for (int round = 0; round < o.Rounds; round++)
            {
                foreach (int batch in o.Batches)
                {
                    var local = await InProcessAsync(inProcess.Metrics, batch, perClient, $"r{round}b{batch}");
                    var rest = await RestAsync(http, server, batch, perClient, $"r{round}b{batch}");
                    Log($"round {round + 1}, batches of {batch,6:N0}: in-process {local.Rate,10:N0} points/s ({local.Seconds:F2} s, bench CPU {local.BenchCpu:F2} s"
                        + (backend == "postgres" ? $", postgres CPU {local.DatabaseCpu:F2} s" : "") + ")"
                        + $" | REST {rest.Rate,10:N0} points/s ({rest.Seconds:F2} s, server CPU {rest.ServerCpu:F2} s, client CPU {rest.BenchCpu:F2} s"
                        + (backend == "postgres" ? $", postgres CPU {rest.DatabaseCpu:F2} s" : "") + $") | ratio {rest.Rate / local.Rate:F2}; load {LoadAverage()}");
                    foreach (var (key, value) in new[] { ((batch, false), local), ((batch, true), rest) })
                        if (!best.TryGetValue(key, out var b) || value.Rate > b.Rate) best[key] = value;
                }
            }

            foreach (int batch in o.Batches)
            {
                var local = best[(batch, false)];
                var rest = best[(batch, true)];
                double ratio = rest.Rate / local.Rate;
                double serverUsPerPoint = rest.ServerCpu / rest.Points * 1e6, localUsPerPoint = (local.BenchCpu + local.DatabaseCpu) / local.Points * 1e6;
                string peer = $"in-process AppendMetricsAsync {local.Rate:N0}/s; REST ÷ in-process {ratio:F2}";
                double restUsPerPoint = (rest.ServerCpu + rest.BenchCpu + rest.DatabaseCpu) / rest.Points * 1e6;
                string cpu = $"CPU per point: server {serverUsPerPoint:F2} µs" + (backend == "postgres" ? $" + postgres {rest.DatabaseCpu / rest.Points * 1e6:F2} µs" : "")
                    + $" + client {rest.BenchCpu / rest.Points * 1e6:F2} µs, in-process {localUsPerPoint:F2} µs"
                    + $"; CPU-bound ceiling on {Environment.ProcessorCount} idle cores: REST {Environment.ProcessorCount / restUsPerPoint * 1e6:N0}/s, in-process {Environment.ProcessorCount / localUsPerPoint * 1e6:N0}/s";
                if (backend == "litedb")
                    results.Add(new Result(title, "1", $"REST ingestion, {o.Clients} clients, batches of {batch:N0}", $"{rest.Rate:N0} points/s",
                        "≥ 500,000/s and ≥ 0.5 × in-process", $"{peer}; {cpu}", rest.Rate >= 500_000 && ratio >= 0.5));
                else
                    results.Add(new Result(title, "1", $"REST ingestion, {o.Clients} clients, batches of {batch:N0}", $"{rest.Rate:N0} points/s",
                        "≥ 200,000/s", $"{peer}; {cpu}", rest.Rate >= 200_000));
            }
            if (o.Batches.Length >= 2)
            {
                // Server CPU per request = fixed + per point × batch, fitted through the smallest and largest batch.
                int small = o.Batches.Min(), large = o.Batches.Max();
                double cpuSmall = best[(small, true)].ServerCpu / (best[(small, true)].Points / (double)small);
                double cpuLarge = best[(large, true)].ServerCpu / (best[(large, true)].Points / (double)large);
                double perPoint = (cpuLarge - cpuSmall) / (large - small), fixedCost = cpuSmall - perPoint * small;
                Log($"diagnostic: server CPU per request ≈ {fixedCost * 1000:F2} ms + {perPoint * 1e6:F2} µs per point (fit through batches of {small:N0} and {large:N0})");
            }
            JsonDiagnostic();
        }
        finally
        {
            await inProcess.Close();
        }
    }

    private async Task<Ingest> InProcessAsync(IMetricStore store, int batch, int perClient, string tag)
    {
        var data = Enumerable.Range(0, o.Clients).Select(c => Points($"{tag}-c{c}", "loss", 0, perClient).Chunk(batch).ToArray()).ToArray();
        FullGc();
        double cpu0 = BenchCpu(), db0 = postgres?.CpuSeconds() ?? 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(data.Select(batches => Task.Run(async () =>
        {
            foreach (var part in batches) await store.AppendMetricsAsync(part);
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        return new Ingest(seconds, (long)perClient * o.Clients, BenchCpu() - cpu0, 0, (postgres?.CpuSeconds() ?? 0) - db0);
    }

    private async Task<Ingest> RestAsync(HttpClient http, TrackerServer server, int batch, int perClient, string tag)
    {
        var ids = new string[o.Clients];
        for (int c = 0; c < o.Clients; c++)
        {
            using var response = await http.PostAsync("/api/runs", Json($$"""{"experiment":"storebench","name":"{{tag}}-c{{c}}"}"""));
            string text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/runs: {(int)response.StatusCode} {text}");
            ids[c] = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        }
        var bodies = Enumerable.Range(0, o.Clients).Select(_ => Bodies(batch, perClient)).ToArray();
        lastBodies = bodies[0];
        FullGc();
        double bench0 = BenchCpu(), server0 = server.CpuSeconds(), db0 = postgres?.CpuSeconds() ?? 0;
        long accepted = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, o.Clients).Select(c => Task.Run(async () =>
        {
            foreach (var body in bodies[c])
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync($"/api/runs/{ids[c]}/metrics", content);
                string text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST metrics: {(int)response.StatusCode} {text}");
                Interlocked.Add(ref accepted, JsonDocument.Parse(text).RootElement.GetProperty("accepted").GetInt32());
            }
        })));
        double seconds = clock.Elapsed.TotalSeconds;
        if (accepted != (long)perClient * o.Clients) throw new InvalidOperationException($"The server accepted {accepted} points of {perClient * o.Clients}.");
        return new Ingest(seconds, accepted, BenchCpu() - bench0, server.CpuSeconds() - server0, (postgres?.CpuSeconds() ?? 0) - db0);
    }

    private byte[][]? lastBodies;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>The request bodies of one client: consecutive steps of one key, <paramref name="batch"/> points each.</summary>
    private static byte[][] Bodies(int batch, int perClient)
    {
        var bodies = new byte[(perClient + batch - 1) / batch][];
        for (int r = 0; r < bodies.Length; r++)
        {
            var buffer = new ArrayBufferWriter<byte>(batch * 90);
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteStartArray("points");
                for (int step = r * batch; step < Math.Min(perClient, (r + 1) * batch); step++)
                {
                    w.WriteStartObject();
                    w.WriteString("key", "loss");
                    w.WriteNumber("value", Value(step));
                    w.WriteNumber("step", step);
                    w.WriteNumber("timestamp", Time(step).ToUnixTimeMilliseconds());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            bodies[r] = buffer.WrittenSpan.ToArray();
        }
        return bodies;
    }

    /// <summary>The body shape the endpoint binds (RunEndpoints.LogMetricsRequest), with the server's JSON options.</summary>
    private sealed record BodyShape(List<PointShape>? Points);

    private sealed record PointShape(string? Key, double? Value, long? Step, long? Timestamp);

    /// <summary>How fast one thread turns the last client's bodies into the endpoint's records, as the server does first.</summary>
    private void JsonDiagnostic()
    {
        if (lastBodies is null) return;
        long points = 0;
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            points = 0;
            double cpu0 = BenchCpu();
            var clock = Stopwatch.StartNew();
            foreach (var body in lastBodies)
                points += JsonSerializer.Deserialize<BodyShape>(body, TrackerJson.Options)!.Points!.Count;
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
            bestCpu = Math.Min(bestCpu, BenchCpu() - cpu0);
        }
        Log($"diagnostic: deserialising the request bodies alone (System.Text.Json, server options, 1 thread): {points / best:N0} points/s "
            + $"({best / points * 1e6:F2} µs wall, {bestCpu / points * 1e6:F2} µs CPU per point; {lastBodies.Sum(b => (long)b.Length) / (double)points:F0} bytes per point)");
    }

    // ---------------------------------------------------------------- 2, 3, 5. reads

    private async Task ReadsAsync(string backend)
    {
        string title = Title(backend);
        Log($"== {title}: series reads; load average {LoadAverage()}");
        const string LongTrial = "long", LongKey = "loss";
        var store = await OpenAsync(backend, "series");

        var clock = Stopwatch.StartNew();
        for (int from = 0; from < o.Points; from += o.WriteBatch)
            await store.Metrics.AppendMetricsAsync(Points(LongTrial, LongKey, from, Math.Min(o.WriteBatch, o.Points - from)));
        double longWrite = clock.Elapsed.TotalSeconds;
        Log($"wrote the long series: {o.Points:N0} points in {longWrite:F1} s ({o.Points / longWrite:N0}/s, AppendMetricsAsync, batches of {o.WriteBatch:N0})");

        // The other series: keys × trials series of o.Short points, logged as a trainer would, 1,000 steps of every key
        // per call, trial after trial, so every series' chunks lie spread over the whole store.
        int seriesCount = Math.Max(1, o.Filler / o.Short), keys = Math.Min(10, seriesCount), trials = (seriesCount + keys - 1) / keys;
        string ShortTrial(int t) => $"t{t:D5}";
        string ShortKey(int k) => $"metric_{k}";
        clock.Restart();
        long filler = 0;
        const int StepsPerCall = 1_000;
        for (int from = 0; from < o.Short && o.Filler > 0; from += StepsPerCall)
        {
            for (int t = 0; t < trials; t++)
            {
                int count = Math.Min(StepsPerCall, o.Short - from);
                var batch = Enumerable.Range(0, keys).SelectMany(k => Points(ShortTrial(t), ShortKey(k), from, count)).ToArray();
                await store.Metrics.AppendMetricsAsync(batch);
                filler += batch.Length;
            }
        }
        double fillerWrite = clock.Elapsed.TotalSeconds;
        if (filler > 0)
            Log($"wrote the other series: {filler:N0} points ({trials:N0} trials × {keys} keys × {o.Short:N0}) in {fillerWrite:F1} s ({filler / fillerWrite:N0}/s, 1,000 steps × {keys} keys per call)");
        string targetTrial = ShortTrial(trials / 2), targetKey = ShortKey(keys / 2);

        // Reopened, so that the reads start from the store's file, not from what the writes left in memory.
        await store.Close();
        if (backend == "postgres")
        {
            clock.Restart();
            await PostgresServer.ExecuteAsync(await DatabaseAsync("series"), "VACUUM ANALYZE");
            Log($"VACUUM ANALYZE (what autovacuum would do after the load): {clock.Elapsed.TotalSeconds:F1} s");
        }
        FullGc();
        store = await OpenAsync(backend, "series");
        try
        {
            // The short series alone in a store of its own, as the peer of goal 3.
            var alone = await OpenAsync(backend, "short_alone");
            for (int from = 0; from < o.Short; from += StepsPerCall)
                await alone.Metrics.AppendMetricsAsync(Points("alone", "metric", from, Math.Min(StepsPerCall, o.Short - from)));

            // 2. A page from the middle of the long series.
            var middle = new MetricCursor(o.Points / 2);
            var (midFirst, midMedian, midCount, midCpu) = await TimeAsync(async () => (await store.Metrics.ReadMetricsAsync(LongTrial, LongKey, middle, o.Page)).Points.Count, o.Repeat);
            var (_, startMedian, _, startCpu) = await TimeAsync(async () => (await store.Metrics.ReadMetricsAsync(LongTrial, LongKey, MetricCursor.Start, o.Page)).Points.Count, o.Repeat);
            Log($"page of {o.Page:N0} from step {middle.Step:N0}: first {midFirst:F1} ms, median {midMedian:F1} ms, CPU {midCpu:F1} ms per call ({midCount:N0} points); first page of the series: median {startMedian:F1} ms, CPU {startCpu:F1} ms");
            if (midCount != Math.Min(o.Page, o.Points - middle.Step)) throw new InvalidOperationException($"The middle page held {midCount} points.");
            results.Add(new Result(title, "2", $"page of {o.Page:N0} from the middle of a {o.Points:N0}-point series", $"{midMedian:F1} ms (first {midFirst:F1}; CPU {midCpu:F1} ms)",
                "< 50 ms", $"first page of the series {startMedian:F1} ms (CPU {startCpu:F1} ms)", midMedian < 50));

            // 3. The short series, read whole (pages of o.Page), among everything else.
            var (shortFirst, shortMedian, shortCount, shortCpu) = await TimeAsync(() => ReadAllAsync(store.Metrics, targetTrial, targetKey, o.Page), o.Repeat);
            var (_, aloneMedian, aloneCount, aloneCpu) = await TimeAsync(() => ReadAllAsync(alone.Metrics, "alone", "metric", o.Page), o.Repeat);
            await alone.Close();
            Log($"short series {targetTrial}/{targetKey} ({shortCount:N0} points) among {o.Points + filler - shortCount:N0} others: first {shortFirst:F1} ms, median {shortMedian:F1} ms, CPU {shortCpu:F1} ms per call; "
                + $"alone in a store: median {aloneMedian:F1} ms, CPU {aloneCpu:F1} ms");
            if (shortCount != o.Short || aloneCount != o.Short) throw new InvalidOperationException($"The short series held {shortCount} / {aloneCount} points.");
            results.Add(new Result(title, "3", $"{o.Short:N0}-point series read whole among {o.Points + filler - shortCount:N0} other points", $"{shortMedian:F1} ms (first {shortFirst:F1}; CPU {shortCpu:F1} ms)",
                "< 10 ms warm", $"same series alone in a store {aloneMedian:F1} ms (CPU {aloneCpu:F1} ms)", shortMedian < 10));

            // 5. The downsampled read.
            var (dsFirst, dsMedian, dsCount, dsCpu) = await TimeAsync(async () => (await store.Metrics.ReadMetricsDownsampledAsync(LongTrial, LongKey, o.Downsample)).Count, Math.Min(o.Repeat, 10));
            Log($"downsampled to {o.Downsample:N0} ({dsCount:N0} points): first {dsFirst:F1} ms, median {dsMedian:F1} ms, CPU {dsCpu:F1} ms per call");

            // 2. The whole long series, page by page: time and this process's resident memory.
            FullGc();
            long rss0 = Rss(), heap0 = GC.GetTotalMemory(false), allocated0 = GC.GetTotalAllocatedBytes();
            bool peakReset = ResetPeak();
            long peak = rss0;
            long count = 0, pages = 0;
            double checksum = 0;
            var cursor = MetricCursor.Start;
            double wholeCpu0 = AllCpu();
            clock.Restart();
            while (true)
            {
                var page = await store.Metrics.ReadMetricsAsync(LongTrial, LongKey, cursor, o.Page);
                count += page.Points.Count;
                pages++;
                checksum += page.Points[^1].Value;
                peak = Math.Max(peak, Rss());
                if (page.Next is not { } next) break;
                cursor = next;
            }
            double whole = clock.Elapsed.TotalSeconds, wholeCpu = AllCpu() - wholeCpu0;
            if (peakReset) peak = Math.Max(peak, ProcField("/proc/self/status", "VmHWM"));
            long allocated = GC.GetTotalAllocatedBytes() - allocated0;
            FullGc();
            long rss1 = Rss(), heap1 = GC.GetTotalMemory(false);
            if (count != o.Points) throw new InvalidOperationException($"Read {count} points of {o.Points}.");
            double growth = (rss1 - rss0) / 1024.0, peakGrowth = (peak - rss0) / 1024.0;
            Log($"whole series in {pages:N0} pages of {o.Page:N0}: {whole:F2} s ({count / whole:N0} points/s), CPU {wholeCpu:F2} s; RSS {rss0 / 1024.0:F0} → {rss1 / 1024.0:F0} MiB after GC "
                + $"(growth {growth:F1} MiB, peak during the read +{peakGrowth:F1} MiB{(peakReset ? ", VmHWM" : ", sampled per page")}); managed heap {heap0 / 1048576.0:F0} → {heap1 / 1048576.0:F0} MiB; "
                + $"allocated {allocated / 1048576.0:F0} MiB ({allocated / (double)count:F0} bytes per point); checksum {checksum:F3}");
            results.Add(new Result(title, "2", $"whole {o.Points:N0}-point series, pages of {o.Page:N0}: resident memory growth (after GC)", $"{growth:F1} MiB",
                "< 50 MB", $"peak during the read +{peakGrowth:F1} MiB; managed heap {(heap1 - heap0) / 1048576.0:+0;-0} MiB" + (backend == "postgres" ? "; bench process only (PostgreSQL's memory is its own)" : ""), growth < 50 / 1.048576));
            results.Add(new Result(title, "2", $"whole {o.Points:N0}-point series, pages of {o.Page:N0}: time", $"{whole:F2} s ({count / whole:N0} points/s; CPU {wholeCpu:F2} s)",
                "(report)", $"{pages:N0} pages, {whole / pages * 1000:F1} ms each; middle page alone {midMedian:F1} ms", null));
            results.Add(new Result(title, "5", $"downsampled read ({o.Downsample:N0} points) of the {o.Points:N0}-point series", $"{dsMedian:F1} ms (first {dsFirst:F1}; CPU {dsCpu:F1} ms)",
                "(report)", $"whole series page by page {whole * 1000:N0} ms; {dsCount:N0} points returned", null));
            results.Add(new Result(title, "-", $"writing the {o.Points:N0}-point series in-process (batches of {o.WriteBatch:N0}) / the other {filler:N0} points",
                $"{o.Points / longWrite:N0} / {(filler > 0 ? filler / fillerWrite : 0):N0} points/s", "(report)", $"{longWrite:F1} s / {fillerWrite:F1} s", null));
        }
        finally
        {
            await store.Close();
        }
    }

    private static async Task<int> ReadAllAsync(IMetricStore store, string trial, string key, int page)
    {
        int count = 0;
        var cursor = MetricCursor.Start;
        while (true)
        {
            var p = await store.ReadMetricsAsync(trial, key, cursor, page);
            count += p.Points.Count;
            if (p.Next is not { } next) return count;
            cursor = next;
        }
    }

    /// <summary>
    /// The first call's time, then the median of <paramref name="repeat"/> more (ms), the first call's result, and the
    /// CPU of the repeated calls per call (ms: this process and, for PostgreSQL, its server processes), which a loaded
    /// machine inflates far less than wall time.
    /// </summary>
    private async Task<(double First, double Median, int Result, double Cpu)> TimeAsync(Func<Task<int>> read, int repeat)
    {
        var clock = Stopwatch.StartNew();
        int result = await read();
        double first = clock.Elapsed.TotalMilliseconds;
        var times = new List<double>();
        double cpu0 = AllCpu();
        for (int i = 0; i < repeat; i++)
        {
            clock.Restart();
            await read();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        double cpu = repeat > 0 ? (AllCpu() - cpu0) / repeat * 1000 : double.NaN;
        times.Sort();
        double median = times.Count == 0 ? first : times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        return (first, median, result, cpu);
    }

    /// <summary>CPU seconds of this process and of the PostgreSQL cluster's processes.</summary>
    private double AllCpu() => BenchCpu() + (postgres?.CpuSeconds() ?? 0);

    // ---------------------------------------------------------------- helpers

    private static void FullGc()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Resident memory of this process, KiB (VmRSS).</summary>
    private static long Rss() => ProcField("/proc/self/status", "VmRSS") is var kb and >= 0 ? kb : Process.GetCurrentProcess().WorkingSet64 / 1024;

    /// <summary>Resets VmHWM to the current RSS (Linux ≥ 4.0: echo 5 &gt; /proc/self/clear_refs).</summary>
    private static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // getrusage: microseconds, where /proc's ticks are 10 ms.
    private static double BenchCpu() => Environment.CpuUsage.TotalTime.TotalSeconds;

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Tracker.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    private void PrintSummary()
    {
        Console.WriteLine();
        Console.WriteLine($"## Summary (load average now {LoadAverage()}; {sinceStart.Elapsed.TotalMinutes:F1} min)");
        Console.WriteLine();
        Console.WriteLine("| backend | goal | measure | result | target | peer in the same run | met |");
        Console.WriteLine("|---|---|---|---:|---|---|---|");
        foreach (var r in results)
            Console.WriteLine($"| {r.Backend} | {r.Goal} | {r.Measure} | {r.Value} | {r.Target} | {r.Peer} | {(r.Met is { } met ? met ? "yes" : "**no**" : "–")} |");
    }
}
