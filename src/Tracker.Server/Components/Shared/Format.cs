using System.Globalization;
using Tracker.Abstractions;

namespace Tracker.Server.Components.Shared;

/// <summary>How the dashboard writes numbers: short enough to scan, the same on every page.</summary>
public static class Format
{
    /// <summary>A parameter value: numbers as <see cref="Number"/> writes them, text as it is.</summary>
    public static string Value(ParameterValue value) => value.Number is { } n ? Number(n) : value.Text ?? "";

    /// <summary>
    /// A number with four significant digits; below 0.001 or from 100,000 on in scientific notation as the charts' axes
    /// write it (<c>5.379e-5</c>, not .NET's <c>5.379E-05</c>), so that a learning rate reads the same in a table and on an axis.
    /// </summary>
    public static string Number(double n)
    {
        if (n == 0 || !double.IsFinite(n)) return n.ToString(CultureInfo.InvariantCulture);
        if (Math.Abs(n) < 1e-3 || Math.Abs(n) >= 1e5) return n.ToString("0.###e0", CultureInfo.InvariantCulture);
        int decimals = Math.Max(0, 3 - (int)Math.Floor(Math.Log10(Math.Abs(n))));
        return Math.Round(n, decimals, MidpointRounding.AwayFromZero).ToString("0.######", CultureInfo.InvariantCulture);
    }

    /// <summary>A size in bytes, KiB, MiB or GiB, with up to three significant digits (<c>812 B</c>, <c>1.5 KiB</c>, <c>240 MiB</c>).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double size = bytes;
        int unit = 0;
        while (Math.Abs(size) >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }
        string number = unit == 0 || size >= 100 ? Math.Round(size).ToString("0", CultureInfo.InvariantCulture)
            : size >= 10 ? size.ToString("0.#", CultureInfo.InvariantCulture) : size.ToString("0.##", CultureInfo.InvariantCulture);
        return $"{number} {units[unit]}";
    }

    /// <summary>A metric value with four decimals, or a dash when there is none.</summary>
    public static string Metric(double? value) =>
        value is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "–";
}
