using Tracker.Abstractions;

namespace Tracker.Core.Data;

/// <summary>
/// A generated data set of coloured shapes on a noisy background: the class is the shape (circle, square, triangle,
/// cross, ring, diamond, horizontal bar, vertical bar); colour, size and position are random. Deterministic by seed,
/// any size, so every test and demo runs anywhere in seconds without downloads.
/// </summary>
public sealed class ShapesDataset : IDatasetProvider
{
    private static readonly string[] Kinds = ["circle", "square", "triangle", "cross", "ring", "diamond", "hbar", "vbar"];

    /// <inheritdoc />
    public string Name => "shapes";

    /// <inheritdoc />
    public string Description => "Generated coloured shapes (2–8 classes) on a noisy background; deterministic by seed.";

    /// <inheritdoc />
    public IReadOnlyList<ParameterSpec> Options { get; } =
    [
        new IntParameter { Name = "classes", Low = 2, High = Kinds.Length, Default = 4, Description = "Number of shape classes." },
        new IntParameter { Name = "image_size", Low = 8, High = 128, Default = 16, Description = "Width and height in pixels." },
        new IntParameter { Name = "samples", Low = 20, High = 100_000, Default = 400, Description = "Images in total (train + validation)." },
        new FloatParameter { Name = "validation_fraction", Low = 0.05, High = 0.5, Default = 0.2, Description = "Share of each class held out for validation." },
        new FloatParameter { Name = "noise", Low = 0, High = 0.5, Default = 0.05, Description = "Standard deviation of pixel noise." },
    ];

    /// <inheritdoc />
    public DatasetSplits Load(IReadOnlyDictionary<string, ParameterValue> options, int seed)
    {
        int Get(string name) => options.TryGetValue(name, out var v) ? v.AsInt() : Options.First(o => o.Name == name).Default!.Value.AsInt();
        double GetD(string name) => options.TryGetValue(name, out var v) ? v.AsDouble() : Options.First(o => o.Name == name).Default!.Value.AsDouble();
        var all = Generate(Get("classes"), Get("image_size"), Get("samples"), GetD("noise"), seed);
        var (train, validation) = all.SplitStratified(GetD("validation_fraction"), seed);
        return new DatasetSplits(train, validation);
    }

    /// <summary>Generates <paramref name="count"/> RGB images, classes balanced round-robin.</summary>
    public static ImageSet Generate(int classes, int size, int count, double noise, int seed)
    {
        if (classes < 2 || classes > Kinds.Length) throw new ArgumentOutOfRangeException(nameof(classes), $"classes must be in [2, {Kinds.Length}].");
        if (size < 4) throw new ArgumentOutOfRangeException(nameof(size));
        var random = new Random(seed);
        int plane = size * size;
        var pixels = new float[(long)count * 3 * plane];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = i % classes;
            labels[i] = label;
            var background = new[] { 0.1f + 0.3f * random.NextSingle(), 0.1f + 0.3f * random.NextSingle(), 0.1f + 0.3f * random.NextSingle() };
            var colour = new[] { 0.5f + 0.5f * random.NextSingle(), 0.5f + 0.5f * random.NextSingle(), 0.5f + 0.5f * random.NextSingle() };
            double radius = size * (0.22 + 0.15 * random.NextDouble());
            double cx = size / 2.0 + (random.NextDouble() - 0.5) * (size - 2 * radius);
            double cy = size / 2.0 + (random.NextDouble() - 0.5) * (size - 2 * radius);
            long offset = (long)i * 3 * plane;
            for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                // Normalised coordinates relative to the shape's centre, in units of its radius.
                double u = (x + 0.5 - cx) / radius, v = (y + 0.5 - cy) / radius;
                bool inside = Inside(Kinds[label], u, v);
                for (int c = 0; c < 3; c++)
                {
                    float value = (inside ? colour[c] : background[c]) + (float)(noise * Gaussian(random));
                    pixels[offset + c * plane + y * size + x] = Math.Clamp(value, 0f, 1f);
                }
            }
        }
        return new ImageSet(new InputShape(3, size, size), Kinds.Take(classes).ToArray(), pixels, labels);
    }

    private static bool Inside(string kind, double u, double v) => kind switch
    {
        "circle" => u * u + v * v <= 1,
        "square" => Math.Abs(u) <= 0.8 && Math.Abs(v) <= 0.8,
        "triangle" => v <= 0.8 && v >= -1 && Math.Abs(u) <= (v + 1) / 1.8 * 0.9,
        "cross" => (Math.Abs(u) <= 0.3 && Math.Abs(v) <= 1) || (Math.Abs(v) <= 0.3 && Math.Abs(u) <= 1),
        "ring" => u * u + v * v <= 1 && u * u + v * v >= 0.4,
        "diamond" => Math.Abs(u) + Math.Abs(v) <= 1,
        "hbar" => Math.Abs(u) <= 1 && Math.Abs(v) <= 0.35,
        "vbar" => Math.Abs(v) <= 1 && Math.Abs(u) <= 0.35,
        _ => false,
    };

    private static double Gaussian(Random random)
    {
        // Box-Muller; 1 - U avoids log(0).
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
