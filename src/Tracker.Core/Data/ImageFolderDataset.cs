using SkiaSharp;
using Tracker.Abstractions;

namespace Tracker.Core.Data;

/// <summary>
/// Images read from a folder with one subfolder per class, <c>root/class/…/image</c> (class folders are searched
/// recursively), the way torchvision's <c>ImageFolder</c> reads them. Classes are the subfolder names in ordinal
/// order; hidden folders and files (a leading '.') are ignored. Files ending in .jpg, .jpeg, .png, .bmp, .gif or .webp
/// (any case) are decoded with SkiaSharp; other files are ignored silently, and a candidate that cannot be decoded
/// (corrupt, truncated, empty, not an image, or more than <see cref="ImageHeader.DefaultMaxPixels"/> pixels to decode,
/// which its header tells before decoding) is skipped with a line in <see cref="DatasetSplits.Warnings"/>.
/// </summary>
/// <remarks>
/// Every image becomes an <c>image_size</c> square: its short side is scaled to <c>image_size</c> and the long side
/// centre-cropped, so the aspect ratio is kept and the edges of the long side are lost (no padding, no
/// stretching). EXIF orientation is applied; transparent areas are composited onto black. Pixels are
/// channel-first RGB, or grey by luminance (0.299 R + 0.587 G + 0.114 B), in [0, 1].
/// </remarks>
public sealed class ImageFolderDataset : IDatasetProvider
{
    /// <summary>What configured folder names are prefixed with to form the data set's name.</summary>
    public const string NamePrefix = "folder:";

    /// <summary>Past this many, skipped files are counted in one closing warning instead of listed.</summary>
    internal const int MaxListedSkips = 100;

    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp" };

