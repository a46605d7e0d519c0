using System.Collections.Concurrent;
using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Core.Training;

/// <summary>
/// Prepares mini-batches ahead of the trainer on a thread of its own (index, augment, resize, move to the device),
/// so that data preparation overlaps with the training step instead of adding to it. <see cref="WaitTime"/> says how
/// long the consumer waited for data: near zero means loading never starved training.
/// </summary>
internal sealed class BatchSource : IDisposable
{
    private readonly BlockingCollection<(Tensor X, Tensor Y)> queue;
    private readonly Thread producer;
    private readonly CancellationTokenSource stop = new();
    private readonly Stopwatch waiting = new();
    private Exception? failure;

    /// <param name="images">All images, [N, C, H, W], already normalised, on the CPU.</param>
    /// <param name="labels">Labels, [N], int64, on the CPU.</param>
    /// <param name="order">The sample order of this pass.</param>
    /// <param name="batchSize">Samples per batch; the last batch may be smaller.</param>
    /// <param name="augment">Flip/crop settings; none for evaluation.</param>
    /// <param name="inputSize">Resize to this square size; 0 keeps the size.</param>
    /// <param name="seed">Seeds the augmentation.</param>
    /// <param name="device">Where batches are delivered.</param>
    /// <param name="prefetch">Batches prepared ahead. Defaults to 3.</param>
    public BatchSource(Tensor images, Tensor labels, int[] order, int batchSize, (bool Flip, bool Crop) augment, int inputSize,
        int seed, Device device, int prefetch = 3)
    {
        queue = new BlockingCollection<(Tensor, Tensor)>(Math.Max(1, prefetch));
        producer = new Thread(() => Produce(images, labels, order, batchSize, augment, inputSize, seed, device)) { IsBackground = true, Name = "batch-prefetch" };
        producer.Start();
    }

    /// <summary>Total time the consumer spent waiting for batches.</summary>
    public TimeSpan WaitTime => waiting.Elapsed;

    /// <summary>The batches in order; the caller disposes each batch's tensors.</summary>
    public IEnumerable<(Tensor X, Tensor Y)> Batches()
    {
        while (true)
        {
            waiting.Start();
            bool got = queue.TryTake(out var batch, Timeout.Infinite);
            waiting.Stop();
            if (!got) break;
            yield return batch;
        }
        if (failure is not null) throw new InvalidOperationException($"preparing a batch failed: {failure.Message}", failure);
    }

    private void Produce(Tensor images, Tensor labels, int[] order, int batchSize, (bool Flip, bool Crop) augment, int inputSize, int seed, Device device)
    {
        var random = new Random(seed);
        try
        {
            for (int start = 0; start < order.Length && !stop.IsCancellationRequested; start += batchSize)
            {
                int count = Math.Min(batchSize, order.Length - start);
                (Tensor X, Tensor Y) batch;
                using (var scope = torch.NewDisposeScope())
                {
                    var index = torch.tensor(order.AsSpan(start, count).ToArray(), ScalarType.Int64);
                    var x = images.index_select(0, index);
                    if (augment.Crop) x = RandomCrop(x, random);
                    if (augment.Flip) x = RandomFlip(x, random);
                    if (inputSize > 0 && (x.shape[2] != inputSize || x.shape[3] != inputSize))
                        x = nn.functional.interpolate(x, [inputSize, inputSize], mode: InterpolationMode.Bilinear, align_corners: false);
                    var y = labels.index_select(0, index);
                    batch = (x.to(device).MoveToOuterDisposeScope(), y.to(device).MoveToOuterDisposeScope());
                }
                queue.Add(batch, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            queue.CompleteAdding();
        }
    }

    /// <summary>Flips a random half of the images left to right.</summary>
    private static Tensor RandomFlip(Tensor x, Random random)
    {
        var mask = torch.tensor(Enumerable.Range(0, (int)x.shape[0]).Select(_ => random.NextDouble() < 0.5).ToArray()).view(-1, 1, 1, 1);
        return torch.where(mask, x.flip(3), x);
    }

    /// <summary>Pads by an eighth of the size with zeros (the normalised mean) and crops back at a random offset per image.</summary>
    private static Tensor RandomCrop(Tensor x, Random random)
    {
        long h = x.shape[2], w = x.shape[3];
        int pad = (int)Math.Max(1, Math.Min(h, w) / 8);
        var padded = nn.functional.pad(x, [pad, pad, pad, pad]);
        var crops = new Tensor[x.shape[0]];
        for (int i = 0; i < crops.Length; i++)
            crops[i] = padded[i].narrow(1, random.Next(2 * pad + 1), h).narrow(2, random.Next(2 * pad + 1), w);
        return torch.stack(crops);
    }

    public void Dispose()
    {
        stop.Cancel();
        producer.Join();
        while (queue.TryTake(out var batch))
        {
            batch.X.Dispose();
            batch.Y.Dispose();
        }
        queue.Dispose();
        stop.Dispose();
    }
}
