using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tracker.Core.Storage;

namespace Tracker.Server.Api.Mlflow;

/// <summary>What a search clause or sort key looks at.</summary>
public enum SearchEntity
{
    /// <summary>A metric's latest value (<c>metrics.&lt;key&gt;</c>).</summary>
    Metric,

    /// <summary>A param's text (<c>params.&lt;key&gt;</c>).</summary>
    Param,

    /// <summary>A tag's text (<c>tags.&lt;key&gt;</c>).</summary>
    Tag,

    /// <summary>A field of the run or experiment itself (<c>attributes.&lt;key&gt;</c>, or a bare key).</summary>
    Attribute,
}

/// <summary>
/// The fields a search may name: which attributes are numbers and which are strings, which attributes can sort, and
/// which entities the filter and the sort may use. <see cref="Runs"/> and <see cref="Experiments"/> are MLflow's.
/// </summary>
public sealed class SearchFields
{
    /// <summary>Attributes compared as numbers (e.g. <c>start_time</c>, in ms since the epoch).</summary>
    public required IReadOnlySet<string> NumericAttributes { get; init; }

    /// <summary>Attributes compared as strings (e.g. <c>status</c>).</summary>
    public required IReadOnlySet<string> StringAttributes { get; init; }

    /// <summary>Attributes that <c>order_by</c> may name.</summary>
    public required IReadOnlySet<string> OrderableAttributes { get; init; }

    /// <summary>Entities a filter may name.</summary>
    public required IReadOnlySet<SearchEntity> FilterEntities { get; init; }

    /// <summary>Entities <c>order_by</c> may name.</summary>
    public required IReadOnlySet<SearchEntity> OrderEntities { get; init; }

    /// <summary>Other spellings of attribute keys (MLflow's <c>created</c> for <c>start_time</c>, ...). Defaults to none.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>();

    /// <summary>The fields of <c>runs/search</c>.</summary>
    public static SearchFields Runs { get; } = new()
    {
        NumericAttributes = new HashSet<string> { "start_time", "end_time" },
        StringAttributes = new HashSet<string> { "status", "run_name", "run_id", "user_id", "artifact_uri" },
        OrderableAttributes = new HashSet<string>
            { "start_time", "end_time", "status", "run_name", "run_id", "user_id", "artifact_uri", "experiment_id", "lifecycle_stage" },
        FilterEntities = new HashSet<SearchEntity> { SearchEntity.Metric, SearchEntity.Param, SearchEntity.Tag, SearchEntity.Attribute },
        OrderEntities = new HashSet<SearchEntity> { SearchEntity.Metric, SearchEntity.Param, SearchEntity.Tag, SearchEntity.Attribute },
        Aliases = new Dictionary<string, string>
        {
            ["created"] = "start_time", ["Created"] = "start_time",
            ["run name"] = "run_name", ["Run name"] = "run_name", ["Run Name"] = "run_name",
        },
    };

    /// <summary>The fields of <c>experiments/search</c>.</summary>
    public static SearchFields Experiments { get; } = new()
    {
        NumericAttributes = new HashSet<string> { "creation_time", "last_update_time" },
        StringAttributes = new HashSet<string> { "name" },
        OrderableAttributes = new HashSet<string> { "name", "experiment_id", "creation_time", "last_update_time" },
        FilterEntities = new HashSet<SearchEntity> { SearchEntity.Attribute, SearchEntity.Tag },
        OrderEntities = new HashSet<SearchEntity> { SearchEntity.Attribute },
    };
}

/// <summary>One comparison: <c>metrics.f1 &gt; 0.8</c>.</summary>
/// <param name="Entity">What it looks at.</param>
/// <param name="Key">The metric, param, tag or attribute (aliases already resolved).</param>
/// <param name="Operator">The comparison.</param>
/// <param name="Value">What it compares with.</param>
public sealed record SearchClause(SearchEntity Entity, string Key, SearchOperator Operator, SearchValue Value)
{
    // Patterns are compiled once per text and kind; a filter is evaluated against every candidate.
    private static readonly ConcurrentDictionary<(string Pattern, bool IgnoreCase), Regex> Patterns = new();

