using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Tracker.TrainingBench;

/// <summary>Runs <c>bench/pytorch_training_baseline.py</c>, a plain PyTorch loop, in a child process.</summary>
internal sealed class PyTorchBaseline(string python, string script)
{
    /// <summary>Checks that the Python models have the parameter counts of Tracker's plugins, and says which PyTorch runs.</summary>
    public string Check()
    {
        var lines = Run(["--check"], threads: 1).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var parts = lines.Select(l => l.TryGetProperty("check", out var name)
            ? $"{name.GetString()} {l.GetProperty("parameters").GetInt64():N0} parameters at 1000 classes (Tracker's plugin: {l.GetProperty("expected").GetInt64():N0})"
            : $"PyTorch {l.GetProperty("torch").GetString()}, torchvision {l.GetProperty("torchvision").GetString()}, {l.GetProperty("config").GetString()}");
        return string.Join("\n", parts);
    }

    /// <summary>Trains 1 warm-up epoch and <paramref name="epochs"/> timed ones, like <see cref="TrackerRun.Train"/>.</summary>
    public IReadOnlyList<EpochTiming> Train(string data, string model, int threads, int batch, int epochs, int seed)
    {
        string[] arguments = ["--data", data, "--model", model, "--threads", $"{threads}", "--batch", $"{batch}", "--epochs", $"{1 + epochs}", "--seed", $"{seed}"];
        var timings = new List<EpochTiming>();
        foreach (var line in Run(arguments, threads))
        {
            var json = JsonDocument.Parse(line).RootElement;
            if (json.TryGetProperty("threads", out var reported) && reported.GetInt32() != threads)
                throw new InvalidOperationException($"PyTorch runs {reported.GetInt32()} threads, not {threads}.");
            if (!json.TryGetProperty("epoch", out var epoch) || epoch.GetInt32() == 1) continue;
            double train = json.GetProperty("train_s").GetDouble();
            timings.Add(new EpochTiming(json.GetProperty("epoch_s").GetDouble(), train, json.GetProperty("val_s").GetDouble(),
                json.GetProperty("data_wait_s").GetDouble() / train, json.GetProperty("cpu_s").GetDouble()));
        }
        return timings;
    }

    /// <summary>Forward, backward and step CPU milliseconds on one batch, like <see cref="Phases.Measure"/>.</summary>
    public (double Forward, double Backward, double Step) Phases(string model, int size, int threads, int batch)
    {
        var json = JsonDocument.Parse(Run(["--phases", $"{size}", "--model", model, "--threads", $"{threads}", "--batch", $"{batch}"], threads).Single()).RootElement;
        return (json.GetProperty("forward").GetDouble(), json.GetProperty("backward").GetDouble(), json.GetProperty("step").GetDouble());
    }

    private List<string> Run(IEnumerable<string> arguments, int threads)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // torch.set_num_threads sets the intra-op pool; these keep OpenMP and MKL from starting more before it runs.
        start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        start.Environment["MKL_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {python}");
        var errors = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
            if (line.StartsWith('{')) lines.Add(line);
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{python} {script} exited with {process.ExitCode}:\n{errors.Result}");
        return lines;
    }
}
