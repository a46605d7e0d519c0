using Tracker.Abstractions;
using Tracker.Core.Experiments;

namespace Tracker.Core.Analysis;

/// <summary>How much one searched parameter matters for the objective.</summary>
/// <param name="Parameter">The parameter's name.</param>
/// <param name="Importance">Its share of the total importance, in [0, 1]; the shares sum to 1 (or are all 0).</param>
public sealed record ParameterImportanceEntry(string Parameter, double Importance);

/// <summary>The importance of each searched parameter, or why there is none yet.</summary>
/// <param name="Method">How it was estimated, for people to read (e.g. "random-forest permutation importance, 64 trees").</param>
/// <param name="Parameters">Most important first; empty when <paramref name="Problem"/> is set.</param>
/// <param name="TrialCount">The completed trials it is based on.</param>
/// <param name="Problem">Why nothing could be estimated (too few trials or parameters, a constant objective), or <c>null</c>.</param>
public sealed record ParameterImportanceResult(string Method, IReadOnlyList<ParameterImportanceEntry> Parameters, int TrialCount, string? Problem)
{
    /// <summary>Whether there are importances to show.</summary>
    public bool Succeeded => Problem is null;
}

/// <summary>
/// Estimates which searched parameters drive the objective, from completed trials: a seeded random forest of
/// regression trees learns the objective from the parameters, and each parameter's importance is how much worse the
/// trees predict their out-of-bag trials when that parameter's values are replaced by those of other trials
/// (Breiman's permutation importance), normalised to sum to 1.
/// </summary>
/// <remarks>
/// Parameters enter as their <see cref="ParameterSpec.ToUnit"/> coordinate: log-scaled numbers in log space, a
/// choice as its ordinal position (trees split it into any grouping of categories given enough depth). A conditional
/// parameter that is inactive in a trial takes a value below every active one, so "inactive" is a category of its own.
/// </remarks>
public static class ParameterImportance
{
    /// <summary>The fewest completed trials an estimate needs.</summary>
    public const int MinTrials = 5;

    /// <summary>The number of trees.</summary>
    public const int Trees = 64;

    /// <summary>The method's name as the dashboard shows it.</summary>
    public static readonly string Method = $"random-forest permutation importance ({Trees} trees, out-of-bag)";

    private const double Inactive = -1;
    private const int MaxDepth = 12;
    private const int MaxSample = 2000; // bootstrap and out-of-bag sizes are capped: 10k trials stay about a second

    /// <summary>Estimates the importance of each parameter of <paramref name="space"/> over the completed trials with a finite objective.</summary>
    public static ParameterImportanceResult Estimate(SearchSpace space, IEnumerable<Trial> trials, int seed = 1) =>
        Estimate(space, trials.Where(t => t.State == TrialState.Completed && t.Objective is { } v && double.IsFinite(v))
            .Select(t => ((IReadOnlyDictionary<string, ParameterValue>)t.Parameters, t.Objective!.Value)).ToList(), seed);

    /// <summary>Estimates the importance of each parameter of <paramref name="space"/> from (point, objective) pairs.</summary>
    public static ParameterImportanceResult Estimate(SearchSpace space, IReadOnlyList<(IReadOnlyDictionary<string, ParameterValue> Point, double Objective)> observations, int seed = 1)
    {
        var parameters = space.Parameters;
        var rows = observations.Where(o => double.IsFinite(o.Objective)).ToList();
        if (parameters.Count < 2)
            return new(Method, [], rows.Count, "Importance compares two or more searched parameters; this search has " + (parameters.Count == 0 ? "none." : $"only '{parameters[0].Name}'."));
        if (rows.Count < MinTrials)
            return new(Method, [], rows.Count, $"Not enough trials: importance needs at least {MinTrials} completed trials (there {(rows.Count == 1 ? "is" : "are")} {rows.Count}).");

        int n = rows.Count, d = parameters.Count;
        var x = new double[n][];
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = new double[d];
            for (int j = 0; j < d; j++)
                x[i][j] = rows[i].Point.TryGetValue(parameters[j].Name, out var v) && parameters[j].Check(v) is null ? parameters[j].ToUnit(v) : Inactive;
            y[i] = rows[i].Objective;
        }
        if (y.Max() - y.Min() <= 1e-12 * Math.Max(1, Math.Abs(y.Max())))
            return new(Method, [], n, "The objective is the same in every completed trial, so no parameter can explain it.");

