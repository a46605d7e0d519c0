using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SkiaSharp;
using Tracker.Abstractions;
using Tracker.Core.Data;

namespace Tracker.Core.Tests;

/// <summary>
/// A temporary image folder written with SkiaSharp: <c>pets/{blue,green,red}</c> with ten images each (solid class
/// colour plus noise, assorted sizes and aspect ratios, PNG, JPEG and WebP under mixed-case extensions), a corrupt
/// <c>red/broken.jpg</c>, a zero-byte <c>green/zero.png</c>, a <c>blue/notes.txt</c> and an empty class folder.
/// </summary>
public sealed class ImageFolderFixture : IDisposable
{
    public static readonly (string Name, SKColor Colour)[] Classes =
        [("red", new SKColor(230, 25, 25)), ("green", new SKColor(25, 200, 40)), ("blue", new SKColor(30, 40, 220))];

    private static readonly (int Width, int Height)[] Sizes = [(40, 30), (30, 50), (64, 64), (120, 40), (25, 25), (90, 60), (33, 71), (200, 150), (16, 48), (80, 80)];

    public ImageFolderFixture()
    {
        Parent = Directory.CreateTempSubdirectory("tracker-imagefolder").FullName;
        Root = Path.Combine(Parent, "pets");
        var random = new Random(42);
        foreach (var (name, colour) in Classes)
        {
            var folder = Directory.CreateDirectory(Path.Combine(Root, name)).FullName;
            for (int i = 0; i < Sizes.Length; i++)
            {
                var (format, extension) = (i % 4) switch
                {
                    0 => (SKEncodedImageFormat.Png, ".png"),
                    1 => (SKEncodedImageFormat.Jpeg, ".jpg"),
                    2 => (SKEncodedImageFormat.Jpeg, ".JPEG"),
                    _ => (SKEncodedImageFormat.Webp, ".webp"),
                };
                using var bitmap = Noisy(Sizes[i].Width, Sizes[i].Height, colour, random);
                WriteImage(bitmap, Path.Combine(folder, $"{name}{i:00}{extension}"), format);
            }
        }
        var junk = new byte[500];
        new Random(7).NextBytes(junk);
        junk[0] = 0x42; // no image signature starts with 'B','x' (BMP is "BM")
        junk[1] = 0x78;
        File.WriteAllBytes(Path.Combine(Root, "red", "broken.jpg"), junk);
        File.WriteAllBytes(Path.Combine(Root, "green", "zero.png"), []);
        File.WriteAllText(Path.Combine(Root, "blue", "notes.txt"), "not an image, and not a candidate");
        Directory.CreateDirectory(Path.Combine(Root, "empty"));
    }

    /// <summary>The temporary folder holding <see cref="Root"/>; a content root in the registration test.</summary>
    public string Parent { get; }

    /// <summary>The image folder.</summary>
    public string Root { get; }

    public void Dispose() => Directory.Delete(Parent, recursive: true);

    internal static SKBitmap Noisy(int width, int height, SKColor colour, Random random)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            byte Jitter(byte v) => (byte)Math.Clamp(v + random.Next(-20, 21), 0, 255);
            bitmap.SetPixel(x, y, new SKColor(Jitter(colour.Red), Jitter(colour.Green), Jitter(colour.Blue)));
        }
        return bitmap;
    }

    internal static void WriteImage(SKBitmap bitmap, string path, SKEncodedImageFormat format)
    {
        using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}.");
        File.WriteAllBytes(path, data.ToArray());
    }
}

public sealed class ImageFolderDatasetTests(ImageFolderFixture folder) : IClassFixture<ImageFolderFixture>
{
    private static readonly Dictionary<string, ParameterValue> Defaults = [];

    private ImageFolderDataset Dataset => new("pets", folder.Root);

    [Fact]
    public void Constructor_Name_PrefixedWithFolder()
    {
        Assert.Equal("folder:pets", Dataset.Name);
        Assert.DoesNotContain(folder.Root, Dataset.Description); // a server path is not for clients
    }

