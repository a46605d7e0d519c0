using Tracker.Abstractions;
using Tracker.Core.Data;

namespace Tracker.Core.Tests;

public sealed class ShapesDatasetTests
{
    [Fact]
    public void Generate_SameSeed_IdenticalPixelsAndLabels()
    {
        var a = ShapesDataset.Generate(4, 12, 120, 0.05, seed: 7);
        var b = ShapesDataset.Generate(4, 12, 120, 0.05, seed: 7);

        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(new InputShape(3, 12, 12), a.Shape);
        Assert.Equal(120 * 3 * 12 * 12, a.Pixels.Length);
        Assert.Equal(["circle", "square", "triangle", "cross"], a.ClassNames);
    }

    [Fact]
    public void Generate_DifferentSeed_DifferentPixels()
    {
        var a = ShapesDataset.Generate(4, 12, 120, 0.05, seed: 7);
        var b = ShapesDataset.Generate(4, 12, 120, 0.05, seed: 8);

        Assert.NotEqual(a.Pixels, b.Pixels);
        // Every image differs, not just a few pixels somewhere.
        for (int i = 0; i < a.Count; i++)
            Assert.False(a.Pixels.AsSpan(i * a.ImageSize, a.ImageSize).SequenceEqual(b.Pixels.AsSpan(i * b.ImageSize, b.ImageSize)), $"image {i} is the same");
    }

    [Theory]
    [InlineData(4, 200, new[] { 50, 50, 50, 50 })]
    [InlineData(3, 10, new[] { 4, 3, 3 })]
    [InlineData(8, 64, new[] { 8, 8, 8, 8, 8, 8, 8, 8 })]
    public void Generate_AnyCount_ClassesBalanced(int classes, int count, int[] expected)
    {
        var set = ShapesDataset.Generate(classes, 8, count, 0.05, seed: 3);

        var perClass = Enumerable.Range(0, classes).Select(c => set.Labels.Count(l => l == c)).ToArray();

        Assert.Equal(expected, perClass);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void Generate_AnyNoise_PixelsInUnitRange(double noise)
    {
        var set = ShapesDataset.Generate(8, 16, 80, noise, seed: 11);

        Assert.All(set.Pixels, p => Assert.InRange(p, 0f, 1f));
        Assert.True(set.Pixels.Max() > set.Pixels.Min(), "the images are not blank");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void Generate_ClassCountOutOfRange_Throws(int classes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ShapesDataset.Generate(classes, 8, 20, 0.05, seed: 1));
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void SplitStratified_Fraction_EveryClassInBothSplitsWithRequestedShare(double fraction)
    {
        var all = ShapesDataset.Generate(4, 8, 202, 0.05, seed: 5); // classes of 51, 51, 50, 50

        var (train, validation) = all.SplitStratified(fraction, seed: 5);

        Assert.Equal(all.Count, train.Count + validation.Count);
        for (int c = 0; c < 4; c++)
        {
            int total = all.Labels.Count(l => l == c), held = validation.Labels.Count(l => l == c);
            Assert.InRange(held, total * fraction - 1, total * fraction + 1);
            Assert.Equal(total - held, train.Labels.Count(l => l == c));
            Assert.True(held > 0 && train.Labels.Count(l => l == c) > 0, $"class {c} missing from a split");
        }
    }

    [Fact]
    public void SplitStratified_Split_NoOverlapAndImagesKeepTheirLabels()
    {
        var all = ShapesDataset.Generate(4, 8, 120, 0.05, seed: 9);
        // Noise makes every image unique, so an image's pixels identify it.
        var index = Enumerable.Range(0, all.Count).ToDictionary(i => Key(all, i), i => i);
        Assert.Equal(all.Count, index.Count);

        var (train, validation) = all.SplitStratified(0.2, seed: 9);

        var trainIds = Enumerable.Range(0, train.Count).Select(i => index[Key(train, i)]).ToList();
        var validationIds = Enumerable.Range(0, validation.Count).Select(i => index[Key(validation, i)]).ToList();
        Assert.Empty(trainIds.Intersect(validationIds));
        Assert.Equal(Enumerable.Range(0, all.Count), trainIds.Concat(validationIds).Order());
        Assert.All(Enumerable.Range(0, train.Count), i => Assert.Equal(all.Labels[trainIds[i]], train.Labels[i]));
        Assert.All(Enumerable.Range(0, validation.Count), i => Assert.Equal(all.Labels[validationIds[i]], validation.Labels[i]));
    }

    [Fact]
    public void SplitStratified_SameSeed_SameSplit()
    {
        var all = ShapesDataset.Generate(3, 8, 90, 0.05, seed: 2);

        var first = all.SplitStratified(0.3, seed: 4);
        var second = all.SplitStratified(0.3, seed: 4);
        var other = all.SplitStratified(0.3, seed: 5);

        Assert.Equal(first.Validation.Pixels, second.Validation.Pixels);
        Assert.NotEqual(first.Validation.Pixels, other.Validation.Pixels);
    }

    [Fact]
    public void Load_Options_GeneratesAndSplitsAsAsked()
    {
        var provider = new ShapesDataset();
        var options = new Dictionary<string, ParameterValue> { ["classes"] = 3, ["image_size"] = 10, ["samples"] = 60, ["validation_fraction"] = 0.25 };

        var splits = provider.Load(options, seed: 1);

        Assert.Equal(new InputShape(3, 10, 10), splits.Shape);
        Assert.Equal(["circle", "square", "triangle"], splits.ClassNames);
        Assert.Equal(45, splits.Train.Count);
        Assert.Equal(15, splits.Validation.Count);
    }

    [Fact]
    public void Load_NoOptions_UsesDeclaredDefaults()
    {
        var splits = new ShapesDataset().Load(new Dictionary<string, ParameterValue>(), seed: 1);

        Assert.Equal(new InputShape(3, 16, 16), splits.Shape);
        Assert.Equal(4, splits.ClassNames.Count);
        Assert.Equal(400, splits.Train.Count + splits.Validation.Count);
        Assert.Equal(80, splits.Validation.Count);
    }

    private static string Key(ImageSet set, int i) =>
        Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(set.Pixels.AsSpan(i * set.ImageSize, set.ImageSize)));
}
