using System.Globalization;
using System.Text;
using Tracker.Abstractions;
using Tracker.Plugins.EfficientNetV2;
using Tracker.Plugins.MobileNetV2;
using Tracker.TrainingBench;
using TorchSharp;

// Usage: bench/run-training-bench.sh [--models mobilenet-v2,efficientnetv2-b0[,tiny-linear]] [--sizes 32,64]
//        [--threads 1,2] [--train 512] [--validation 128] [--batch 32] [--epochs 2] [--rounds 3]
//        [--python /usr/bin/python3] [--no-pytorch] [--no-loop] [--markdown]
//        [--phases]: instead, CPU time of forward, backward and optimizer step on one batch, TorchSharp against PyTorch
// See docs/benchmarks.md, "Training throughput".
var arguments = Arguments.Parse(args);
IModelPlugin[] plugins = [new MobileNetV2Plugin(), new EfficientNetV2Plugin(), new TinyModelPlugin()];
var models = plugins.Where(p => arguments.Models.Contains(p.Name)).ToList();
string script = Path.Combine(Machine.RepositoryRoot(), "bench", "pytorch_training_baseline.py");
var python = arguments.PyTorch ? new PyTorchBaseline(arguments.Python, script) : null;

Console.WriteLine($"{Environment.ProcessorCount} cores, {Machine.CpuModel()}; .NET {Environment.Version}; " +
    $"TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch {Machine.LibTorchVersion()})");
if (python is not null) Console.WriteLine(python.Check());
string loadBefore = Machine.LoadAverage();
Console.WriteLine($"load average before: {loadBefore}");
Console.WriteLine($"{arguments.Train} training + {arguments.Validation} validation images (shapes, 8 classes), batch {arguments.Batch}, " +
    $"Adam lr 1e-3; per run 1 warm-up epoch + {arguments.Epochs} timed; {arguments.Rounds} interleaved rounds " +
    $"(Tracker{(python is null ? "" : ", PyTorch")}{(arguments.PlainLoop ? ", TorchSharp loop" : "")})");
Console.WriteLine();

if (arguments.Phases)
{
    Phases.Report(models, arguments, python);
    return;
}