    [Fact]
    public void Load_Folder_ClassNamesOrdinalWithEmptyClassDropped()
    {
        var splits = Dataset.Load(Defaults, seed: 1);

        Assert.Equal(["blue", "green", "red"], splits.ClassNames);
        Assert.Equal(new InputShape(3, 64, 64), splits.Shape);
    }

    [Fact]
    public void Load_Defaults_StratifiedThreeWaySplit()
    {
        var splits = Dataset.Load(Defaults, seed: 1);

        // Ten usable images per class: 20 % validation, 10 % test, the rest training.
        Assert.NotNull(splits.Test);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(7, splits.Train.Labels.Count(l => l == c));
            Assert.Equal(2, splits.Validation.Labels.Count(l => l == c));
            Assert.Equal(1, splits.Test.Labels.Count(l => l == c));
        }
    }

    [Fact]
    public void Load_SameSeed_SameSplitAndDifferentSeed_DifferentSplit()
    {
        var first = Dataset.Load(Defaults, seed: 3);
        var second = Dataset.Load(Defaults, seed: 3);
        var other = Dataset.Load(Defaults, seed: 4);

        Assert.Equal(first.Validation.Pixels, second.Validation.Pixels);
        Assert.Equal(first.Test!.Pixels, second.Test!.Pixels);
        Assert.Equal(first.Train.Pixels, second.Train.Pixels);
        Assert.NotEqual(first.Validation.Pixels, other.Validation.Pixels);
    }

    [Fact]
    public void Load_ResizedImages_PixelsReflectClassColour()
    {
        var splits = Dataset.Load(new Dictionary<string, ParameterValue> { ["image_size"] = 24, ["test_fraction"] = 0 }, seed: 1);

        Assert.Null(splits.Test);
        foreach (var set in new[] { splits.Train, splits.Validation })
        {
            Assert.All(set.Pixels, p => Assert.InRange(p, 0f, 1f));
            for (int i = 0; i < set.Count; i++)
            {
                var means = ChannelMeans(set, i);
                int strongest = set.ClassNames[set.Labels[i]] switch { "red" => 0, "green" => 1, _ => 2 };
                Assert.True(means[strongest] > 0.75, $"image {i} ({set.ClassNames[set.Labels[i]]}): means {string.Join(", ", means)}");
                Assert.All(Enumerable.Range(0, 3).Where(c => c != strongest), c => Assert.True(means[c] < 0.25, $"image {i}: channel {c} mean {means[c]}"));
            }
        }
    }

    [Fact]
    public void Load_Grayscale_OneChannelOfLuminance()
    {
        var splits = Dataset.Load(new Dictionary<string, ParameterValue> { ["grayscale"] = "true", ["image_size"] = 16 }, seed: 1);

        Assert.Equal(new InputShape(1, 16, 16), splits.Shape);
        Assert.Equal(splits.Train.Count * 16 * 16, splits.Train.Pixels.Length);
        // Green (25, 200, 40) is much brighter than blue (30, 40, 220) by luminance.
        double Mean(string name) => Enumerable.Range(0, splits.Train.Count).Where(i => splits.ClassNames[splits.Train.Labels[i]] == name)
            .Average(i => splits.Train.Pixels.AsSpan(i * 256, 256).ToArray().Average());
        Assert.InRange(Mean("green"), 0.45, 0.6);
        Assert.InRange(Mean("blue"), 0.1, 0.25);
    }

    [Fact]
    public void Load_CorruptZeroByteAndEmptyClass_WarnsAboutExactlyThose()
    {
        var splits = Dataset.Load(Defaults, seed: 1);

        Assert.Equal(
            [
                "class 'empty' has no usable images and was dropped",
                "skipped green/zero.png: not a decodable image (empty file)",
                "skipped red/broken.jpg: not a decodable image",
            ],
            splits.Warnings.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(12, new[] { 4, 4, 4 })]
    [InlineData(14, new[] { 5, 5, 4 })]
    [InlineData(30, new[] { 10, 10, 10 })]
    [InlineData(500, new[] { 10, 10, 10 })]
    public void Load_Samples_ClassBalancedSubsample(int samples, int[] expected)
    {
        var options = new Dictionary<string, ParameterValue> { ["samples"] = samples, ["image_size"] = 8 };

        var splits = Dataset.Load(options, seed: 5);

        var perClass = Enumerable.Range(0, 3).Select(c => Count(splits, c)).ToArray();
        Assert.Equal(expected, perClass);
    }

    [Fact]
    public void Load_SamplesDrawingCorruptFiles_ReplacesThemKeepingBalance()
    {
        // Over enough seeds, the draw of 4 from red's 11 candidates meets broken.jpg; it must be replaced, not lost.
        bool met = false;
        for (int seed = 0; seed < 12; seed++)
        {
            var splits = Dataset.Load(new Dictionary<string, ParameterValue> { ["samples"] = 12, ["image_size"] = 8 }, seed);
            Assert.Equal(new[] { 4, 4, 4 }, Enumerable.Range(0, 3).Select(c => Count(splits, c)).ToArray());
            met |= splits.Warnings.Contains("skipped red/broken.jpg: not a decodable image");
        }
        Assert.True(met, "no seed drew the corrupt file");
    }

    [Fact]
    public void Load_SamplesSameSeed_SameSubsample()
    {
        var options = new Dictionary<string, ParameterValue> { ["samples"] = 9, ["image_size"] = 8, ["test_fraction"] = 0 };

        var first = Dataset.Load(options, seed: 2);
        var second = Dataset.Load(options, seed: 2);
        var other = Dataset.Load(options, seed: 9);

        Assert.Equal(first.Train.Pixels.Concat(first.Validation.Pixels), second.Train.Pixels.Concat(second.Validation.Pixels));
        Assert.NotEqual(first.Train.Pixels.Concat(first.Validation.Pixels), other.Train.Pixels.Concat(other.Validation.Pixels));
    }

    [Fact]
    public void Load_WideImage_ShortSideScaledAndLongSideCentreCropped()
    {
        var root = Directory.CreateDirectory(Path.Combine(folder.Parent, "wide")).FullName;
        // 90×30: a red 30×30 middle between blue sides; the centre crop keeps only the red.
        foreach (var name in new[] { "a", "b" })
        {
            var classFolder = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
            for (int i = 0; i < 3; i++)
            {
                using var bitmap = new SKBitmap(90, 30, SKColorType.Rgba8888, SKAlphaType.Opaque);
                for (int y = 0; y < 30; y++)
                for (int x = 0; x < 90; x++)
                    bitmap.SetPixel(x, y, x is >= 30 and < 60 ? SKColors.Red : SKColors.Blue);
                ImageFolderFixture.WriteImage(bitmap, Path.Combine(classFolder, $"{i}.png"), SKEncodedImageFormat.Png);
            }
        }

        var splits = new ImageFolderDataset("wide", root).Load(new Dictionary<string, ParameterValue> { ["image_size"] = 10 }, seed: 1);

        var means = ChannelMeans(splits.Train, 0);
        Assert.True(means[0] > 0.95 && means[2] < 0.05, $"means {string.Join(", ", means)}");
    }

    [Fact]
    public void Load_JpegWithExifOrientation_ShownUpright()
    {
        var root = Directory.CreateDirectory(Path.Combine(folder.Parent, "exif")).FullName;
        // Stored: left half red, right half blue. Orientation 6 (RightTop) shows stored column 0 as the top row.
        foreach (var name in new[] { "a", "b" })
        {
            var classFolder = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
            for (int i = 0; i < 3; i++)
            {
                using var bitmap = new SKBitmap(40, 40, SKColorType.Rgba8888, SKAlphaType.Opaque);
                for (int y = 0; y < 40; y++)
                for (int x = 0; x < 40; x++)
                    bitmap.SetPixel(x, y, x < 20 ? SKColors.Red : SKColors.Blue);
                using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
                File.WriteAllBytes(Path.Combine(classFolder, $"{i}.jpg"), WithExifOrientation(data.ToArray(), 6));
            }
        }

        var splits = new ImageFolderDataset("exif", root).Load(new Dictionary<string, ParameterValue> { ["image_size"] = 8, ["test_fraction"] = 0 }, seed: 1);

        var set = splits.Train;
        int plane = 64;
        double topRed = Enumerable.Range(0, 3 * 8).Average(p => set.Pixels[p]);              // rows 0–2, red channel
        double bottomRed = Enumerable.Range(5 * 8, 3 * 8).Average(p => set.Pixels[p]);      // rows 5–7, red channel
        double bottomBlue = Enumerable.Range(5 * 8, 3 * 8).Average(p => set.Pixels[2 * plane + p]);
        Assert.True(topRed > 0.8, $"top red {topRed}");
        Assert.True(bottomRed < 0.2 && bottomBlue > 0.8, $"bottom red {bottomRed}, blue {bottomBlue}");
    }

    [Theory]
    [InlineData("random")]
    [InlineData("empty")]
    [InlineData("text")]
    [InlineData("truncated")]
    public void TryDecode_BadContent_ReportsProblemWithoutThrowing(string kind)
    {
        var path = Path.Combine(folder.Parent, $"bad-{kind}.jpg");
        byte[] bytes = kind switch
        {
            "random" => Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11)).ToArray(),
            "empty" => [],
            "text" => "just some text"u8.ToArray(),
            _ => Truncated(),
        };
        File.WriteAllBytes(path, bytes);

        var (pixels, problem) = ImageFolderDataset.TryDecode(path, 16, grayscale: false);

        Assert.Null(pixels);
        Assert.StartsWith("not a decodable image", problem);
    }

    [Fact]
    public void Load_MissingFolder_ThrowsDirectoryNotFound()
    {
        var dataset = new ImageFolderDataset("gone", Path.Combine(folder.Parent, "does-not-exist"));

        Assert.Throws<DirectoryNotFoundException>(() => dataset.Load(Defaults, seed: 1));
    }

    [Fact]
    public void Load_NoUsableImages_ThrowsInvalidData()
    {
        var root = Directory.CreateDirectory(Path.Combine(folder.Parent, "nothing")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "cats"));
        File.WriteAllBytes(Path.Combine(root, "cats", "zero.png"), []);

        var e = Assert.Throws<InvalidDataException>(() => new ImageFolderDataset("nothing", root).Load(Defaults, seed: 1));

        Assert.Contains("no usable images", e.Message);
    }

    [Fact]
    public void Load_OptionOutOfRange_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => Dataset.Load(new Dictionary<string, ParameterValue> { ["image_size"] = 4 }, seed: 1));

        Assert.Contains("image_size", e.Message);
    }

    [Theory]
    [InlineData(new[] { 2, 10, 10 }, 15, new[] { 2, 7, 6 })]
    [InlineData(new[] { 10, 10, 10 }, 10, new[] { 4, 3, 3 })]
    [InlineData(new[] { 0, 5, 1 }, 100, new[] { 0, 5, 1 })]
    [InlineData(new[] { 3, 3 }, 0, new[] { 0, 0 })]
    public void BalancedQuotas_Capacities_EvenAsCapacitiesAllow(int[] capacity, int total, int[] expected)
    {
        Assert.Equal(expected, ImageFolderDataset.BalancedQuotas(capacity, total));
    }

    [Fact]
    public void AddTrackerCore_ConfiguredImageFolder_CatalogFindsItWithPathFromContentRoot()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = folder.Parent });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:ConnectionString"] = "tracker.db",
            ["Datasets:ImageFolders:pets"] = "pets", // relative: resolved against the content root
        });
        builder.AddTrackerCore();
        using var services = builder.Services.BuildServiceProvider();

        var catalog = services.GetRequiredService<DatasetCatalog>();

        var provider = Assert.IsType<ImageFolderDataset>(catalog.Find("folder:pets"));
        Assert.Equal(folder.Root, provider.Root);
        Assert.NotNull(catalog.Find("shapes"));
        Assert.Equal(["blue", "green", "red"], catalog.Load("folder:pets", new Dictionary<string, ParameterValue> { ["image_size"] = 8 }, seed: 1).ClassNames);
    }

    private static int Count(DatasetSplits splits, int label) =>
        splits.Train.Labels.Count(l => l == label) + splits.Validation.Labels.Count(l => l == label) + (splits.Test?.Labels.Count(l => l == label) ?? 0);

    private static double[] ChannelMeans(ImageSet set, int image)
    {
        int plane = set.Shape.Height * set.Shape.Width;
        return Enumerable.Range(0, set.Shape.Channels)
            .Select(c => set.Pixels.AsSpan(image * set.ImageSize + c * plane, plane).ToArray().Average(p => (double)p)).ToArray();
    }

    private static byte[] Truncated()
    {
        using var bitmap = ImageFolderFixture.Noisy(64, 64, SKColors.Orange, new Random(1));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray()[..(int)(data.Size / 3)];
    }

    /// <summary>Inserts an EXIF APP1 segment holding only the orientation tag right after the JPEG's SOI marker.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, byte orientation)
    {
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 0x22, // APP1, length 34 (counts itself)
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD at 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // Orientation, SHORT, 1
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        return [.. jpeg[..2], .. app1, .. jpeg[2..]];
    }
}

