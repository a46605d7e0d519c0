using System.Globalization;
using System.Text.Json.Serialization;

namespace Tracker.Abstractions;

/// <summary>
/// Makes a parameter active only while another parameter has one of the given values
/// (for example <c>momentum</c> only when <c>optimizer</c> is <c>sgd</c>).
/// </summary>
/// <param name="Parameter">The name of the parent parameter; it must come earlier in the space.</param>
/// <param name="Values">The parent values under which the parameter is active.</param>
public sealed record ParameterCondition(string Parameter, IReadOnlyList<ParameterValue> Values);

/// <summary>
/// One named dimension of a <see cref="SearchSpace"/>. Records are immutable; JSON uses a <c>type</c>
/// discriminator (<c>float</c>, <c>int</c>, <c>choice</c>).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(FloatParameter), "float")]
[JsonDerivedType(typeof(IntParameter), "int")]
[JsonDerivedType(typeof(ChoiceParameter), "choice")]
public abstract record ParameterSpec
{
    /// <summary>The parameter's name, unique in its space. Letters, digits, '_', '.' and '-'.</summary>
    public required string Name { get; init; }

    /// <summary>The value used when the parameter is not searched. Defaults to <c>null</c> (no default).</summary>
    public ParameterValue? Default { get; init; }

    /// <summary>When set, the parameter is active only under this condition. Defaults to <c>null</c> (always active).</summary>
    public ParameterCondition? Condition { get; init; }

    /// <summary>A short human description for forms. Defaults to <c>null</c>.</summary>
    public string? Description { get; init; }

    /// <summary>Lists what is wrong with this definition itself; empty when it is valid.</summary>
    public abstract IEnumerable<string> Validate();

    /// <summary>Returns <c>null</c> when <paramref name="value"/> lies in this parameter's domain, else the reason.</summary>
    public abstract string? Check(ParameterValue value);

    /// <summary>Draws a value uniformly from the domain (log-uniformly for log-scaled numbers).</summary>
    public abstract ParameterValue Sample(Random random);

    /// <summary>
    /// Maps <paramref name="unit"/> in [0, 1] onto the domain (log-spaced where log); the inverse of
    /// <see cref="ToUnit"/>. Strategies that work in the unit cube (grid, Bayesian) use the pair.
    /// </summary>
    public abstract ParameterValue FromUnit(double unit);

    /// <summary>Maps a value of the domain into [0, 1]; the inverse of <see cref="FromUnit"/>.</summary>
    public abstract double ToUnit(ParameterValue value);

    private protected static string Num(double d) => d.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>A real-valued parameter in [<see cref="Low"/>, <see cref="High"/>].</summary>
public sealed record FloatParameter : ParameterSpec
{
    /// <summary>The inclusive lower bound.</summary>
    public required double Low { get; init; }

    /// <summary>The inclusive upper bound; must exceed <see cref="Low"/>.</summary>
    public required double High { get; init; }

    /// <summary>Sample and scale in log space (both bounds must then be positive). Defaults to <c>false</c>.</summary>
    public bool Log { get; init; }

    /// <inheritdoc />
    public override IEnumerable<string> Validate()
    {
        if (!double.IsFinite(Low) || !double.IsFinite(High)) yield return $"{Name}: bounds must be finite numbers.";
        else if (!(Low < High)) yield return $"{Name}: low ({Num(Low)}) must be less than high ({Num(High)}).";
        if (Log && Low <= 0) yield return $"{Name}: a log-scaled range needs low > 0 (got {Num(Low)}).";
        if (Default is { } d && Check(d) is { } why) yield return $"{Name}: default {why}";
    }

    /// <inheritdoc />
    public override string? Check(ParameterValue value) =>
        value.Number is not { } v ? $"expects a number, got '{value.Text}'."
        : double.IsNaN(v) || v < Low || v > High ? $"{Num(v)} is outside [{Num(Low)}, {Num(High)}]."
        : null;

    /// <inheritdoc />
    public override ParameterValue Sample(Random random) => FromUnit(random.NextDouble());

    /// <inheritdoc />
    public override ParameterValue FromUnit(double unit)
    {
        unit = Math.Clamp(unit, 0, 1);
        if (unit == 0) return Low; // exactly: exp(log(Low)) may differ from Low in the last digit
        if (unit == 1) return High;
        var v = Log ? Math.Exp(Math.Log(Low) + unit * (Math.Log(High) - Math.Log(Low))) : Low + unit * (High - Low);
        return Math.Clamp(v, Low, High);
    }