var rows = new List<Row>();
string folder = Directory.CreateTempSubdirectory("tracker-training-bench-").FullName;
try
{
    foreach (int size in arguments.Sizes)
    {
        var data = SyntheticData.Create(size, arguments.Train, arguments.Validation, seed: 0);
        string dataFolder = Path.Combine(folder, $"{size}px");
        SyntheticData.WriteNpy(data, dataFolder);
        foreach (int threads in arguments.Threads)
        foreach (var model in models)
        {
            var tracker = new List<EpochTiming>();
            var loop = new List<EpochTiming>();
            var pytorch = new List<EpochTiming>();
            // Interleaved, so that a change in the machine's load falls on every side alike.
            for (int round = 0; round < arguments.Rounds; round++)
            {
                tracker.AddRange(TrackerRun.Train(model, data, threads, arguments.Batch, arguments.Epochs, seed: round));
                if (python is not null) pytorch.AddRange(python.Train(dataFolder, model.Name, threads, arguments.Batch, arguments.Epochs, seed: round));
                if (arguments.PlainLoop) loop.AddRange(PlainLoop.Train(model, data, threads, arguments.Batch, arguments.Epochs, seed: round));
            }
            var row = new Row(model.Name, size, threads, arguments.Train, Summary.Of(tracker)!, Summary.Of(loop), Summary.Of(pytorch));
            rows.Add(row);
            Console.WriteLine(row.Describe());
        }
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"load average after: {Machine.LoadAverage()}");
Console.WriteLine();
Console.Write(Row.Table(rows));
if (arguments.Markdown)
{
    Console.WriteLine();
    Console.Write(Row.Markdown(rows));
}

namespace Tracker.TrainingBench
{
    /// <summary>One configuration's medians: Tracker's trainer, the plain TorchSharp loop and PyTorch (null: not run).</summary>
    internal sealed record Row(string Model, int Size, int Threads, int Images, Summary Tracker, Summary? Loop, Summary? PyTorch)
    {
        public double? Ratio => Tracker.Epoch / PyTorch?.Epoch;

        public string Describe()
        {
            var text = new StringBuilder($"{Model} {Size}px {Threads} thread(s):\n  Tracker    {Tracker.Describe()}");
            if (Loop is not null) text.Append($"\n  TorchSharp {Loop.Describe()}");
            if (PyTorch is not null) text.Append($"\n  PyTorch    {PyTorch.Describe()}\n  ratio {Ratio:F3} (train only {Tracker.Train / PyTorch.Train:F3}, CPU {Tracker.Cpu / PyTorch.Cpu:F3})");
            return text.ToString();
        }

        public static string Table(IReadOnlyList<Row> rows)
        {
            var text = new StringBuilder();
            text.AppendLine("Seconds per epoch (medians; whole epoch = training pass with data loading + validation pass + metrics):");
            text.AppendLine($"{"model",-18}{"size",5}{"thr",4}{"Tracker",9}{"PyTorch",9}{"ratio",7}{"CPU T",8}{"CPU P",8}{"ratio",7}" +
                $"{"loop",8}{"T/loop",8}{"train T",9}{"train L",9}{"train P",9}{"val T",8}{"val L",8}{"val P",8}{"img/s T",9}{"img/s P",9}{"wait T",8}{"wait P",8}");
            foreach (var r in rows)
            {
                text.AppendLine($"{r.Model,-18}{r.Size,5}{r.Threads,4}{r.Tracker.Epoch,9:F3}{r.PyTorch?.Epoch,9:F3}{r.Ratio,7:F3}" +
                    $"{r.Tracker.Cpu,8:F3}{r.PyTorch?.Cpu,8:F3}{r.Tracker.Cpu / r.PyTorch?.Cpu,7:F3}{r.Loop?.Epoch,8:F3}{r.Tracker.Epoch / r.Loop?.Epoch,8:F3}" +
                    $"{r.Tracker.Train,9:F3}{r.Loop?.Train,9:F3}{r.PyTorch?.Train,9:F3}{r.Tracker.Validation,8:F3}{r.Loop?.Validation,8:F3}{r.PyTorch?.Validation,8:F3}" +
                    $"{r.Images / r.Tracker.Train,9:F1}{r.Images / r.PyTorch?.Train,9:F1}{r.Tracker.DataWait,8:P1}{r.PyTorch?.DataWait,8:P1}");
            }
            return text.ToString();
        }

        public static string Markdown(IReadOnlyList<Row> rows)
        {
            static string F(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "–";
            var text = new StringBuilder();
            text.AppendLine("| model | size | threads | Tracker s/epoch | PyTorch s/epoch | ratio | Tracker CPU s | PyTorch CPU s | CPU ratio | TorchSharp loop s/epoch | Tracker / loop | Tracker train s | PyTorch train s | Tracker val s | PyTorch val s | Tracker img/s | PyTorch img/s | Tracker data wait | PyTorch data wait |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in rows)
            {
                text.AppendLine($"| {r.Model} | {r.Size} | {r.Threads} | {F(r.Tracker.Epoch, "F3")} | {F(r.PyTorch?.Epoch, "F3")} | **{F(r.Ratio, "F3")}** | " +
                    $"{F(r.Tracker.Cpu, "F3")} | {F(r.PyTorch?.Cpu, "F3")} | {F(r.Tracker.Cpu / r.PyTorch?.Cpu, "F3")} | {F(r.Loop?.Epoch, "F3")} | {F(r.Tracker.Epoch / r.Loop?.Epoch, "F3")} | " +
                    $"{F(r.Tracker.Train, "F3")} | {F(r.PyTorch?.Train, "F3")} | {F(r.Tracker.Validation, "F3")} | {F(r.PyTorch?.Validation, "F3")} | " +
                    $"{F(r.Images / r.Tracker.Train, "F0")} | {F(r.Images / r.PyTorch?.Train, "F0")} | {F(100 * r.Tracker.DataWait, "F1")}% | {F(100 * r.PyTorch?.DataWait, "F1")}% |");
            }
            return text.ToString();
        }
    }

    /// <summary>Medians over every timed epoch of one side.</summary>
    /// <param name="Epoch">Whole epoch: training pass, validation pass and metrics.</param>
    /// <param name="Train">Training pass only (data loading included): Tracker's <c>epoch_seconds</c>.</param>
    /// <param name="Validation">Validation pass and metrics.</param>
    /// <param name="DataWait">Share of the training pass spent waiting for batches.</param>
    /// <param name="Cpu">CPU seconds of the process over the whole epoch.</param>
    /// <param name="Min">The fastest whole epoch.</param>
    /// <param name="Max">The slowest whole epoch.</param>
    /// <param name="Count">Timed epochs.</param>
    internal sealed record Summary(double Epoch, double Train, double Validation, double DataWait, double Cpu, double Min, double Max, int Count)
    {
        public static Summary? Of(IReadOnlyList<EpochTiming> epochs) => epochs.Count == 0 ? null : new(
            Median(epochs.Select(e => e.Epoch)), Median(epochs.Select(e => e.Train)), Median(epochs.Select(e => e.Validation)),
            Median(epochs.Select(e => e.DataWaitFraction)), Median(epochs.Select(e => e.Cpu)), epochs.Min(e => e.Epoch), epochs.Max(e => e.Epoch), epochs.Count);

        public string Describe() =>
            $"{Epoch:F3} s/epoch (train {Train:F3}, val {Validation:F3}; range {Min:F3}–{Max:F3}, n={Count}; CPU {Cpu:F3} s; data wait {DataWait:P1})";

        private static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            int mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }

    internal sealed record Arguments(string[] Models, int[] Sizes, int[] Threads, int Train, int Validation, int Batch, int Epochs, int Rounds,
        string Python, bool PyTorch, bool PlainLoop, bool Phases, bool Markdown)
    {
        public static Arguments Parse(string[] args)
        {
            var a = new Arguments(["mobilenet-v2", "efficientnetv2-b0"], [32, 64], [1, 2], 512, 128, 32, 2, 3, "/usr/bin/python3", true, true, false, false);
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int[] Ints() => Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                a = args[i] switch
                {
                    "--models" => a with { Models = Next().Split(',') },
                    "--sizes" => a with { Sizes = Ints() },
                    "--threads" => a with { Threads = Ints() },
                    "--train" => a with { Train = Ints()[0] },
                    "--validation" => a with { Validation = Ints()[0] },
                    "--batch" => a with { Batch = Ints()[0] },
                    "--epochs" => a with { Epochs = Ints()[0] },
                    "--rounds" => a with { Rounds = Ints()[0] },
                    "--python" => a with { Python = Next() },
                    "--no-pytorch" => a with { PyTorch = false },
                    "--no-loop" => a with { PlainLoop = false },
                    "--phases" => a with { Phases = true },
                    "--markdown" => a with { Markdown = true },
                    _ => throw new ArgumentException($"unknown argument {args[i]}"),
                };
            }
            return a;
        }
    }
}
