using Tracker.Abstractions;

namespace Tracker.Core.Benchmarks;

/// <summary>A test function to minimise over a search space, with its known global minimum.</summary>
/// <param name="Name">The function's usual name (e.g. <c>Branin</c>).</param>
/// <param name="Space">The box it is searched over.</param>
/// <param name="Evaluate">The function at a point of <paramref name="Space"/>.</param>
/// <param name="Minimum">The known global minimum, against which regret is measured.</param>
public sealed record BenchmarkProblem(string Name, SearchSpace Space, Func<IReadOnlyDictionary<string, ParameterValue>, double> Evaluate, double Minimum)
{
    /// <summary>Branin-Hoo on [-5, 10] × [0, 15]: two dimensions, three global minima.</summary>
    public static BenchmarkProblem Branin { get; } = new(
        "Branin",
        new SearchSpace([
            new FloatParameter { Name = "x1", Low = -5, High = 10 },
            new FloatParameter { Name = "x2", Low = 0, High = 15 },
        ]),
        p => BraninAt(p["x1"].AsDouble(), p["x2"].AsDouble()),
        0.397887);

    /// <summary>Hartmann on the six-dimensional unit cube: one global minimum among several local ones.</summary>
    public static BenchmarkProblem Hartmann6 { get; } = new(
        "Hartmann-6",
        new SearchSpace([.. Enumerable.Range(0, 6).Select(j => new FloatParameter { Name = $"x{j}", Low = 0, High = 1 })]),
        p => Hartmann6At([.. Enumerable.Range(0, 6).Select(j => p[$"x{j}"].AsDouble())]),
        -3.32237);

    /// <summary>Every problem.</summary>
    public static IReadOnlyList<BenchmarkProblem> All { get; } = [Branin, Hartmann6];

    /// <summary>The name as typed on a command line: lower case without dashes (<c>branin</c>, <c>hartmann6</c>).</summary>
    public string Key => Name.ToLowerInvariant().Replace("-", "");

    /// <summary>A problem by <see cref="Key"/> or name (case and dashes ignored), or <c>null</c>.</summary>
    public static BenchmarkProblem? Find(string name) =>
        All.FirstOrDefault(p => p.Key == name.Trim().ToLowerInvariant().Replace("-", ""));

    /// <summary>The Branin-Hoo function.</summary>
    public static double BraninAt(double x1, double x2)
    {
        const double a = 1, r = 6, s = 10;
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        double u = x2 - b * x1 * x1 + c * x1 - r;
        return a * u * u + s * (1 - t) * Math.Cos(x1) + s;
    }

    private static readonly double[] Alpha = [1.0, 1.2, 3.0, 3.2];

    private static readonly double[,] A =
    {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };

    private static readonly double[,] P =
    {
        { 1312, 1696, 5569, 124, 8283, 5886 },
        { 2329, 4135, 8307, 3736, 1004, 9991 },
        { 2348, 1451, 3522, 2883, 3047, 6650 },
        { 4047, 8828, 8732, 5743, 1091, 381 },
    };

    /// <summary>The six-dimensional Hartmann function.</summary>
    public static double Hartmann6At(double[] x)
    {
        double total = 0;
        for (int i = 0; i < 4; i++)
        {
            double inner = 0;
            for (int j = 0; j < 6; j++)
            {
                double delta = x[j] - P[i, j] * 1e-4;
                inner += A[i, j] * delta * delta;
            }
            total += Alpha[i] * Math.Exp(-inner);
        }
        return -total;
    }
}
