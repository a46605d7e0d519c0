namespace Tracker.Client;

/// <summary>
/// The contract's rules checked before anything is sent, so that a mistake throws at the line that made it instead
/// of surfacing later from the background sender.
/// </summary>
internal static class Validate
{
    /// <summary>The longest metric key the server takes.</summary>
    public const int MaxMetricKeyLength = 250;

    /// <summary>The longest artifact path the server takes.</summary>
    public const int MaxArtifactPathLength = 255;

    public static void MetricKey(string key, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length == 0) throw new ArgumentException("A metric key must not be empty.", parameterName);
        if (key.Length > MaxMetricKeyLength)
            throw new ArgumentException($"The metric key '{key[..20]}…' has {key.Length} characters; at most {MaxMetricKeyLength} are allowed.", parameterName);
    }

    public static void MetricValue(string key, double value, string parameterName)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"The value of metric '{key}' is {value}; metric values must be finite.", parameterName);
    }

    /// <summary>A parameter value must be a JSON scalar: a finite number, a string or a boolean.</summary>
    public static Dictionary<string, object> Parameters(IReadOnlyDictionary<string, object>? parameters, string parameterName)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        if (parameters is null) return result;
        foreach (var (name, value) in parameters)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("A parameter name must not be empty.", parameterName);
            result[name] = value switch
            {
                string or bool => value,
                double d when double.IsFinite(d) => d,
                float f when float.IsFinite(f) => f,
                int or long or short or byte or sbyte or ushort or uint or ulong or decimal => value,
                double or float => throw new ArgumentException($"Parameter '{name}' is {value}; numbers must be finite.", parameterName),
                null => throw new ArgumentException($"Parameter '{name}' is null; use a number, a string or a boolean.", parameterName),
                _ => throw new ArgumentException($"Parameter '{name}' is a {value.GetType().Name}; use a number, a string or a boolean.", parameterName),
            };
        }
        return result;
    }

    public static Dictionary<string, string> Tags(IReadOnlyDictionary<string, string>? tags, string parameterName)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tags is null) return result;
        foreach (var (key, value) in tags)
        {
            if (string.IsNullOrEmpty(key)) throw new ArgumentException("A tag key must not be empty.", parameterName);
            result[key] = value ?? throw new ArgumentException($"Tag '{key}' is null.", parameterName);
        }
        return result;
    }

    /// <summary>Checks an artifact path (relative, no <c>..</c>, at most 255 characters) and escapes it for a URL, keeping its slashes.</summary>
    public static string ArtifactPath(string path, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(path, parameterName);
        string normal = path.Replace('\\', '/');
        if (normal.Length == 0) throw new ArgumentException("An artifact path must not be empty.", parameterName);
        if (normal.Length > MaxArtifactPathLength)
            throw new ArgumentException($"The artifact path has {normal.Length} characters; at most {MaxArtifactPathLength} are allowed.", parameterName);
        if (normal.StartsWith('/') || Path.IsPathRooted(path) || normal is [_, ':', ..])
            throw new ArgumentException($"The artifact path '{path}' must be relative to the run.", parameterName);
        var segments = normal.Split('/');
        if (segments.Any(s => s is "" or "." or ".."))
            throw new ArgumentException($"The artifact path '{path}' must not contain empty, '.' or '..' segments.", parameterName);
        return string.Join('/', segments.Select(Uri.EscapeDataString));
    }
}
