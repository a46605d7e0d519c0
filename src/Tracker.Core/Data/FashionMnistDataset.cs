using Microsoft.Extensions.Options;
using Tracker.Abstractions;

namespace Tracker.Core.Data;

/// <summary>Options of the data sets read from disk, bound to <c>Datasets</c> in appsettings.json.</summary>
public sealed class DatasetOptions
{
    /// <summary>
    /// The folder with Fashion-MNIST's four IDX files (gzipped or not). Defaults to where Debian's
    /// <c>dataset-fashion-mnist</c> package installs them, <c>/usr/share/datasets/fashion-mnist</c>.
    /// </summary>
    public string FashionMnistFolder { get; set; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>
    /// Image folders, name → folder (one subfolder per class); each becomes a data set named <c>folder:&lt;name&gt;</c>,
    /// read by <see cref="ImageFolderDataset"/>. Relative folders resolve against the content root. Declared here
    /// rather than sent by clients, so HTTP clients never name server paths. Defaults to none.
    /// </summary>
    public Dictionary<string, string> ImageFolders { get; set; } = [];
}

/// <summary>
/// Fashion-MNIST (Zalando, 2017): 28×28 grey images of 10 kinds of clothing, 60,000 for training and 10,000 for
/// testing. Read from the standard IDX files; a seeded, class-balanced subsample of the training file keeps quick
/// runs quick, a stratified share of it becomes the validation split, and a subsample of the separate test file is
/// the test split.
/// </summary>
public sealed class FashionMnistDataset(IOptions<DatasetOptions> options) : IDatasetProvider
{
    private static readonly string[] Classes =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <inheritdoc />
    public string Name => "fashion-mnist";

    /// <inheritdoc />
    public string Description => "Fashion-MNIST: 28×28 grey images of 10 kinds of clothing (read from its IDX files).";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter { Name = "samples", Low = 20, High = 60_000, Default = 2000, Description = "Images drawn from the training file (class-balanced), train + validation." },
        new FloatParameter { Name = "validation_fraction", Low = 0.05, High = 0.5, Default = 0.2, Description = "Share of each class held out for validation." },
        new IntParameter { Name = "test_samples", Low = 0, High = 10_000, Default = 1000, Description = "Images drawn from the separate test file (class-balanced) for the final evaluation; 0 for none." },
    ];

    /// <summary>The folder read from.</summary>
    public string Folder => options.Value.FashionMnistFolder;

    /// <inheritdoc />
    public DatasetSplits Load(IReadOnlyDictionary<string, ParameterValue> values, int seed)
    {
        int samples = values.TryGetValue("samples", out var s) ? s.AsInt() : 2000;
        double fraction = values.TryGetValue("validation_fraction", out var f) ? f.AsDouble() : 0.2;
        var all = ReadSplit("train");
        var subset = all.Select(BalancedSubsample(all.Labels, samples, seed));
        var (train, validation) = subset.SplitStratified(fraction, seed);
        int testSamples = values.TryGetValue("test_samples", out var t) ? t.AsInt() : 1000;
        ImageSet? test = null;
        if (testSamples > 0)
        {
            // The published test file, never seen in training or model selection.
            var testFile = ReadSplit("t10k");
            test = testFile.Select(BalancedSubsample(testFile.Labels, testSamples, seed));
        }
        return new DatasetSplits(train, validation, test);
    }

    /// <summary>Reads one split ("train" or "t10k") as an image set with pixels scaled to [0, 1].</summary>
    public ImageSet ReadSplit(string split)
    {
        var (imageDims, pixels) = IdxReader.Read(Find($"{split}-images-idx3-ubyte"));
        var (labelDims, labels) = IdxReader.Read(Find($"{split}-labels-idx1-ubyte"));
        if (imageDims.Length != 3) throw new InvalidDataException($"{split} images: expected 3 dimensions, found {imageDims.Length}.");
        if (labelDims.Length != 1 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"{split}: {imageDims[0]} images but {labelDims[0]} labels.");
        if (labels.Any(l => l >= Classes.Length)) throw new InvalidDataException($"{split}: a label is outside 0–9.");
        var scaled = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) scaled[i] = pixels[i] / 255f;
        return new ImageSet(new InputShape(1, imageDims[1], imageDims[2]), Classes, scaled, labels.Select(l => (int)l).ToArray());
    }

    private string Find(string stem)
    {
        foreach (var candidate in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
        {
            var path = Path.Combine(Folder, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{stem}(.gz)' not found in {Folder}. Install Debian's dataset-fashion-mnist package or set Datasets:FashionMnistFolder.");
    }

    /// <summary>Picks about <paramref name="count"/> indices with every class equally represented (as far as it can be).</summary>
    private static int[] BalancedSubsample(int[] labels, int count, int seed)
    {
        if (count >= labels.Length) return Enumerable.Range(0, labels.Length).ToArray();
        var random = new Random(seed);
        var byClass = Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).OrderBy(g => g.Key)
            .Select(g => { var a = g.ToArray(); random.Shuffle(a); return a; }).ToList();
        var picked = new List<int>(count);
        for (int round = 0; picked.Count < count; round++)
        {
            bool any = false;
            foreach (var members in byClass)
            {
                if (round >= members.Length || picked.Count >= count) continue;
                picked.Add(members[round]);
                any = true;
            }
            if (!any) break;
        }
        picked.Sort();
        return picked.ToArray();
    }
}
