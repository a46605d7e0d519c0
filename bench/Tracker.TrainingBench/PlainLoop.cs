using System.Diagnostics;
using Tracker.Abstractions;
using Tracker.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.TrainingBench;

/// <summary>
/// The Python baseline's loop written in TorchSharp, without the trainer: same libtorch, models and work as
/// <see cref="TrackerRun"/>, none of the trainer's machinery (prefetch thread, learning-rate schedule, metrics). Its
/// time against Tracker's is the trainer's overhead; its time against PyTorch's is TorchSharp's and libtorch's.
/// </summary>
internal static class PlainLoop
{
    public static IReadOnlyList<EpochTiming> Train(IModelPlugin plugin, DatasetSplits data, int threads, int batch, int epochs, int seed)
    {
        torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        var (trainX, trainY) = Tensors(data.Train);
        var (valX, valY) = Tensors(data.Validation);
        var mean = trainX.mean([0, 2, 3], keepdim: true);
        var std = trainX.std([0, 2, 3], keepdim: true).clamp_min(1e-6);
        trainX = (trainX - mean) / std;
        valX = (valX - mean) / std;
        int classes = data.ClassNames.Count, n = data.Train.Count;

        torch.manual_seed(seed);
        var parameters = plugin.Hyperparameters.ToDictionary(p => p.Name, p => p.Default!.Value);
        using var model = plugin.Build(new ModelSpec(classes, data.Shape, parameters));
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3);
        var timings = new List<EpochTiming>();
        for (int epoch = 1; epoch <= 1 + epochs; epoch++)
        {
            var cpu = Environment.CpuUsage.TotalTime;
            var clock = Stopwatch.StartNew();
            model.train();
            double lossSum = 0;
            using (var order = torch.randperm(n))
            {
                // A trailing batch of one would break batch norm, as in the trainer and the Python loop.
                int usable = n % batch == 1 ? n - 1 : n;
                for (int start = 0; start < usable; start += batch)
                {
                    using var step = torch.NewDisposeScope();
                    var index = order.narrow(0, start, Math.Min(batch, usable - start));
                    var x = trainX.index_select(0, index);
                    var y = trainY.index_select(0, index);
                    optimizer.zero_grad();
                    var loss = nn.functional.cross_entropy(model.forward(x), y);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>() * x.shape[0];
                }
            }
            double train = clock.Elapsed.TotalSeconds;

            model.eval();
            using (torch.no_grad())
            {
                var predicted = new List<int>();
                double valLoss = 0;
                for (int start = 0; start < data.Validation.Count; start += 256)
                {
                    using var step = torch.NewDisposeScope();
                    int count = Math.Min(256, data.Validation.Count - start);
                    var logits = model.forward(valX.narrow(0, start, count));
                    valLoss += nn.functional.cross_entropy(logits, valY.narrow(0, start, count), reduction: nn.Reduction.Sum).item<float>();
                    var (top, index) = nn.functional.softmax(logits, 1).max(1);
                    predicted.AddRange(index.to(ScalarType.Int32).data<int>().ToArray());
                    _ = top.to(ScalarType.Float64).data<double>().ToArray();
                }
                _ = predicted.Where((p, i) => p == data.Validation.Labels[i]).Count();
            }
            double whole = clock.Elapsed.TotalSeconds;
            if (epoch > 1)
                timings.Add(new EpochTiming(whole, train, whole - train, 0, (Environment.CpuUsage.TotalTime - cpu).TotalSeconds));
        }
        return timings;
    }

    private static (Tensor X, Tensor Y) Tensors(ImageSet set) =>
        (torch.tensor(set.Pixels, [set.Count, set.Shape.Channels, set.Shape.Height, set.Shape.Width]), torch.tensor(set.Labels, ScalarType.Int64));
}
