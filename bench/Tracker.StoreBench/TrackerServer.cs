using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Tracker.StoreBench;

/// <summary>
/// Tracker's server as a child process (<c>dotnet Tracker.Server.dll</c>, as built by
/// <c>dotnet build -c Release src/Tracker.Server</c>) on a free loopback port, with one configured API key, its own
/// store and empty plugin, weight and drop-in folders; killed on dispose. Its output goes to a log file.
/// </summary>
public sealed class TrackerServer : IAsyncDisposable
{
    public const string Key = "trk_storebench_0123456789abcdefghijklmnopqrstuv";

    private readonly Process process;
    private readonly StreamWriter log;

    private TrackerServer(Process process, StreamWriter log, string url, string logPath)
    {
        this.process = process;
        this.log = log;
        Url = url;
        LogPath = logPath;
    }

    public string Url { get; }

    public string LogPath { get; }

    public int Pid => process.Id;

    /// <summary>CPU seconds the server process has used so far.</summary>
    public double CpuSeconds()
    {
        process.Refresh();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Resident memory of the server process, MiB.</summary>
    public double ResidentMiB()
    {
        process.Refresh();
        return process.WorkingSet64 / 1048576.0;
    }

    public static async Task<TrackerServer> StartAsync(string dll, string folder, IEnumerable<string> storeArguments)
    {
        int port = FreePort();
        string url = $"http://127.0.0.1:{port}";
        Directory.CreateDirectory(folder);
        foreach (var sub in (string[])["plugins", "dropin", "weights"]) Directory.CreateDirectory(Path.Combine(folder, sub));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        string[] arguments =
        [
            dll, "--Urls", url,
            "--Security:ApiKeys:0:Name", "storebench", "--Security:ApiKeys:0:Sha256", hash,
            "--Plugins:BuiltInFolder", Path.Combine(folder, "plugins"), "--Plugins:DropInFolder", Path.Combine(folder, "dropin"),
            "--Models:WeightsFolder", Path.Combine(folder, "weights"),
            .. storeArguments,
        ];
        foreach (var a in arguments) start.ArgumentList.Add(a);
        string logPath = Path.Combine(folder, "server.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new TrackerServer(process, log, url, logPath);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(180))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"The server exited ({process.ExitCode}) while starting:\n{Tail(logPath)}");
            try
            {
                if ((await http.GetAsync($"{url}/healthz")).IsSuccessStatusCode) return server;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"The server did not answer /healthz within 180 s:\n{Tail(logPath)}");
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public static string Tail(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return string.Join('\n', lines.TakeLast(30));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (log) log.Dispose();
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
