namespace Tracker.Core.Storage;

/// <summary>A comparison of a <see cref="TrialCondition"/> (and of the MLflow search clauses translated into one).</summary>
public enum SearchOperator
{
    /// <summary><c>=</c></summary>
    Equal,

    /// <summary><c>!=</c></summary>
    NotEqual,

    /// <summary><c>&gt;</c></summary>
    Greater,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,

    /// <summary><c>&lt;</c></summary>
    Less,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,

    /// <summary><c>LIKE</c>: <c>%</c> matches any text, <c>_</c> one character; case-sensitive.</summary>
    Like,

    /// <summary><c>ILIKE</c>: as <see cref="Like"/>, ignoring case.</summary>
    ILike,

    /// <summary><c>IN ('a', 'b')</c></summary>
    In,

    /// <summary><c>NOT IN ('a', 'b')</c></summary>
    NotIn,
}

/// <summary>How the operators compare numbers, wherever a condition is evaluated in .NET rather than by a database.</summary>
public static class SearchOperators
{
    /// <summary>
    /// Whether <paramref name="actual"/> compares to <paramref name="operand"/> as <paramref name="op"/> says, with
    /// .NET's rules for NaN (<c>!=</c> holds, every other comparison fails); the string operators never hold for numbers.
    /// </summary>
    public static bool Holds(this SearchOperator op, double actual, double operand) => op switch
    {
        SearchOperator.Equal => actual == operand,
        SearchOperator.NotEqual => actual != operand,
        SearchOperator.Greater => actual > operand,
        SearchOperator.GreaterOrEqual => actual >= operand,
        SearchOperator.Less => actual < operand,
        SearchOperator.LessOrEqual => actual <= operand,
        _ => false,
    };
}

/// <summary>The right-hand side of a comparison: a number, a string, or a list of strings (for <c>IN</c>).</summary>
public sealed record SearchValue
{
    /// <summary>The number, or <c>null</c>.</summary>
    public double? Number { get; init; }

    /// <summary>The string, or <c>null</c>.</summary>
    public string? Text { get; init; }

    /// <summary>The strings of an <c>IN</c> list, or <c>null</c>.</summary>
    public IReadOnlyList<string>? Items { get; init; }

    /// <summary>A number.</summary>
    public static SearchValue Of(double number) => new() { Number = number };

    /// <summary>A string.</summary>
    public static SearchValue Of(string text) => new() { Text = text };

    /// <summary>A list of strings.</summary>
    public static SearchValue Of(IReadOnlyList<string> items) => new() { Items = items };

    /// <summary>Equal when the same kind holds the same value (lists item by item).</summary>
    public bool Equals(SearchValue? other) =>
        other is not null && Number.Equals(other.Number) && Text == other.Text
        && (Items is null ? other.Items is null : other.Items is not null && Items.SequenceEqual(other.Items));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Number, Text, Items?.Count);
}
