using System.Diagnostics;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Training;
using TorchSharp;

namespace Tracker.TrainingBench;

/// <summary>The timings of one epoch after the warm-up, on either side.</summary>
/// <param name="Epoch">Whole epoch: training pass, validation pass and metrics.</param>
/// <param name="Train">Training pass, data loading included.</param>
/// <param name="Validation">Validation pass and metrics.</param>
/// <param name="DataWaitFraction">Share of the training pass spent waiting for batches.</param>
/// <param name="Cpu">CPU seconds of the whole process over the whole epoch, every thread counted: less sensitive than
/// wall time to other processes on a loaded machine.</param>
internal sealed record EpochTiming(double Epoch, double Train, double Validation, double DataWaitFraction, double Cpu);

/// <summary>Runs Tracker's own <see cref="Trainer"/>, exactly as the coordinator does for a trial on the CPU.</summary>
internal static class TrackerRun
{
    /// <summary>Trains 1 warm-up epoch and <paramref name="epochs"/> timed ones on a freshly built model.</summary>
    public static IReadOnlyList<EpochTiming> Train(IModelPlugin model, DatasetSplits data, int threads, int batch, int epochs, int seed)
    {
        torch.set_num_threads(threads);
        var parameters = model.Hyperparameters.ToDictionary(p => p.Name, p => p.Default!.Value);
        parameters[TrainerHyperparameters.BatchSize] = batch;
        parameters[TrainerHyperparameters.Optimizer] = "adam";
        parameters[TrainerHyperparameters.LearningRate] = 1e-3;
        var job = new TrainingJob(model, parameters, data, Epochs: 1 + epochs, seed, Device: "cpu");

        // The trainer reports the training pass (epoch_seconds); the time between two callbacks is the whole epoch,
        // so the difference is the validation pass and the metrics.
        var timings = new List<EpochTiming>();
        var clock = Stopwatch.StartNew();
        double previous = 0;
        var cpu = Environment.CpuUsage.TotalTime;
        new Trainer().Train(job, result =>
        {
            double now = clock.Elapsed.TotalSeconds;
            double train = result.Metrics[MetricNames.EpochSeconds];
            if (result.Epoch > 1)
                timings.Add(new EpochTiming(now - previous, train, now - previous - train, result.Metrics[MetricNames.DataWaitFraction],
                    (Environment.CpuUsage.TotalTime - cpu).TotalSeconds));
            previous = clock.Elapsed.TotalSeconds;
            cpu = Environment.CpuUsage.TotalTime;
            // Stopping after the last epoch skips the final evaluation (predictions, thumbnails), which is not an epoch.
            return result.Epoch < job.Epochs;
        }, CancellationToken.None);
        return timings;
    }
}