    /// <summary>
    /// Whether <paramref name="actual"/> (a number, a string, or <c>null</c> when the run has no such field) satisfies
    /// the clause. A missing field never matches, not even <c>!=</c> (MLflow's rule).
    /// </summary>
    public bool Matches(object? actual)
    {
        switch (actual)
        {
            case null:
                return false;
            case string text:
                return Operator switch
                {
                    SearchOperator.Equal => Value.Text is { } v && string.Equals(text, v, StringComparison.Ordinal),
                    SearchOperator.NotEqual => Value.Text is { } v && !string.Equals(text, v, StringComparison.Ordinal),
                    SearchOperator.Like => Value.Text is { } p && Pattern(p, false).IsMatch(text),
                    SearchOperator.ILike => Value.Text is { } p && Pattern(p, true).IsMatch(text),
                    SearchOperator.In => Value.Items?.Contains(text, StringComparer.Ordinal) == true,
                    SearchOperator.NotIn => Value.Items is { } items && !items.Contains(text, StringComparer.Ordinal),
                    _ => false,
                };
            default:
                return Value.Number is { } number && Operator.Holds(Convert.ToDouble(actual, CultureInfo.InvariantCulture), number);
        }
    }

    private static Regex Pattern(string like, bool ignoreCase)
    {
        if (Patterns.Count > 1000) Patterns.Clear();
        return Patterns.GetOrAdd((like, ignoreCase), key =>
        {
            var regex = new StringBuilder("^");
            foreach (char c in key.Pattern)
                regex.Append(c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) });
            regex.Append('$');
            var options = RegexOptions.Singleline | RegexOptions.CultureInvariant | (key.IgnoreCase ? RegexOptions.IgnoreCase : 0);
            return new Regex(regex.ToString(), options);
        });
    }
}

/// <summary>
/// A parsed MLflow search filter: comparisons joined by <c>AND</c> (MLflow has no <c>OR</c>), e.g.
/// <c>metrics.f1 &gt; 0.8 AND params.optimizer = 'adam' AND tags.`team name` LIKE 'vision%'</c>.
/// </summary>
/// <remarks>
/// Grammar: <c>clause (AND clause)*</c>; a clause is <c>identifier operator value</c>. An identifier is
/// <c>entity.key</c> (entity <c>metrics</c>/<c>metric</c>, <c>params</c>/<c>param</c>/<c>parameters</c>,
/// <c>tags</c>/<c>tag</c>, <c>attributes</c>/<c>attribute</c>/<c>attr</c>/<c>run</c>) or a bare attribute key; a key
/// with spaces or symbols is quoted with backticks or double quotes. Metrics and numeric attributes take
/// <c>= != &gt; &gt;= &lt; &lt;=</c> and a number; params, tags and string attributes take <c>= != LIKE ILIKE</c> and a
/// quoted string, string attributes also <c>IN</c>/<c>NOT IN</c> and a parenthesised list. Keywords ignore case.
/// </remarks>
/// <param name="Clauses">The comparisons, all of which must hold.</param>
public sealed record SearchFilter(IReadOnlyList<SearchClause> Clauses)
{
    /// <summary>The filter that matches everything.</summary>
    public static SearchFilter Empty { get; } = new([]);

    /// <summary>Whether every clause holds for the field values <paramref name="field"/> gives (null when absent).</summary>
    public bool Matches(Func<SearchEntity, string, object?> field) => Clauses.All(c => c.Matches(field(c.Entity, c.Key)));

    /// <summary>Equal when the clauses are equal, in order.</summary>
    public bool Equals(SearchFilter? other) => other is not null && Clauses.SequenceEqual(other.Clauses);

    /// <inheritdoc />
    public override int GetHashCode() => Clauses.Count;

    /// <summary>
    /// Parses <paramref name="text"/> (empty or blank: <see cref="Empty"/>); when it returns <c>false</c>,
    /// <paramref name="error"/> says what is wrong and where.
    /// </summary>
    public static bool TryParse(string? text, SearchFields fields, out SearchFilter filter, out string? error)
    {
        filter = Empty;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        var parser = new SearchParser(text, fields);
        var clauses = new List<SearchClause>();
        while (true)
        {
            if (parser.Clause() is not { } clause)
            {
                error = $"Invalid filter '{text}': {parser.Error}";
                return false;
            }
            clauses.Add(clause);
            if (parser.AtEnd) break;
            if (!parser.And())
            {
                error = $"Invalid filter '{text}': {parser.Error}";
                return false;
            }
        }
        filter = new SearchFilter(clauses);
        return true;
    }
}

