using Tracker.Abstractions;

namespace Tracker.Core.Data;

/// <summary>
/// Labelled images in memory, channel-first float32 in [0, 1]: image i occupies
/// <c>Pixels[i*C*H*W .. (i+1)*C*H*W)</c>. Immutable by convention: nothing writes to the arrays after creation.
/// </summary>
public sealed record ImageSet(InputShape Shape, IReadOnlyList<string> ClassNames, float[] Pixels, int[] Labels)
{
    /// <summary>The number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Values per image (C*H*W).</summary>
    public int ImageSize => Shape.Channels * Shape.Height * Shape.Width;

    /// <summary>Picks the given images, in the given order, into a new set.</summary>
    public ImageSet Select(IReadOnlyList<int> indices)
    {
        int size = ImageSize;
        var pixels = new float[indices.Count * size];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(Pixels, (long)indices[i] * size, pixels, (long)i * size, size);
            labels[i] = Labels[indices[i]];
        }
        return this with { Pixels = pixels, Labels = labels };
    }

    /// <summary>
    /// A stratified split: within every class, a seeded shuffle puts <paramref name="validationFraction"/> of its
    /// images (at least one where the class has two or more) into the validation set.
    /// </summary>
    public (ImageSet Train, ImageSet Validation) SplitStratified(double validationFraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, Count).GroupBy(i => Labels[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int take = members.Length < 2 ? 0 : Math.Max(1, (int)Math.Round(members.Length * validationFraction));
            validation.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        train.Sort();
        validation.Sort();
        return (Select(train), Select(validation));
    }

    /// <summary>
    /// A stratified three-way split: within every class, a seeded shuffle puts <paramref name="validationFraction"/>
    /// of its images into the validation set, the next <paramref name="testFraction"/> into the test set and the rest
    /// into the training set. A class of three or more images gets at least one image in each split whose fraction is
    /// above zero, and always keeps at least one for training; a class of two gives one to validation (when its
    /// fraction is above zero), a class of one stays in training. With <paramref name="testFraction"/> 0 the train and
    /// validation sets equal those of <see cref="SplitStratified(double, int)"/> for the same seed.
    /// </summary>
    public (ImageSet Train, ImageSet Validation, ImageSet Test) SplitStratified(double validationFraction, double testFraction, int seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(validationFraction));
        if (!(testFraction >= 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction));
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, Count).GroupBy(i => Labels[i]).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int n = members.Length;
            int v = n < 2 || validationFraction == 0 ? 0 : Math.Max(1, (int)Math.Round(n * validationFraction));
            int t = n < 3 || testFraction == 0 ? 0 : Math.Max(1, (int)Math.Round(n * testFraction));
            // Keep one for training, taking back from the larger held-out share (test first on a tie), never below one.
            while (v + t > n - 1)
            {
                if ((t >= v && t > 1) || (v <= 1 && t > 0)) t--;
                else v--;
            }
            validation.AddRange(members.Take(v));
            test.AddRange(members.Skip(v).Take(t));
            train.AddRange(members.Skip(v + t));
        }
        train.Sort();
        validation.Sort();
        test.Sort();
        return (Select(train), Select(validation), Select(test));
    }
}

/// <summary>
/// A data set split for training: the model learns from <see cref="Train"/>, is scored on <see cref="Validation"/>
/// every epoch (that score drives the search), and is scored once on <see cref="Test"/> at the end when there is one.
/// </summary>
public sealed record DatasetSplits(ImageSet Train, ImageSet Validation, ImageSet? Test = null)
{
    /// <summary>The shape of one image.</summary>
    public InputShape Shape => Train.Shape;

    /// <summary>The class names, index = label.</summary>
    public IReadOnlyList<string> ClassNames => Train.ClassNames;

    /// <summary>Problems met while loading that did not stop it (e.g. a corrupt image skipped), for the run's log.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>A named source of image data sets that experiments can use.</summary>
public interface IDatasetProvider
{
    /// <summary>The id used in specs, e.g. <c>shapes</c>.</summary>
    string Name { get; }

    /// <summary>A short description for forms.</summary>
    string Description { get; }

    /// <summary>The provider's options with defaults (size, class count, ...).</summary>
    IReadOnlyList<ParameterSpec> Options { get; }

    /// <summary>Loads (or generates) the data set; deterministic for the same options and seed.</summary>
    DatasetSplits Load(IReadOnlyDictionary<string, ParameterValue> options, int seed);
}
