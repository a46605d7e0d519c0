using Tracker.Abstractions;

namespace Tracker.Plugins.Bayesian;

/// <summary>
/// A point of the search space while the optimiser works on it: per parameter, a unit value in [0, 1] (numbers) or a
/// category index (choices), kept even while the parameter is inactive so that re-activating it restores a value.
/// </summary>
internal sealed class Point(double[] values, bool[] active)
{
    public double[] Values { get; } = values;

    public bool[] Active { get; } = active;

    public Point Clone() => new((double[])Values.Clone(), (bool[])Active.Clone());
}

/// <summary>
/// Maps points of a (possibly conditional) search space to GP inputs: a float or int parameter is one feature, its
/// <see cref="ParameterSpec.ToUnit"/> value (log parameters are therefore in log space); a choice of k values is k
/// one-hot features. An inactive parameter is encoded as a fixed neutral value: 0.5 for a number, all zeros for a choice.
/// </summary>
internal sealed class SpaceEncoder
{
    private readonly ParameterSpec[] parameters;

    public SpaceEncoder(SearchSpace space)
    {
        parameters = [.. space.Parameters];
        Offsets = new int[parameters.Length];
        Categories = new int[parameters.Length];
        IsParent = new bool[parameters.Length];
        int offset = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            Offsets[i] = offset;
            Categories[i] = parameters[i] is ChoiceParameter c ? c.Values.Count : 0;
            offset += Math.Max(1, Categories[i]);
            IsParent[i] = parameters.Any(p => p.Condition?.Parameter == parameters[i].Name);
        }
        FeatureCount = offset;
    }

    public int Count => parameters.Length;

    public int FeatureCount { get; }

    /// <summary>The first feature of each parameter.</summary>
    public int[] Offsets { get; }

    /// <summary>The number of categories of each choice parameter; 0 for numbers.</summary>
    public int[] Categories { get; }

    /// <summary>Whether another parameter's condition refers to this one (the optimiser keeps such values discrete).</summary>
    public bool[] IsParent { get; }

    public Point FromValues(IReadOnlyDictionary<string, ParameterValue> values)
    {
        var point = new Point(new double[Count], new bool[Count]);
        for (int i = 0; i < Count; i++)
        {
            var p = parameters[i];
            bool present = values.TryGetValue(p.Name, out var v);
            point.Active[i] = present;
            point.Values[i] = p switch
            {
                ChoiceParameter c => present ? Math.Max(0, c.Values.ToList().IndexOf(v)) : 0,
                _ => present ? p.ToUnit(v) : 0.5,
            };
        }
        return point;
    }

    /// <summary>A uniformly random point (activity follows the drawn parent values).</summary>
    public Point Random(Random random)
    {
        var point = new Point(new double[Count], new bool[Count]);
        for (int i = 0; i < Count; i++)
            point.Values[i] = Categories[i] > 0 ? random.Next(Categories[i]) : random.NextDouble();
        Refresh(point);
        return point;
    }

    /// <summary>Recomputes which parameters are active and snaps integers to the centre of their value's cell.</summary>
    public void Refresh(Point point)
    {
        var decoded = new Dictionary<string, ParameterValue>();
        for (int i = 0; i < Count; i++)
        {
            var p = parameters[i];
            point.Active[i] = SearchSpace.IsActive(p, decoded);
            if (p is IntParameter) point.Values[i] = p.ToUnit(p.FromUnit(point.Values[i]));
            if (point.Active[i]) decoded[p.Name] = ValueOf(i, point.Values[i]);
        }
    }

    public void Encode(Point point, Span<double> features)
    {
        features.Clear();
        for (int i = 0; i < Count; i++)
        {
            if (Categories[i] > 0)
            {
                if (point.Active[i]) features[Offsets[i] + (int)point.Values[i]] = 1;
            }
            else features[Offsets[i]] = point.Active[i] ? point.Values[i] : 0.5;
        }
    }

    public Dictionary<string, ParameterValue> Decode(Point point)
    {
        var values = new Dictionary<string, ParameterValue>();
        for (int i = 0; i < Count; i++)
            if (point.Active[i]) values[parameters[i].Name] = ValueOf(i, point.Values[i]);
        return values;
    }

    private ParameterValue ValueOf(int i, double value) =>
        parameters[i] is ChoiceParameter c ? c.Values[(int)value] : parameters[i].FromUnit(value);

    /// <summary>A canonical text of a configuration, for recognising points already evaluated.</summary>
    public static string Key(IReadOnlyDictionary<string, ParameterValue> values) =>
        string.Join('\u001f', values.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={(kv.Value.IsNumber ? "n" : "s")}{kv.Value}"));
}
