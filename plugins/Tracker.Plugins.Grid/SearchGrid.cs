using Tracker.Abstractions;

namespace Tracker.Plugins.Grid;

/// <summary>
/// The grid of a search space: the Cartesian product of one list of values per parameter, where a conditional
/// parameter only varies under the parent values that activate it (so no point is repeated and inactive parameters
/// are absent, as <see cref="SearchSpace.Check"/> requires). Points are numbered in nested-loop order: the first
/// parameter varies slowest, the last fastest. The grid is never materialised: <see cref="Count"/> and the indexer
/// count subtrees, memoised on the parent values that later conditions look at, so a grid of billions of points
/// costs no more memory than a small one.
/// </summary>
public sealed class SearchGrid
{
    private readonly IReadOnlyList<ParameterSpec> parameters;
    private readonly IReadOnlyList<ParameterValue>[] values;
    // For position t: the names of earlier parameters that the conditions of parameters t.. refer to; the size of
    // the subtree below t depends on the values chosen so far only through these.
    private readonly string[][] relevant;
    private readonly Dictionary<string, long> memo = new(StringComparer.Ordinal);

    /// <summary>Builds the grid of <paramref name="space"/>.</summary>
    /// <param name="space">A valid search space.</param>
    /// <param name="pointsPerDimension">How many values a float gets, and the most an integer gets; at least 1.</param>
    public SearchGrid(SearchSpace space, int pointsPerDimension)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (pointsPerDimension < 1) throw new ArgumentOutOfRangeException(nameof(pointsPerDimension), pointsPerDimension, "must be at least 1.");
        parameters = space.Parameters;
        values = parameters.Select(p => ValuesOf(p, pointsPerDimension)).ToArray();
        relevant = new string[parameters.Count + 1][];
        for (int t = 0; t <= parameters.Count; t++)
        {
            var earlier = parameters.Take(t).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            relevant[t] = parameters.Skip(t).Select(p => p.Condition?.Parameter).OfType<string>()
                .Where(earlier.Contains).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        }
        Count = CountFrom(0, new Dictionary<string, ParameterValue>());
    }

    /// <summary>
    /// The number of points. Saturates at <see cref="long.MaxValue"/> for grids larger than that (only the first
    /// <see cref="long.MaxValue"/> points are then reachable).
    /// </summary>
    public long Count { get; }

    /// <summary>The values the grid takes for the parameter at <paramref name="position"/> (when active).</summary>
    public IReadOnlyList<ParameterValue> ValuesAt(int position) => values[position];

    /// <summary>The point with number <paramref name="index"/> in nested-loop order (0 ≤ index &lt; <see cref="Count"/>).</summary>
    public IReadOnlyDictionary<string, ParameterValue> this[long index]
    {
        get
        {
            if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"the grid has {Count} points.");
            var point = new Dictionary<string, ParameterValue>();
            for (int t = 0; t < parameters.Count; t++)
            {
                var p = parameters[t];
                if (!SearchSpace.IsActive(p, point)) continue;
                var list = values[t];
                for (int i = 0; i < list.Count; i++)
                {
                    point[p.Name] = list[i];
                    long below = CountFrom(t + 1, point);
                    // The last value takes whatever is left: saturated counts may under-state the true subtree.
                    if (index < below || i == list.Count - 1) break;
                    index -= below;
                }
            }
            return point;
        }
    }

    /// <summary>Enumerates every point in order (do not use on huge grids).</summary>
    public IEnumerable<IReadOnlyDictionary<string, ParameterValue>> Points()
    {
        for (long i = 0; i < Count; i++) yield return this[i];
    }

    /// <summary>
    /// The values of one parameter on the grid, in increasing order (choices in their declared order):
    /// <list type="bullet">
    /// <item>float: <paramref name="pointsPerDimension"/> values evenly spaced in the unit cube and mapped with
    /// <see cref="ParameterSpec.FromUnit"/>, so both bounds are included and a log-scaled range is spaced
    /// geometrically; a single point is the middle of the range (the geometric middle for log);</item>
    /// <item>integer: every value of the step grid when there are at most <paramref name="pointsPerDimension"/>,
    /// otherwise that many values evenly spaced over the grid (geometrically for log), both bounds included,
    /// duplicates removed;</item>
    /// <item>choice: all its values.</item>
    /// </list>
    /// </summary>
    public static IReadOnlyList<ParameterValue> ValuesOf(ParameterSpec parameter, int pointsPerDimension)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (pointsPerDimension < 1) throw new ArgumentOutOfRangeException(nameof(pointsPerDimension), pointsPerDimension, "must be at least 1.");
        return parameter switch
        {
            ChoiceParameter c => c.Values.ToList(),
            FloatParameter f => Units(pointsPerDimension).Select(u => f.FromUnit(u)).Distinct().ToList(),
            IntParameter i => IntValues(i, pointsPerDimension),
            _ => throw new NotSupportedException($"{parameter.Name}: the grid does not know parameters of type {parameter.GetType().Name}."),
        };
    }

    private static IEnumerable<double> Units(int points) =>
        points == 1 ? [0.5] : Enumerable.Range(0, points).Select(k => k == points - 1 ? 1.0 : (double)k / (points - 1));

    private static List<ParameterValue> IntValues(IntParameter p, int points)
    {
        long count = ((long)p.High - p.Low) / p.Step + 1;
        if (count <= points)
            return Enumerable.Range(0, (int)count).Select(k => ParameterValue.Of(p.Low + (double)k * p.Step)).ToList();
        IEnumerable<double> chosen = p.Log
            ? Units(points).Select(u => Math.Clamp(Math.Round(Math.Exp(Math.Log(p.Low) + u * (Math.Log(p.High) - Math.Log(p.Low))), MidpointRounding.AwayFromZero), p.Low, p.High))
            : Units(points).Select(u => p.Low + Math.Round(u * (count - 1), MidpointRounding.AwayFromZero) * p.Step);
        return chosen.Distinct().Select(ParameterValue.Of).ToList();
    }

    private long CountFrom(int t, Dictionary<string, ParameterValue> point)
    {
        if (t == parameters.Count) return 1;
        string key = Key(t, point);
        if (memo.TryGetValue(key, out long known)) return known;
        var p = parameters[t];
        long total;
        if (!SearchSpace.IsActive(p, point)) total = CountFrom(t + 1, point);
        else
        {
            total = 0;
            foreach (var v in values[t])
            {
                point[p.Name] = v;
                total = SaturatingAdd(total, CountFrom(t + 1, point));
            }
            point.Remove(p.Name);
        }
        memo[key] = total;
        return total;
    }

    private string Key(int t, Dictionary<string, ParameterValue> point) =>
        relevant[t].Length == 0 ? t.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : string.Join('\u001f', relevant[t].Select(n => !point.TryGetValue(n, out var v) ? "-" : v.IsNumber ? "n" + v.AsString() : "s" + v.Text).Prepend(t.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
