using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Tracker.Server.Tests;

/// <summary>
/// The real server as a child process: <c>dotnet Tracker.Server.dll</c> from this test's output folder, on a free
/// loopback port, with its LiteDB file and everything else it writes (drop-in plugins, artifacts, temporary trial
/// folders) under <see cref="DataFolder"/>. Its configuration holds the hash of <see cref="TrackerServerFactory.TestKey"/>.
/// <see cref="Kill"/> ends it as <c>kill -9</c> does, with nothing flushed or closed; starting another on the same folder
/// is a restart on the same database.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    // printf %s "trk_TestKeyForTrackerServerTests0001" | sha256sum
    private const string TestKeySha256 = "94faa339a0ec7e39d77f58ab1a99b3e6660a597d736b550d8c41d8e6f7eba2e5";

    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();

    private ServerProcess(string dataFolder, int port, IReadOnlyDictionary<string, string> settings)
    {
        DataFolder = dataFolder;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        string server = Path.Combine(AppContext.BaseDirectory, "Tracker.Server.dll");
        Assert.True(File.Exists(server), $"the server is built beside the tests, at {server}");
        var temporary = Directory.CreateDirectory(Path.Combine(dataFolder, "tmp")).FullName;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataFolder,
            // Trials' working folders go under the data folder, so that those a kill leaves behind are removed with it.
            Environment = { ["TMPDIR"] = temporary, ["OMP_WAIT_POLICY"] = "PASSIVE", ["ASPNETCORE_ENVIRONMENT"] = "Production" },
        };
        start.ArgumentList.Add(server);
        var all = new Dictionary<string, string>
        {
            ["Urls"] = BaseAddress.ToString().TrimEnd('/'),
            ["Store:Provider"] = "litedb",
            ["Store:ConnectionString"] = DatabasePath,
            ["Plugins:DropInFolder"] = Path.Combine(dataFolder, "plugins"),
            ["Runner:Devices:0"] = "cpu",
            ["Runner:TorchThreads"] = "1",
            ["Runner:PollMilliseconds"] = "100",
            ["Security:ApiKeys:0:Name"] = TrackerServerFactory.TestKeyName,
            ["Security:ApiKeys:0:Sha256"] = TestKeySha256,
        };
        foreach (var (key, value) in settings) all[key] = value;
        foreach (var (key, value) in all) start.ArgumentList.Add($"--{key}={value}");
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackerServerFactory.TestKey);
    }

    /// <summary>The folder the server keeps its data in.</summary>
    public string DataFolder { get; }

    /// <summary>The LiteDB file.</summary>
    public string DatabasePath => Path.Combine(DataFolder, "tracker.db");

    /// <summary>Where the server listens.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client of this server that sends the test key.</summary>
    public HttpClient Client { get; }

    /// <summary>The process id.</summary>
    public int Id => process.Id;

    /// <summary>The last lines the server wrote, for failure messages.</summary>
    public string OutputTail => string.Join('\n', output.TakeLast(40));

    /// <summary>
    /// Starts a server on <paramref name="dataFolder"/> and waits until <c>/healthz</c> answers, at most
    /// <paramref name="seconds"/>; fails with the server's output if it exits or does not answer in time.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataFolder, IReadOnlyDictionary<string, string>? settings = null, int seconds = 120)
    {
        var server = new ServerProcess(dataFolder, FreePort(), settings ?? new Dictionary<string, string>());
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (true)
            {
                if (server.process.HasExited)
                    Assert.Fail($"the server exited with code {server.process.ExitCode} while starting:\n{server.OutputTail}");
                try
                {
                    using var response = await server.Client.GetAsync("/healthz");
                    if (response.StatusCode == HttpStatusCode.OK) return server;
                }
                catch (HttpRequestException)
                {
                    // not listening yet
                }
                if (DateTime.UtcNow > deadline) Assert.Fail($"the server did not answer /healthz within {seconds} s:\n{server.OutputTail}");
                await Task.Delay(100);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Kills the server and everything it started at once, as <c>kill -9</c> does, and waits until it is gone.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), $"server {process.Id} did not exit within 30 s of being killed");
    }

    /// <summary>Kills the server if it still runs.</summary>
    public void Dispose()
    {
        try
        {
            if (!process.HasExited) Kill();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        Client.Dispose();
        process.Dispose();
    }

    /// <summary>Deletes a data folder; on Linux a killed server's files are gone with it, open or not.</summary>
    public static void DeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // a temporary folder left behind is harmless
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        output.Enqueue(line);
        while (output.Count > 400) output.TryDequeue(out _);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