/// <summary>One <c>order_by</c> key of a search: <c>metrics.f1 DESC</c>, <c>attributes.start_time</c> (ascending).</summary>
/// <param name="Entity">What it sorts by.</param>
/// <param name="Key">The metric, param, tag or attribute.</param>
/// <param name="Ascending">The direction; items without a value (or NaN) come last either way.</param>
public sealed record SearchOrder(SearchEntity Entity, string Key, bool Ascending)
{
    /// <summary>Parses <c>identifier [ASC|DESC]</c>; when it returns <c>false</c>, <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? text, SearchFields fields, out SearchOrder order, out string? error)
    {
        order = new SearchOrder(SearchEntity.Attribute, "", true);
        error = null;
        var parser = new SearchParser(text ?? "", fields);
        if (parser.OrderKey() is not { } parsed)
        {
            error = $"Invalid order_by clause '{text}': {parser.Error}";
            return false;
        }
        order = parsed;
        return true;
    }

    /// <summary>Compares two field values (numbers or strings) in this order; absent values and NaN sort last.</summary>
    public int Compare(object? a, object? b)
    {
        bool aMissing = a is null || a is double da && double.IsNaN(da);
        bool bMissing = b is null || b is double db && double.IsNaN(db);
        if (aMissing || bMissing) return aMissing == bMissing ? 0 : aMissing ? 1 : -1;
        int order = (a, b) switch
        {
            (string sa, string sb) => string.CompareOrdinal(sa, sb),
            (string, _) => 1,
            (_, string) => -1,
            _ => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
        };
        return Ascending ? order : -order;
    }
}

/// <summary>A hand-written scanner and parser of MLflow's filter and order-by syntax, with position-aware errors.</summary>
internal sealed class SearchParser(string text, SearchFields fields)
{
    private static readonly Regex NumberPattern = new(@"\G[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", RegexOptions.CultureInvariant);
    private int pos;

    public string Error { get; private set; } = "";

    public bool AtEnd
    {
        get
        {
            SkipSpace();
            return pos >= text.Length;
        }
    }

    /// <summary>Reads <c>AND</c> between clauses.</summary>
    public bool And()
    {
        SkipSpace();
        int at = pos;
        string word = Word();
        if (word.Equals("AND", StringComparison.OrdinalIgnoreCase)) return true;
        if (word.Equals("OR", StringComparison.OrdinalIgnoreCase))
            return Fail("OR is not supported; comparisons can only be joined with AND.", at);
        return Fail($"expected AND between comparisons, found '{Snippet(at)}'.", at);
    }

    /// <summary>Reads one comparison, or sets <see cref="Error"/> and returns null.</summary>
    public SearchClause? Clause()
    {
        SkipSpace();
        int start = pos;
        if (Identifier() is not { } identifier) return null;
        var (entityWord, key) = identifier;
        if (Resolve(entityWord, key, start, fields.FilterEntities) is not { } field) return null;
        var (entity, resolved) = field;
        string name = Describe(entityWord, key);
        SkipSpace();
        int opAt = pos;
        if (Operator() is not { } op)
            return Fail<SearchClause>($"expected a comparison (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN) after '{name}', found '{Snippet(opAt)}'.", opAt);
        SkipSpace();
        int valueAt = pos;
        if (Value() is not { } value) return null;

        bool numeric = entity == SearchEntity.Metric || entity == SearchEntity.Attribute && fields.NumericAttributes.Contains(resolved);
        bool list = op is SearchOperator.In or SearchOperator.NotIn;
        if (numeric)
        {
            if (op is SearchOperator.Like or SearchOperator.ILike || list)
                return Fail<SearchClause>($"'{name}' is a number: compare it with =, !=, >, >=, < or <=, not {OperatorText(op)}.", opAt);
            if (value.Number is null)
                return Fail<SearchClause>($"'{name}' is a number: expected a number after {OperatorText(op)}, found '{Snippet(valueAt)}'.", valueAt);
        }
        else
        {
            bool allowsList = entity == SearchEntity.Attribute;
            if (op is SearchOperator.Greater or SearchOperator.GreaterOrEqual or SearchOperator.Less or SearchOperator.LessOrEqual || list && !allowsList)
                return Fail<SearchClause>($"'{name}' is a string: compare it with =, !=, LIKE or ILIKE{(allowsList ? ", IN or NOT IN" : "")}, not {OperatorText(op)}.", opAt);
            if (list && value.Items is null)
                return Fail<SearchClause>($"{OperatorText(op)} expects a parenthesised list of quoted strings, e.g. ('a', 'b').", valueAt);
            if (!list && value.Text is null)
                return Fail<SearchClause>($"'{name}' is a string: expected a quoted string after {OperatorText(op)} (e.g. 'adam'), found '{Snippet(valueAt)}'.", valueAt);
        }
        return new SearchClause(entity, resolved, op, value);
    }

