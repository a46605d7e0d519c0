using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Data;

namespace Tracker.Core.Tests;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-idx").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Writes an unsigned-byte IDX file, gzipped when the name ends in .gz.</summary>
    internal static void WriteIdx(string path, int[] dimensions, byte[] data)
    {
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz") ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, 0x08, (byte)dimensions.Length]);
        Span<byte> word = stackalloc byte[4];
        foreach (var d in dimensions)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(data);
    }

    [Theory]
    [InlineData("images.idx")]
    [InlineData("images.idx.gz")]
    public void Read_WellFormedFile_ReturnsDimensionsAndBytes(string name)
    {
        var path = Path.Combine(folder, name);
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 7)).ToArray();
        WriteIdx(path, [2, 3, 4], data);

        var (dimensions, read) = IdxReader.Read(path);

        Assert.Equal([2, 3, 4], dimensions);
        Assert.Equal(data, read);
    }

    [Fact]
    public void Read_NotIdx_ThrowsNamingTheFile()
    {
        var path = Path.Combine(folder, "notes.idx");
        File.WriteAllText(path, "hello, this is text");

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("not an IDX file", e.Message);
    }

    [Fact]
    public void Read_Truncated_ThrowsSayingWhere()
    {
        var path = Path.Combine(folder, "short.idx");
        WriteIdx(path, [10, 28, 28], new byte[100]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.Contains("ends inside the data (100 of 7840 bytes)", e.Message);
    }

    [Fact]
    public void Read_FloatData_IsRefusedClearly()
    {
        var path = Path.Combine(folder, "floats.idx");
        File.WriteAllBytes(path, [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.Contains("0x0d is not supported", e.Message);
    }
}

public sealed class FashionMnistDatasetTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-fmnist").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private FashionMnistDataset Dataset(string path) => new(Options.Create(new DatasetOptions { FashionMnistFolder = path }));

    /// <summary>A tiny stand-in: <paramref name="perClass"/> 4×4 images of each of the 10 classes, pixel value = label * 20.</summary>
    private void WriteSmallSet(int perClass)
    {
        int n = 10 * perClass;
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        var pixels = labels.SelectMany(l => Enumerable.Repeat((byte)(l * 20), 16)).ToArray();
        foreach (var split in new[] { "train", "t10k" })
        {
            IdxReaderTests.WriteIdx(Path.Combine(folder, $"{split}-images-idx3-ubyte.gz"), [n, 4, 4], pixels);
            IdxReaderTests.WriteIdx(Path.Combine(folder, $"{split}-labels-idx1-ubyte.gz"), [n], labels);
        }
    }

    [Fact]
    public void Load_Subsample_IsClassBalancedStratifiedAndScaled()
    {
        WriteSmallSet(perClass: 30);

        var splits = Dataset(folder).Load(new Dictionary<string, ParameterValue> { ["samples"] = 100, ["validation_fraction"] = 0.2, ["test_samples"] = 50 }, seed: 5);

        Assert.Equal(new InputShape(1, 4, 4), splits.Shape);
        Assert.Equal(10, splits.ClassNames.Count);
        Assert.Equal("Ankle boot", splits.ClassNames[9]);
        Assert.Equal(80, splits.Train.Count);
        Assert.Equal(20, splits.Validation.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(8, splits.Train.Labels.Count(l => l == c)));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(2, splits.Validation.Labels.Count(l => l == c)));
        Assert.Equal(50, splits.Test!.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(5, splits.Test.Labels.Count(l => l == c)));
        // Pixels travel with their labels and are scaled to [0, 1].
        for (int i = 0; i < splits.Train.Count; i++)
            Assert.Equal(splits.Train.Labels[i] * 20 / 255f, splits.Train.Pixels[i * 16 + 5], 6);
    }

    [Fact]
    public void Load_SameSeed_SameImages()
    {
        WriteSmallSet(perClass: 30);
        var options = new Dictionary<string, ParameterValue> { ["samples"] = 50 };

        var a = Dataset(folder).Load(options, seed: 1);
        var b = Dataset(folder).Load(options, seed: 1);

        Assert.Equal(a.Train.Pixels, b.Train.Pixels);
        Assert.Equal(a.Validation.Labels, b.Validation.Labels);
    }

    [Fact]
    public void Load_MissingFolder_SaysHowToGetTheData()
    {
        var e = Assert.Throws<FileNotFoundException>(() => Dataset(Path.Combine(folder, "absent")).Load(new Dictionary<string, ParameterValue>(), 1));

        Assert.Contains("dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Load_LabelCountDiffers_Throws()
    {
        IdxReaderTests.WriteIdx(Path.Combine(folder, "train-images-idx3-ubyte.gz"), [3, 2, 2], new byte[12]);
        IdxReaderTests.WriteIdx(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), [2], [0, 1]);

        var e = Assert.Throws<InvalidDataException>(() => Dataset(folder).Load(new Dictionary<string, ParameterValue>(), 1));

        Assert.Contains("3 images but 2 labels", e.Message);
    }

    /// <summary>The real files from Debian's dataset-fashion-mnist package, which CI installs.</summary>
    [Fact]
    public void ReadSplit_DebianPackage_HasTheStandardShape()
    {
        var dataset = Dataset(new DatasetOptions().FashionMnistFolder);

        var test = dataset.ReadSplit("t10k");

        Assert.Equal(new InputShape(1, 28, 28), test.Shape);
        Assert.Equal(10_000, test.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1000, test.Labels.Count(l => l == c)));
        Assert.InRange(test.Pixels.Average(), 0.2, 0.4); // mostly dark background, as in the published statistics (mean ≈ 0.286)
    }
}
