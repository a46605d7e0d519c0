using System.Globalization;

namespace Tracker.Core;

/// <summary>
/// How Tracker writes numbers for people, in the dashboard, the command line and exports alike, so that a learning rate
/// or an F1 reads the same everywhere.
/// </summary>
public static class NumberText
{
    /// <summary>
    /// A number with four significant digits; below 0.001 or from 100,000 on in scientific notation as the charts' axes
    /// write it (<c>5.379e-5</c>, not .NET's <c>5.379E-05</c>); whole numbers below that as they are (<c>12345</c>).
    /// </summary>
    public static string Number(double n)
    {
        if (n == 0 || !double.IsFinite(n)) return n.ToString(CultureInfo.InvariantCulture);
        if (Math.Abs(n) < 1e-3 || Math.Abs(n) >= 1e5) return n.ToString("0.###e0", CultureInfo.InvariantCulture);
        int decimals = Math.Max(0, 3 - (int)Math.Floor(Math.Log10(Math.Abs(n))));
        return Math.Round(n, decimals, MidpointRounding.AwayFromZero).ToString("0.######", CultureInfo.InvariantCulture);
    }

    /// <summary>A metric with four decimals, or a dash when there is none or it is not finite.</summary>
    public static string Metric(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "–";
}