        var increase = new double[d];
        var random = new Random(seed);
        int sample = Math.Min(n, MaxSample);
        for (int t = 0; t < Trees; t++)
        {
            var inBag = new bool[n];
            var bag = new int[sample];
            for (int k = 0; k < sample; k++) inBag[bag[k] = random.Next(n)] = true;
            var tree = RegressionTree.Fit(x, y, bag, MaxDepth);
            var outOfBag = Enumerable.Range(0, n).Where(i => !inBag[i]).ToArray();
            if (outOfBag.Length == 0) continue;
            if (outOfBag.Length > MaxSample)
            {
                random.Shuffle(outOfBag);
                outOfBag = outOfBag[..MaxSample];
            }
            double baseline = outOfBag.Sum(i => Square(y[i] - tree.Predict(x[i])));
            var probe = new double[d];
            for (int j = 0; j < d; j++)
            {
                double permuted = 0;
                foreach (int i in outOfBag)
                {
                    // Replace this parameter with another trial's value: the draw is the "permutation" of Breiman's
                    // estimate, taken from all trials so that it works with a single out-of-bag trial too.
                    Array.Copy(x[i], probe, d);
                    probe[j] = x[random.Next(n)][j];
                    permuted += Square(y[i] - tree.Predict(probe));
                }
                increase[j] += (permuted - baseline) / outOfBag.Length;
            }
        }

        var clipped = increase.Select(v => Math.Max(0, v / Trees)).ToArray();
        double total = clipped.Sum();
        var entries = parameters.Select((p, j) => new ParameterImportanceEntry(p.Name, total > 0 ? clipped[j] / total : 0))
            .OrderByDescending(e => e.Importance).ThenBy(e => e.Parameter, StringComparer.Ordinal).ToList();
        return new(Method, entries, n, null);
    }

    private static double Square(double v) => v * v;

    /// <summary>A CART regression tree (variance reduction), stored as flat arrays.</summary>
    private sealed class RegressionTree
    {
        private readonly List<int> feature = [];
        private readonly List<double> threshold = [];
        private readonly List<int> left = [];
        private readonly List<int> right = [];
        private readonly List<double> value = [];

        public static RegressionTree Fit(double[][] x, double[] y, int[] rows, int maxDepth)
        {
            var tree = new RegressionTree();
            tree.Grow(x, y, rows, maxDepth);
            return tree;
        }

        public double Predict(double[] point)
        {
            int node = 0;
            while (feature[node] >= 0) node = point[feature[node]] <= threshold[node] ? left[node] : right[node];
            return value[node];
        }

        private int Grow(double[][] x, double[] y, int[] rows, int depth)
        {
            int node = feature.Count;
            feature.Add(-1);
            threshold.Add(0);
            left.Add(-1);
            right.Add(-1);
            value.Add(rows.Average(i => y[i]));
            if (depth == 0 || rows.Length < 2 || !BestSplit(x, y, rows, out int f, out double cut)) return node;
            var (l, r) = (rows.Where(i => x[i][f] <= cut).ToArray(), rows.Where(i => x[i][f] > cut).ToArray());
            feature[node] = f;
            threshold[node] = cut;
            int leftChild = Grow(x, y, l, depth - 1);
            left[node] = leftChild;
            int rightChild = Grow(x, y, r, depth - 1);
            right[node] = rightChild;
            return node;
        }

        /// <summary>The split with the largest reduction of the squared error; false when no split reduces it.</summary>
        private static bool BestSplit(double[][] x, double[] y, int[] rows, out int bestFeature, out double bestCut)
        {
            bestFeature = -1;
            bestCut = 0;
            int n = rows.Length;
            double sum = 0, sumSq = 0;
            foreach (int i in rows) { sum += y[i]; sumSq += y[i] * y[i]; }
            double parent = sumSq - sum * sum / n, best = parent * (1 - 1e-12) - 1e-15;
            var order = new int[n];
            for (int f = 0; f < x[0].Length; f++)
            {
                rows.CopyTo(order, 0);
                int feature = f;
                Array.Sort(order, (a, b) => x[a][feature].CompareTo(x[b][feature]));
                double leftSum = 0, leftSq = 0;
                for (int k = 0; k < n - 1; k++)
                {
                    double v = y[order[k]];
                    leftSum += v;
                    leftSq += v * v;
                    double here = x[order[k]][f], next = x[order[k + 1]][f];
                    if (here == next) continue;
                    int nl = k + 1, nr = n - nl;
                    double rightSum = sum - leftSum, rightSq = sumSq - leftSq;
                    double error = leftSq - leftSum * leftSum / nl + rightSq - rightSum * rightSum / nr;
                    if (error < best)
                    {
                        best = error;
                        bestFeature = f;
                        bestCut = (here + next) / 2;
                    }
                }
            }
            return bestFeature >= 0;
        }
    }
}