public sealed class ImageSetThreeWaySplitTests
{
    /// <summary>Classes of 1, 2, 3, 5 and 20 images, one value per image holding its index.</summary>
    private static ImageSet Uneven()
    {
        int[] sizes = [1, 2, 3, 5, 20];
        var labels = sizes.SelectMany((n, c) => Enumerable.Repeat(c, n)).ToArray();
        var pixels = Enumerable.Range(0, labels.Length).Select(i => (float)i).ToArray();
        return new ImageSet(new InputShape(1, 1, 1), ["a", "b", "c", "d", "e"], pixels, labels);
    }

    [Theory]
    [InlineData(0.2, 0.1)]
    [InlineData(0.05, 0.05)]
    [InlineData(0.5, 0.5)]
    public void SplitStratified_ThreeWay_ClassesOfThreeOrMoreInEverySplit(double validationFraction, double testFraction)
    {
        var all = Uneven();

        var (train, validation, test) = all.SplitStratified(validationFraction, testFraction, seed: 1);

        Assert.Equal(Enumerable.Range(0, all.Count).Select(i => (float)i), train.Pixels.Concat(validation.Pixels).Concat(test.Pixels).Order());
        Assert.All(new[] { train, validation, test }, s => Assert.All(Enumerable.Range(0, s.Count), i => Assert.Equal(all.Labels[(int)s.Pixels[i]], s.Labels[i])));
        for (int c = 2; c < 5; c++)
        {
            Assert.True(train.Labels.Contains(c) && validation.Labels.Contains(c) && test.Labels.Contains(c), $"class {c} missing from a split");
        }
        Assert.Equal([0], train.Labels.Where(l => l == 0)); // a class of one stays in training
        Assert.Equal(1, validation.Labels.Count(l => l == 1)); // a class of two gives one to validation
        Assert.Equal(1, train.Labels.Count(l => l == 1));
        int large = test.Labels.Count(l => l == 4);
        Assert.InRange(large, Math.Max(1, 20 * testFraction - 1), 20 * testFraction + 1);
    }

    [Fact]
    public void SplitStratified_NoTestFraction_SameAsTwoWaySplit()
    {
        var all = Uneven();

        var (train, validation, test) = all.SplitStratified(0.3, 0, seed: 8);
        var (train2, validation2) = all.SplitStratified(0.3, seed: 8);

        Assert.Equal(0, test.Count);
        Assert.Equal(train2.Pixels, train.Pixels);
        Assert.Equal(validation2.Pixels, validation.Pixels);
    }

    [Fact]
    public void SplitStratified_ThreeWaySameSeed_SameSplitOtherSeedDifferent()
    {
        var all = Uneven();

        var first = all.SplitStratified(0.2, 0.2, seed: 4);
        var second = all.SplitStratified(0.2, 0.2, seed: 4);
        var other = all.SplitStratified(0.2, 0.2, seed: 5);

        Assert.Equal(first.Test.Pixels, second.Test.Pixels);
        Assert.Equal(first.Validation.Pixels, second.Validation.Pixels);
        Assert.NotEqual(first.Test.Pixels.Concat(first.Validation.Pixels), other.Test.Pixels.Concat(other.Validation.Pixels));
    }
}
