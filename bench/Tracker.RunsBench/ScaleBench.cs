using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;

/// <summary>
/// Memory and start-up at scale (<c>--scale</c>): writes the runs bench's trials and long metric series into a LiteDB
/// file, closes it, starts the Release server on it as a child process, times until <c>/healthz</c> answers 200, requests
/// the pages and API calls the dashboard makes a few times each, and reads the server's peak resident memory (VmHWM).
/// </summary>
/// <remarks>
/// The dashboard pages are fetched with plain GETs: the server prerenders each page, which runs its loads, but no
/// interactive circuit (SignalR) is opened, so a browser's second load of the page is not part of the figure.
/// </remarks>
public static class ScaleBench
{
    private const double StartGoalSeconds = 3, MemoryGoalMiB = 1024;

    public static async Task RunAsync(string folder, int trialCount, IReadOnlyList<Experiment> experiments, Func<int, Trial> trial,
        int seriesCount, int pointsPerSeries, int requests)
    {
        string dll = Path.Combine(RepoRoot(), "src/Tracker.Server/bin/Release/net10.0/Tracker.Server.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Build the server first: dotnet build -c Release src/Tracker.Server", dll);
        string db = Path.Combine(folder, "scale.db");
        var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // Series on completed trials of one experiment (trial i is in experiment i % count; i % 20 >= 5 is completed).
        int stride = experiments.Count;
        var seriesTrials = Enumerable.Range(0, seriesCount).Select(k => $"t{5 + stride * k:D6}").ToList();
        const string key = "loss";

        var clock = Stopwatch.StartNew();
        using (var store = new LiteDbStore(db))
        {
            foreach (var e in experiments) await store.SaveExperimentAsync(e);
            await store.SaveTrialsAsync(Enumerable.Range(0, trialCount).Select(trial));
            double trialsSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            const int batch = 10_000;
            foreach (var id in seriesTrials)
            {
                for (int from = 0; from < pointsPerSeries; from += batch)
                {
                    int n = Math.Min(batch, pointsPerSeries - from);
                    await store.AppendMetricsAsync(Enumerable.Range(from + 1, n)
                        .Select(s => new MetricPoint(id, key, s, 1.0 / s + 0.01 * Math.Sin(s), t0.AddMilliseconds(s))).ToList());
                }
            }
            Console.WriteLine($"wrote {trialCount:N0} trials ({trialsSeconds:F1} s) and {seriesCount:N0} series × {pointsPerSeries:N0} points = "
                + $"{(long)seriesCount * pointsPerSeries:N0} points ({clock.Elapsed.TotalSeconds:F1} s, AppendMetricsAsync, batches of {batch:N0})");
        }
        Console.WriteLine($"database {new FileInfo(db).Length / 1048576.0:F0} MiB; closed. Load average: {LoadAverage()}");

        string empty = Directory.CreateDirectory(Path.Combine(folder, "empty")).FullName;
        string dropIn = Directory.CreateDirectory(Path.Combine(folder, "dropin")).FullName;
        string weights = Directory.CreateDirectory(Path.Combine(folder, "weights")).FullName;
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepoRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[dll, "--Store:ConnectionString", db, "--Urls", url, "--Plugins:BuiltInFolder", empty,
                     "--Plugins:DropInFolder", dropIn, "--Models:WeightsFolder", weights])
            start.ArgumentList.Add(a);
        var log = new List<string>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        clock.Restart();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            double? healthy = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(180))
            {
                if (process.HasExited) throw new InvalidOperationException($"The server exited ({process.ExitCode}):\n{string.Join('\n', log.TakeLast(30))}");
                try
                {
                    using var response = await http.GetAsync($"{url}/healthz");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        healthy = clock.Elapsed.TotalSeconds;
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }
                await Task.Delay(20);
            }
            if (healthy is null) throw new TimeoutException($"No /healthz within 180 s:\n{string.Join('\n', log.TakeLast(30))}");
            double rssAtStart = Status(process.Id, "VmRSS");
            process.Refresh();
            double startCpu = process.TotalProcessorTime.TotalSeconds;
            Console.WriteLine();
            Console.WriteLine($"server start to /healthz 200: {healthy:F2} s (goal < {StartGoalSeconds:F0} s: {(healthy < StartGoalSeconds ? "met" : "missed")}); "
                + $"the server's CPU time by then {startCpu:F2} s; resident then {rssAtStart:F0} MiB; load average {LoadAverage()}");

            string seriesTrial = seriesTrials[0];
            string experiment = experiments[5 % experiments.Count].Id;
            (string Name, string Path)[] pages =
            [
                ("dashboard /", "/"),
                ("runs browser /runs", "/runs"),
                ($"experiment page /experiments/{experiment}", $"/experiments/{experiment}"),
                ($"trial page /trials/{seriesTrial} ({pointsPerSeries:N0}-point series)", $"/trials/{seriesTrial}"),
                ("GET /api/trials?pageSize=50", "/api/trials?pageSize=50"),
                ($"GET /api/trials/{seriesTrial}/metrics?key={key}", $"/api/trials/{seriesTrial}/metrics?key={key}"),
            ];
            Console.WriteLine();
            Console.WriteLine($"| request | status | bytes | first ms | median of {requests} ms | resident after, MiB |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var (name, path) in pages)
            {
                var times = new List<double>();
                int status = 0;
                long bytes = 0;
                for (int r = 0; r <= requests; r++)
                {
                    var one = Stopwatch.StartNew();
                    using var response = await http.GetAsync(url + path);
                    byte[] body = await response.Content.ReadAsByteArrayAsync();
                    times.Add(one.Elapsed.TotalMilliseconds);
                    (status, bytes) = ((int)response.StatusCode, body.Length);
                }
                double first = times[0];
                var rest = times.Skip(1).Order().ToList();
                Console.WriteLine($"| {name} | {status} | {bytes:N0} | {first:F0} | {rest[rest.Count / 2]:F0} | {Status(process.Id, "VmRSS"):F0} |");
            }
            double peak = Status(process.Id, "VmHWM");
            Console.WriteLine();
            Console.WriteLine($"server peak resident (VmHWM): {peak:F0} MiB (goal < {MemoryGoalMiB:F0} MiB: {(peak < MemoryGoalMiB ? "met" : "missed")}); now {Status(process.Id, "VmRSS"):F0} MiB");
            Console.WriteLine($"load average at the end: {LoadAverage()}");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>A memory line of /proc/PID/status, in MiB.</summary>
    private static double Status(int pid, string name)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "src/Tracker.Server"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (with src/Tracker.Server) is not above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