    /// <summary>Reads a whole <c>order_by</c> clause: an identifier and an optional direction.</summary>
    public SearchOrder? OrderKey()
    {
        SkipSpace();
        int start = pos;
        if (pos >= text.Length) return Fail<SearchOrder>("it is empty; write e.g. 'metrics.f1 DESC'.", start);
        if (Identifier() is not { } identifier) return null;
        if (Resolve(identifier.Entity, identifier.Key, start, fields.OrderEntities, order: true) is not { } field) return null;
        var (entity, resolved) = field;
        bool ascending = true;
        SkipSpace();
        if (pos < text.Length)
        {
            int at = pos;
            string word = Word();
            if (word.Equals("DESC", StringComparison.OrdinalIgnoreCase)) ascending = false;
            else if (!word.Equals("ASC", StringComparison.OrdinalIgnoreCase))
                return Fail<SearchOrder>($"expected ASC or DESC after the key, found '{Snippet(at)}'.", at);
        }
        if (!AtEnd) return Fail<SearchOrder>($"unexpected '{Snippet(pos)}' after the direction.", pos);
        return new SearchOrder(entity, resolved, ascending);
    }

    // entity.key, `entity`.key, entity.`key with spaces`, entity."key", or a bare attribute key.
    private (string? Entity, string Key)? Identifier()
    {
        int start = pos;
        if (pos >= text.Length) return Fail<(string?, string)?>("expected a key such as metrics.f1, params.lr or attributes.status, found the end.", pos);
        string? first;
        if (text[pos] is '`' or '"')
        {
            if (Quoted(text[pos]) is not { } quoted) return null;
            first = quoted;
        }
        else
        {
            first = Bare(stopAtDot: true);
            if (first.Length == 0)
                return Fail<(string?, string)?>($"expected a key such as metrics.f1, params.lr or attributes.status, found '{Snippet(start)}'.", start);
        }
        if (pos >= text.Length || text[pos] != '.') return (null, first);
        pos++;
        int keyAt = pos;
        string key;
        if (pos < text.Length && text[pos] is '`' or '"' or '\'')
        {
            if (Quoted(text[pos]) is not { } quoted) return null;
            key = quoted;
        }
        else key = Bare(stopAtDot: false);
        if (key.Length == 0) return Fail<(string?, string)?>($"expected a key after '{first}.', found '{Snippet(keyAt)}'.", keyAt);
        return (first, key);
    }

    private (SearchEntity Entity, string Key)? Resolve(string? entityWord, string key, int at, IReadOnlySet<SearchEntity> allowed, bool order = false)
    {
        SearchEntity entity;
        switch (entityWord?.ToLowerInvariant())
        {
            case null or "attribute" or "attributes" or "attr" or "run": entity = SearchEntity.Attribute; break;
            case "metric" or "metrics": entity = SearchEntity.Metric; break;
            case "param" or "params" or "parameter" or "parameters": entity = SearchEntity.Param; break;
            case "tag" or "tags": entity = SearchEntity.Tag; break;
            case "dataset" or "datasets":
                return Fail<(SearchEntity, string)?>("dataset filters are not supported by this server.", at);
            default:
                return Fail<(SearchEntity, string)?>(
                    $"'{entityWord}' is not an entity type; use {string.Join(", ", allowed.Select(EntityWord))}.", at);
        }
        if (!allowed.Contains(entity))
            return Fail<(SearchEntity, string)?>(
                $"{EntityWord(entity)} cannot be used here; use {string.Join(", ", allowed.Select(EntityWord))}.", at);
        if (entity != SearchEntity.Attribute) return (entity, key);
        string resolved = fields.Aliases.TryGetValue(key, out var alias) ? alias : key;
        var valid = order ? fields.OrderableAttributes : fields.NumericAttributes.Concat(fields.StringAttributes).ToHashSet();
        if (!valid.Contains(resolved))
            return Fail<(SearchEntity, string)?>(
                $"'{key}' is not an attribute that can be {(order ? "sorted by" : "searched")}; valid attributes are {string.Join(", ", valid.Order(StringComparer.Ordinal))}.", at);
        return (entity, resolved);
    }