    /// <inheritdoc />
    public override double ToUnit(ParameterValue value)
    {
        var v = value.AsDouble();
        return Math.Clamp(Log ? (Math.Log(v) - Math.Log(Low)) / (Math.Log(High) - Math.Log(Low)) : (v - Low) / (High - Low), 0, 1);
    }
}

/// <summary>An integer parameter in [<see cref="Low"/>, <see cref="High"/>] on a grid of <see cref="Step"/>.</summary>
public sealed record IntParameter : ParameterSpec
{
    /// <summary>The inclusive lower bound.</summary>
    public required int Low { get; init; }

    /// <summary>The inclusive upper bound; must be at least <see cref="Low"/> + <see cref="Step"/>.</summary>
    public required int High { get; init; }

    /// <summary>The spacing of allowed values, counted from <see cref="Low"/>. Defaults to 1.</summary>
    public int Step { get; init; } = 1;

    /// <summary>Sample and scale in log space (needs <see cref="Low"/> &gt; 0 and a step of 1). Defaults to <c>false</c>.</summary>
    public bool Log { get; init; }

    /// <inheritdoc />
    public override IEnumerable<string> Validate()
    {
        if (Step <= 0) yield return $"{Name}: step must be positive (got {Step}).";
        else if (!(Low < High)) yield return $"{Name}: low ({Low}) must be less than high ({High}).";
        else if (((long)High - Low) % Step != 0) yield return $"{Name}: high - low ({(long)High - Low}) must be a multiple of step ({Step}).";
        if (Log && Low <= 0) yield return $"{Name}: a log-scaled range needs low > 0 (got {Low}).";
        if (Log && Step != 1) yield return $"{Name}: a log-scaled integer needs step 1.";
        if (Default is { } d && Check(d) is { } why) yield return $"{Name}: default {why}";
    }

    /// <inheritdoc />
    public override string? Check(ParameterValue value)
    {
        if (value.Number is not { } v) return $"expects an integer, got '{value.Text}'.";
        if (v != Math.Floor(v)) return $"expects an integer, got {Num(v)}.";
        if (v < Low || v > High) return $"{Num(v)} is outside [{Low}, {High}].";
        return ((long)v - Low) % Step == 0 ? null : $"{Num(v)} is not on the grid {Low} + k*{Step}.";
    }

    /// <inheritdoc />
    public override ParameterValue Sample(Random random) => FromUnit(random.NextDouble());

    /// <inheritdoc />
    public override ParameterValue FromUnit(double unit)
    {
        unit = Math.Clamp(unit, 0, 1);
        if (Log)
        {
            // Widen by half a unit on each side so that the end values are as likely as the others.
            double lo = Math.Log(Low - 0.5 + 1e-9), hi = Math.Log(High + 0.5 - 1e-9);
            return Math.Clamp(Math.Round(Math.Exp(lo + unit * (hi - lo))), Low, High);
        }
        // long: High - Low overflows int for ranges wider than int.MaxValue.
        long count = ((long)High - Low) / Step + 1;
        long index = Math.Min(count - 1, (long)Math.Floor(unit * count));
        return Low + index * Step;
    }

    /// <inheritdoc />
    public override double ToUnit(ParameterValue value)
    {
        var v = value.AsDouble();
        if (Log)
        {
            double lo = Math.Log(Low - 0.5 + 1e-9), hi = Math.Log(High + 0.5 - 1e-9);
            return Math.Clamp((Math.Log(v) - lo) / (hi - lo), 0, 1);
        }
        long count = ((long)High - Low) / Step + 1;
        return Math.Clamp(((v - Low) / Step + 0.5) / count, 0, 1);
    }
}

/// <summary>A categorical parameter: one of <see cref="Values"/> (numbers or strings, unordered).</summary>
public sealed record ChoiceParameter : ParameterSpec
{
    /// <summary>The allowed values; at least one, no duplicates.</summary>
    public required IReadOnlyList<ParameterValue> Values { get; init; }

    /// <inheritdoc />
    public override IEnumerable<string> Validate()
    {
        if (Values is null || Values.Count == 0) { yield return $"{Name}: a choice needs at least one value."; yield break; }
        if (Values.Distinct().Count() != Values.Count) yield return $"{Name}: choice values must be distinct.";
        if (Default is { } d && Check(d) is { } why) yield return $"{Name}: default {why}";
    }

