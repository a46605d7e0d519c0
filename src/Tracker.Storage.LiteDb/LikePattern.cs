namespace Tracker.Storage.LiteDb;

/// <summary>
/// SQL's LIKE (<c>%</c> any text, <c>_</c> one character, no escape character) without backtracking: the greedy
/// two-pointer wildcard match, which only ever returns to the last <c>%</c>, so it runs in O(text × pattern) at worst
/// and in linear time for the usual patterns, and no pattern can make it explode as a backtracking regex can.
/// </summary>
internal static class LikePattern
{
    /// <summary>Whether the whole of <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string text, string pattern, bool ignoreCase)
    {
        int t = 0, p = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '%' && (pattern[p] == '_' || Same(pattern[p], text[t], ignoreCase)))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '%')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                // Let the last % swallow one more character and try the rest of the pattern again from there.
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '%') p++;
        return p == pattern.Length;
    }

    private static bool Same(char a, char b, bool ignoreCase) =>
        a == b || ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b);
}