    private SearchOperator? Operator()
    {
        if (pos >= text.Length) return null;
        foreach (var (symbol, op) in new[] { ("!=", SearchOperator.NotEqual), (">=", SearchOperator.GreaterOrEqual), ("<=", SearchOperator.LessOrEqual),
                     ("=", SearchOperator.Equal), (">", SearchOperator.Greater), ("<", SearchOperator.Less) })
        {
            if (string.CompareOrdinal(text, pos, symbol, 0, symbol.Length) != 0) continue;
            pos += symbol.Length;
            return op;
        }
        int at = pos;
        string word = Word().ToUpperInvariant();
        switch (word)
        {
            case "LIKE": return SearchOperator.Like;
            case "ILIKE": return SearchOperator.ILike;
            case "IN": return SearchOperator.In;
            case "NOT":
                SkipSpace();
                if (Word().Equals("IN", StringComparison.OrdinalIgnoreCase)) return SearchOperator.NotIn;
                break;
        }
        pos = at;
        return null;
    }

    private SearchValue? Value()
    {
        if (pos >= text.Length) return Fail<SearchValue>("expected a value, found the end.", pos);
        char c = text[pos];
        if (c is '\'' or '"') return Quoted(c) is { } s ? SearchValue.Of(s) : null;
        if (c == '(') return List();
        var match = NumberPattern.Match(text, pos);
        if (match.Success && match.Length > 0 && (pos + match.Length >= text.Length || !IsWordChar(text[pos + match.Length])))
        {
            pos += match.Length;
            return SearchValue.Of(double.Parse(match.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        return Fail<SearchValue>($"expected a number or a quoted string, found '{Snippet(pos)}' (strings must be quoted, e.g. 'adam').", pos);
    }

    private SearchValue? List()
    {
        int start = pos;
        pos++; // (
        var items = new List<string>();
        while (true)
        {
            SkipSpace();
            if (pos < text.Length && text[pos] == ')' && items.Count == 0) return Fail<SearchValue>("the list is empty.", start);
            if (pos >= text.Length || text[pos] is not ('\'' or '"'))
                return Fail<SearchValue>($"expected a quoted string in the list, found '{Snippet(pos)}'.", pos);
            if (Quoted(text[pos]) is not { } item) return null;
            items.Add(item);
            SkipSpace();
            if (pos < text.Length && text[pos] == ',') { pos++; continue; }
            if (pos < text.Length && text[pos] == ')') { pos++; return SearchValue.Of(items); }
            return Fail<SearchValue>($"expected ',' or ')' in the list, found '{Snippet(pos)}'.", pos);
        }
    }

    // A quoted string; the quote doubled stands for itself (SQL's escape).
    private string? Quoted(char quote)
    {
        int start = pos;
        pos++;
        var value = new StringBuilder();
        while (pos < text.Length)
        {
            char c = text[pos++];
            if (c != quote)
            {
                value.Append(c);
                continue;
            }
            if (pos < text.Length && text[pos] == quote)
            {
                value.Append(quote);
                pos++;
                continue;
            }
            return value.ToString();
        }
        return Fail<string>($"the {(quote == '`' ? "backtick" : "quote")} opened here is never closed.", start);
    }

    // A bare word: letters, digits and _; a key may also hold . - / : (MLflow's key characters other than space).
    private string Bare(bool stopAtDot)
    {
        int start = pos;
        while (pos < text.Length && (IsWordChar(text[pos]) || !stopAtDot && text[pos] is '.' or '-' or '/' or ':')) pos++;
        return text[start..pos];
    }

    private string Word()
    {
        int start = pos;
        while (pos < text.Length && IsWordChar(text[pos])) pos++;
        return text[start..pos];
    }

    private void SkipSpace()
    {
        while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private string Snippet(int at)
    {
        if (at >= text.Length) return "the end";
        string rest = text[at..];
        return rest.Length <= 20 ? rest : rest[..20] + "…";
    }

    private static string Describe(string? entity, string key) => entity is null ? key : $"{entity}.{key}";

    private static string EntityWord(SearchEntity entity) => entity switch
    {
        SearchEntity.Metric => "metrics",
        SearchEntity.Param => "params",
        SearchEntity.Tag => "tags",
        _ => "attributes",
    };

    private static string OperatorText(SearchOperator op) => op switch
    {
        SearchOperator.Equal => "=",
        SearchOperator.NotEqual => "!=",
        SearchOperator.Greater => ">",
        SearchOperator.GreaterOrEqual => ">=",
        SearchOperator.Less => "<",
        SearchOperator.LessOrEqual => "<=",
        SearchOperator.Like => "LIKE",
        SearchOperator.ILike => "ILIKE",
        SearchOperator.In => "IN",
        _ => "NOT IN",
    };

    private bool Fail(string message, int at)
    {
        Error = $"{message} (at position {at + 1})";
        return false;
    }

    private T? Fail<T>(string message, int at)
    {
        Fail(message, at);
        return default;
    }
}