    /// <inheritdoc />
    public override string? Check(ParameterValue value) =>
        Values is null ? "the choice has no values."
        : Values.Contains(value) ? null : $"'{value}' is not one of [{string.Join(", ", Values)}].";

    /// <inheritdoc />
    public override ParameterValue Sample(Random random) => Values[random.Next(Values.Count)];

    /// <inheritdoc />
    public override ParameterValue FromUnit(double unit) => Values[Math.Min(Values.Count - 1, (int)Math.Floor(Math.Clamp(unit, 0, 1) * Values.Count))];

    /// <inheritdoc />
    public override double ToUnit(ParameterValue value)
    {
        int i = Values.ToList().IndexOf(value);
        return i < 0 ? 0 : (i + 0.5) / Values.Count;
    }
}

/// <summary>
/// An ordered set of named parameters to search over. Immutable. Guarantees: <see cref="Validate"/> lists every
/// problem at once; <see cref="Sample"/> returns a value for each active parameter and none for inactive ones.
/// </summary>
public sealed record SearchSpace
{
    /// <summary>Creates a space from parameters in order (a condition may only refer to an earlier parameter).</summary>
    public SearchSpace(IReadOnlyList<ParameterSpec> parameters) => Parameters = parameters ?? []; // JSON without "parameters" gives null

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>The empty space.</summary>
    public static SearchSpace Empty { get; } = new([]);

    /// <summary>Finds a parameter by name, or <c>null</c>.</summary>
    public ParameterSpec? this[string name] => Parameters.FirstOrDefault(p => p.Name == name);

    /// <summary>Lists every problem with the space (names, bounds, conditions); empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        // Case-insensitive: the store (LiteDB) treats field names that differ only by case as the same field.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in Parameters)
        {
            if (p is null) { errors.Add("a parameter is null."); continue; }
            if (string.IsNullOrWhiteSpace(p.Name) || !p.Name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or '-'))
                errors.Add($"'{p.Name}': a parameter name must be non-empty and use letters, digits, '_', '.' or '-'.");
            else if (!seen.Add(p.Name))
                errors.Add($"{p.Name}: the name is used twice (names are compared ignoring case).");
            errors.AddRange(p.Validate());
            if (p.Condition is { } c)
            {
                var parent = Parameters.TakeWhile(x => !ReferenceEquals(x, p)).FirstOrDefault(x => x is not null && x.Name == c.Parameter);
                if (parent is null)
                    errors.Add($"{p.Name}: its condition refers to '{c.Parameter}', which is not an earlier parameter.");
                else if (c.Values is null || c.Values.Count == 0)
                    errors.Add($"{p.Name}: its condition lists no values.");
                else
                    errors.AddRange(c.Values.Where(v => parent.Check(v) is not null)
                        .Select(v => $"{p.Name}: its condition value '{v}' is not a value of '{parent.Name}'."));
            }
        }
        return errors;
    }

    /// <summary>Whether <paramref name="parameter"/> is active given the values chosen so far.</summary>
    public static bool IsActive(ParameterSpec parameter, IReadOnlyDictionary<string, ParameterValue> values) =>
        parameter.Condition is not { } c || (values.TryGetValue(c.Parameter, out var v) && c.Values.Contains(v));

    /// <summary>Draws one configuration: a value for every active parameter, in order.</summary>
    public Dictionary<string, ParameterValue> Sample(Random random)
    {
        var values = new Dictionary<string, ParameterValue>();
        foreach (var p in Parameters)
            if (IsActive(p, values)) values[p.Name] = p.Sample(random);
        return values;
    }

    /// <summary>
    /// Returns <c>null</c> when <paramref name="values"/> is a valid point of this space (every active parameter
    /// present and in its domain, no inactive or unknown ones), else the first reason it is not.
    /// </summary>
    public string? Check(IReadOnlyDictionary<string, ParameterValue> values)
    {
        foreach (var key in values.Keys)
            if (this[key] is null) return $"'{key}' is not a parameter of the search space.";
        foreach (var p in Parameters)
        {
            bool active = IsActive(p, values), present = values.TryGetValue(p.Name, out var v);
            if (active && !present) return $"{p.Name}: missing.";
            if (!active && present) return $"{p.Name}: given although its condition on '{p.Condition!.Parameter}' does not hold.";
            if (present && p.Check(v) is { } why) return $"{p.Name}: {why}";
        }
        return null;
    }
}
