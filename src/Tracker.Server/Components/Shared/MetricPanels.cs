namespace Tracker.Server.Components.Shared;

/// <summary>
/// One chart per metric key a run has logged, grouped by the key's prefix, as W&amp;B lays out a run's panels: keys with a
/// path (<c>train/loss</c>) by their folder, other keys by the word before their first underscore (<c>val_loss</c> goes
/// to <c>val</c>) when another key shares it, the rest together. Groups are ordered by name, with the ungrouped keys
/// last; keys within a group by name.
/// </summary>
public static class MetricPanels
{
    /// <summary>The name of the group of keys that share no prefix.</summary>
    public const string Ungrouped = "Metrics";

    /// <summary>A group of panels: its title and its keys, one chart each.</summary>
    public sealed record Group(string Name, IReadOnlyList<string> Keys);

    /// <summary>The groups of <paramref name="keys"/> (duplicates ignored).</summary>
    public static IReadOnlyList<Group> Arrange(IEnumerable<string> keys)
    {
        var distinct = keys.Distinct(StringComparer.Ordinal).ToList();
        var wordCounts = distinct.Where(k => !k.Contains('/')).Select(Word).Where(w => w is not null)
            .GroupBy(w => w!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        string GroupOf(string key)
        {
            int slash = key.LastIndexOf('/');
            if (slash > 0) return key[..slash];
            return Word(key) is { } word && wordCounts[word] > 1 ? word : Ungrouped;
        }
        return distinct.GroupBy(GroupOf, StringComparer.Ordinal)
            .OrderBy(g => g.Key == Ungrouped ? 1 : 0).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Group(g.Key, g.Order(StringComparer.Ordinal).ToList()))
            .ToList();
    }

    // The word before a key's first underscore (val_loss: val), or null when there is none.
    private static string? Word(string key)
    {
        int underscore = key.IndexOf('_');
        return underscore > 0 ? key[..underscore] : null;
    }
}
