using System.Diagnostics;
using Tracker.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.TrainingBench;

/// <summary>
/// Where a training step's time goes (<c>--phases</c>): forward with loss, backward, optimizer step, on one fixed
/// batch, in TorchSharp here and in PyTorch by the baseline's <c>--phases</c>. Medians of CPU milliseconds, which a
/// loaded machine disturbs less than wall time.
/// </summary>
internal static class Phases
{
    public const int Steps = 12, Skipped = 2;

    /// <summary>Prints the table of <c>--phases</c>: every configuration, TorchSharp and PyTorch interleaved by round.</summary>
    public static void Report(IReadOnlyList<IModelPlugin> models, Arguments arguments, PyTorchBaseline? python)
    {
        Console.WriteLine($"CPU ms per training step on one batch of {arguments.Batch} (median of {Steps - Skipped} steps, then of {arguments.Rounds} rounds); TS TorchSharp, PT PyTorch:");
        Console.WriteLine($"{"model",-18}{"size",5}{"thr",4}{"fwd TS",9}{"fwd PT",9}{"bwd TS",9}{"bwd PT",9}{"step TS",9}{"step PT",9}{"total TS",10}{"total PT",10}{"ratio",7}");
        foreach (int size in arguments.Sizes)
        foreach (int threads in arguments.Threads)
        foreach (var model in models)
        {
            var sharp = new List<(double Forward, double Backward, double Step)>();
            var py = new List<(double Forward, double Backward, double Step)>();
            for (int round = 0; round < arguments.Rounds; round++)
            {
                sharp.Add(Measure(model, size, threads, arguments.Batch));
                if (python is not null) py.Add(python.Phases(model.Name, size, threads, arguments.Batch));
            }
            double tf = Median([.. sharp.Select(p => p.Forward)]), tb = Median([.. sharp.Select(p => p.Backward)]), ts = Median([.. sharp.Select(p => p.Step)]);
            double pf = Median([.. py.Select(p => p.Forward)]), pb = Median([.. py.Select(p => p.Backward)]), ps = Median([.. py.Select(p => p.Step)]);
            Console.WriteLine($"{model.Name,-18}{size,5}{threads,4}{tf,9:F1}{pf,9:F1}{tb,9:F1}{pb,9:F1}{ts,9:F1}{ps,9:F1}" +
                $"{tf + tb + ts,10:F1}{pf + pb + ps,10:F1}{(tf + tb + ts) / (pf + pb + ps),7:F3}");
        }
    }

    public static (double Forward, double Backward, double Step) Measure(IModelPlugin plugin, int size, int threads, int batch)
    {
        torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var parameters = plugin.Hyperparameters.ToDictionary(p => p.Name, p => p.Default!.Value);
        using var model = plugin.Build(new ModelSpec(8, new InputShape(3, size, size), parameters));
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        var x = torch.randn(batch, 3, size, size);
        var y = torch.randint(0, 8, [batch]);
        model.train();
        var forward = new List<double>();
        var backward = new List<double>();
        var step = new List<double>();
        for (int i = 0; i < Steps; i++)
        {
            using var inner = torch.NewDisposeScope();
            var c0 = Environment.CpuUsage.TotalTime;
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            var c1 = Environment.CpuUsage.TotalTime;
            loss.backward();
            var c2 = Environment.CpuUsage.TotalTime;
            optimizer.step();
            _ = loss.item<float>();
            var c3 = Environment.CpuUsage.TotalTime;
            if (i < Skipped) continue;
            forward.Add((c1 - c0).TotalMilliseconds);
            backward.Add((c2 - c1).TotalMilliseconds);
            step.Add((c3 - c2).TotalMilliseconds);
        }
        return (Median(forward), Median(backward), Median(step));
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        values.Sort();
        return values[values.Count / 2];
    }
}
