using System.Buffers.Binary;
using System.Text;
using Tracker.Core.Data;

namespace Tracker.TrainingBench;

/// <summary>The bench's data: generated shapes, written as .npy so that the PyTorch side trains on the same arrays.</summary>
internal static class SyntheticData
{
    /// <summary>8 classes, balanced (round-robin labels): the first <paramref name="train"/> images train, the rest validate.</summary>
    public static DatasetSplits Create(int size, int train, int validation, int seed)
    {
        var all = ShapesDataset.Generate(classes: 8, size, train + validation, noise: 0.05, seed);
        return new DatasetSplits(all.Select(Enumerable.Range(0, train).ToList()), all.Select(Enumerable.Range(train, validation).ToList()));
    }

    /// <summary>Writes <c>train_x.npy</c> (float32, [N, C, H, W], in [0, 1]), <c>train_y.npy</c> (int64), <c>val_x.npy</c>, <c>val_y.npy</c>.</summary>
    public static void WriteNpy(DatasetSplits data, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, set) in new[] { ("train", data.Train), ("val", data.Validation) })
        {
            var s = set.Shape;
            var pixels = new byte[set.Pixels.Length * sizeof(float)];
            for (int i = 0; i < set.Pixels.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(pixels.AsSpan(4 * i), set.Pixels[i]);
            Write(Path.Combine(folder, $"{name}_x.npy"), "<f4", [set.Count, s.Channels, s.Height, s.Width], pixels);
            var labels = new byte[set.Count * sizeof(long)];
            for (int i = 0; i < set.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(labels.AsSpan(8 * i), set.Labels[i]);
            Write(Path.Combine(folder, $"{name}_y.npy"), "<i8", [set.Count], labels);
        }
    }

    /// <summary>The .npy format, version 1.0: magic, a Python-literal header padded so that the data starts 64-byte aligned.</summary>
    private static void Write(string path, string dtype, int[] shape, byte[] data)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, .. "NUMPY"u8, 1, 0]);
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        file.Write(length);
        file.Write(Encoding.ASCII.GetBytes(header));
        file.Write(data);
    }
}