    // Mipmaps keep strong downscaling (a photo to 64 pixels) from aliasing; linear between and within levels.
    private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);

    /// <summary>Reads the folder <paramref name="root"/> as the data set <c>folder:<paramref name="name"/></c>.</summary>
    public ImageFolderDataset(string name, string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Name = NamePrefix + name;
        Root = root;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The folder read from (not shown to clients: it is a server path).</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string Description =>
        $"Images from the configured folder '{Name[NamePrefix.Length..]}': one subfolder per class (JPEG, PNG, BMP, GIF, WebP).";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter { Name = "image_size", Low = 8, High = 512, Default = 64, Description = "Width and height in pixels (short side scaled to it, long side centre-cropped)." },
        new ChoiceParameter { Name = "grayscale", Values = ["false", "true"], Default = "false", Description = "One grey channel instead of three RGB channels." },
        new IntParameter { Name = "samples", Low = 0, High = 1_000_000, Default = 0, Description = "Images to use in total, class-balanced; 0 = all." },
        new FloatParameter { Name = "validation_fraction", Low = 0.05, High = 0.5, Default = 0.2, Description = "Share of each class held out for validation." },
        new FloatParameter { Name = "test_fraction", Low = 0, High = 0.5, Default = 0.1, Description = "Share of each class held out for the final test; 0 = no test split." },
    ];

    /// <summary>One provider per configured folder, in ordinal order of name.</summary>
    public static IEnumerable<ImageFolderDataset> FromOptions(DatasetOptions options) =>
        options.ImageFolders.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => new ImageFolderDataset(f.Key, f.Value));

    /// <inheritdoc />
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No usable image, or too few to hold any out for validation, or too many to hold in memory.</exception>
    public DatasetSplits Load(IReadOnlyDictionary<string, ParameterValue> options, int seed)
    {
        int size = Option(options, "image_size").AsInt();
        bool grayscale = Option(options, "grayscale").AsString() == "true";
        int samples = Option(options, "samples").AsInt();
        double validationFraction = Option(options, "validation_fraction").AsDouble();
        double testFraction = Option(options, "test_fraction").AsDouble();
        if (!Directory.Exists(Root)) throw new DirectoryNotFoundException($"Data set '{Name}': the folder {Root} does not exist.");

        var warnings = new List<string>();
        var classes = Directory.EnumerateDirectories(Root, "*", new EnumerationOptions())
            .Select(d => (Name: Path.GetFileName(d), Files: Candidates(d)))
            .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        int channels = grayscale ? 1 : 3;
        long imageValues = (long)channels * size * size;
        var accepted = DecodeBalanced(classes.Select(c => c.Files).ToList(), samples, seed, size, grayscale, imageValues, warnings);

        var kept = new List<int>();
        for (int c = 0; c < classes.Count; c++)
        {
            if (accepted[c].Count > 0) kept.Add(c);
            else warnings.Add($"class '{classes[c].Name}' has no usable images and was dropped");
        }
        int total = kept.Sum(c => accepted[c].Count);
        if (total == 0)
            throw new InvalidDataException(
                $"Data set '{Name}' has no usable images: expected <folder>/<class>/<image> with {string.Join(", ", Extensions.Order())} files.");
        if (kept.Count == 1) warnings.Add($"only one class ('{classes[kept[0]].Name}') has images; a classifier needs two or more");

        var pixels = new float[total * imageValues];
        var labels = new int[total];
        int index = 0;
        for (int label = 0; label < kept.Count; label++)
        {
            // Ordered by path, so the set does not depend on the order of decoding or subsampling.
            foreach (var (_, image) in accepted[kept[label]].OrderBy(a => a.File, StringComparer.Ordinal))
            {
                image.CopyTo(pixels, index * imageValues);
                labels[index++] = label;
            }
        }
        var all = new ImageSet(new InputShape(channels, size, size), kept.Select(c => classes[c].Name).ToArray(), pixels, labels);

        var (train, validation, test) = all.SplitStratified(validationFraction, testFraction, seed);
        if (validation.Count == 0)
            throw new InvalidDataException($"Data set '{Name}': too few images to hold any out for validation (every class has one).");
        if (testFraction > 0 && test.Count == 0) warnings.Add("no class has three or more images, so there is no test split");
        return new DatasetSplits(train, validation, test.Count > 0 ? test : null) { Warnings = warnings };
    }

    private ParameterValue Option(IReadOnlyDictionary<string, ParameterValue> options, string name)
    {
        var spec = Options.First(o => o.Name == name);
        if (!options.TryGetValue(name, out var value)) return spec.Default!.Value;
        if (spec.Check(value) is { } why) throw new ArgumentException($"Data set '{Name}', option {name}: {why}", nameof(options));
        return value;
    }

    /// <summary>The candidate files of one class folder, relative to the root with '/' separators, ordinal order.</summary>
    private List<string> Candidates(string classFolder) =>
        Directory.EnumerateFiles(classFolder, "*", new EnumerationOptions { RecurseSubdirectories = true })
            .Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Decodes every class's candidates, or with <paramref name="samples"/> &gt; 0 a class-balanced subsample drawn in a
    /// seeded order per class: a file that fails is replaced by the class's next one, so the balance holds as long as
    /// the class has usable images left. Decoding runs in parallel; results are taken in job order.
    /// </summary>
    private List<(string File, float[] Pixels)>[] DecodeBalanced(
        IReadOnlyList<List<string>> files, int samples, int seed, int size, bool grayscale, long imageValues, List<string> warnings)
    {
        var random = new Random(seed);
        var order = files.Select(f =>
        {
            var a = f.ToArray();
            if (samples > 0) random.Shuffle(a);
            return a;
        }).ToArray();
        var next = new int[order.Length];
        var accepted = order.Select(_ => new List<(string File, float[] Pixels)>()).ToArray();
        int skipped = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        while (true)
        {
            var capacity = Enumerable.Range(0, order.Length).Select(c => accepted[c].Count + order[c].Length - next[c]).ToArray();
            var quota = samples > 0 ? BalancedQuotas(capacity, samples) : capacity;
            if (quota.Sum(q => (long)q) * imageValues > Array.MaxLength)
                throw new InvalidDataException(
                    $"Data set '{Name}': {quota.Sum(q => (long)q)} images of {imageValues} values do not fit in memory; set samples or a smaller image_size.");
            var jobs = new List<(int Class, string File)>();
            for (int c = 0; c < order.Length; c++)
                for (int need = quota[c] - accepted[c].Count; need > 0; need--) jobs.Add((c, order[c][next[c]++]));
            if (jobs.Count == 0) break;

            var results = new (float[]? Pixels, string? Problem)[jobs.Count];
            Parallel.For(0, jobs.Count, parallel, i => results[i] = TryDecode(Path.Combine(Root, jobs[i].File), size, grayscale));
            for (int i = 0; i < jobs.Count; i++)
            {
                if (results[i].Pixels is { } image) accepted[jobs[i].Class].Add((jobs[i].File, image));
                else if (++skipped <= MaxListedSkips) warnings.Add($"skipped {jobs[i].File}: {results[i].Problem}");
            }
        }
        if (skipped > MaxListedSkips) warnings.Add($"skipped {skipped - MaxListedSkips} more files that could not be decoded");
        return accepted;
    }

    /// <summary>
    /// Splits <paramref name="total"/> among classes as evenly as their capacities allow: a class that cannot fill its
    /// share gives the rest to the others; what does not divide evenly goes to the first classes.
    /// </summary>
    internal static int[] BalancedQuotas(IReadOnlyList<int> capacity, int total)
    {
        var quota = new int[capacity.Count];
        var open = Enumerable.Range(0, capacity.Count).Where(c => capacity[c] > 0).ToList();
        int left = total;
        while (left > 0 && open.Count > 0)
        {
            int share = left / open.Count;
            if (share == 0)
            {
                foreach (var c in open.Take(left)) quota[c]++;
                break;
            }
            foreach (var c in open)
            {
                int give = Math.Min(share, capacity[c] - quota[c]);
                quota[c] += give;
                left -= give;
            }
            open.RemoveAll(c => quota[c] == capacity[c]);
        }
        return quota;
    }

    /// <summary>Decodes one file into a channel-first square, or says why it cannot; never throws for bad content.</summary>
    internal static (float[]? Pixels, string? Problem) TryDecode(string path, int size, bool grayscale)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"could not be read ({e.Message})");
        }
        if (bytes.Length == 0) return (null, "not a decodable image (empty file)");
        try
        {
            return Decode(bytes, size, grayscale);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // SkiaSharp reports most failures as null or a result code; this catches what slips through as exceptions.
            return (null, $"not a decodable image ({e.Message})");
        }
    }

    private static (float[]? Pixels, string? Problem) Decode(byte[] bytes, int size, bool grayscale)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null) return (null, "not a decodable image");
        var full = codec.Info.Size;
        if (full.Width <= 0 || full.Height <= 0) return (null, "not a decodable image");

        // JPEG can decode at 1/2, 1/4 or 1/8 scale for a fraction of the cost; stay at least twice the target so
        // the final filtered downscale still has detail to average.
        var decodeSize = full;
        float wanted = 2f * size / Math.Min(full.Width, full.Height);
        if (wanted < 1f && codec.GetScaledDimensions(wanted) is { Width: > 0, Height: > 0 } scaled
            && Math.Min(scaled.Width, scaled.Height) >= size && scaled != full)
            decodeSize = scaled;
        // Decoding takes 4 bytes a pixel: the size the header declares is checked before any pixel is decoded.
        if (TooLarge(decodeSize) is { } tooLarge) return (null, tooLarge);
        var bitmap = DecodePixels(codec, decodeSize, out var result);
        if (result == SKCodecResult.InvalidScale && decodeSize != full)
        {
            bitmap?.Dispose();
            if (TooLarge(full) is { } tooLargeWhole) return (null, tooLargeWhole);
            bitmap = DecodePixels(codec, full, out result);
        }
        using (bitmap)
        {
            if (bitmap is null || result != SKCodecResult.Success)
                return (null, result == SKCodecResult.IncompleteInput ? "not a decodable image (truncated)" : "not a decodable image");
            return (ToSquare(bitmap, codec.EncodedOrigin, size, grayscale), null);
        }
    }

    private static string? TooLarge(SKSizeI size) =>
        (long)size.Width * size.Height > ImageHeader.DefaultMaxPixels
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"too large to decode ({size.Width}×{size.Height} pixels; at most {ImageHeader.DefaultMaxPixels:N0})")
            : null;

    private static SKBitmap? DecodePixels(SKCodec codec, SKSizeI size, out SKCodecResult result)
    {
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        if (bitmap.GetPixels() == IntPtr.Zero)
        {
            bitmap.Dispose();
            result = SKCodecResult.InternalError;
            return null;
        }
        result = codec.GetPixels(info, bitmap.GetPixels());
        return bitmap;
    }

    /// <summary>Scales the short side to <paramref name="size"/>, centre-crops, applies the orientation, converts to floats.</summary>
    private static float[] ToSquare(SKBitmap bitmap, SKEncodedOrigin origin, int size, bool grayscale)
    {
        int side = Math.Min(bitmap.Width, bitmap.Height);
        var source = SKRect.Create((bitmap.Width - side) / 2f, (bitmap.Height - side) / 2f, side, side);
        bitmap.SetImmutable(); // lets SKImage share the pixels instead of copying them
        using var image = SKImage.FromBitmap(bitmap);
        using var square = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(square))
        {
            canvas.Clear(SKColors.Black);
            canvas.DrawImage(image, source, SKRect.Create(0, 0, size, size), Sampling, null);
        }

        // Drawn over opaque black, premultiplied equals straight RGB. The crop is centred and square, so applying
        // the orientation afterwards, as a remap of the square, gives the same result as before.
        ReadOnlySpan<byte> rgba = square.GetPixelSpan();
        int plane = size * size;
        var pixels = new float[(grayscale ? 1 : 3) * plane];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        {
            var (sx, sy) = Stored(origin, x, y, size);
            int o = (sy * size + sx) * 4;
            float r = rgba[o] / 255f, g = rgba[o + 1] / 255f, b = rgba[o + 2] / 255f;
            int p = y * size + x;
            if (grayscale) pixels[p] = Math.Clamp(0.299f * r + 0.587f * g + 0.114f * b, 0f, 1f);
            else (pixels[p], pixels[plane + p], pixels[2 * plane + p]) = (r, g, b);
        }
        return pixels;
    }

    /// <summary>
    /// For the displayed pixel (x, y) of an n×n square, the stored pixel it comes from under the EXIF orientation
    /// (e.g. RightTop: stored row 0 is shown as the right-hand column, stored column 0 as the top row).
    /// </summary>
    internal static (int X, int Y) Stored(SKEncodedOrigin origin, int x, int y, int n) => origin switch
    {
        SKEncodedOrigin.TopRight => (n - 1 - x, y),
        SKEncodedOrigin.BottomRight => (n - 1 - x, n - 1 - y),
        SKEncodedOrigin.BottomLeft => (x, n - 1 - y),
        SKEncodedOrigin.LeftTop => (y, x),
        SKEncodedOrigin.RightTop => (y, n - 1 - x),
        SKEncodedOrigin.RightBottom => (n - 1 - y, n - 1 - x),
        SKEncodedOrigin.LeftBottom => (n - 1 - y, x),
        _ => (x, y),
    };
}
