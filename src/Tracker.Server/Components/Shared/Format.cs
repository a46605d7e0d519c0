using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core;

namespace Tracker.Server.Components.Shared;

/// <summary>How the dashboard writes numbers: short enough to scan, the same on every page.</summary>
public static class Format
{
    /// <summary>A parameter value: numbers as <see cref="Number"/> writes them, text as it is.</summary>
    public static string Value(ParameterValue value) => value.Number is { } n ? Number(n) : value.Text ?? "";

    /// <summary>A number as <see cref="NumberText.Number"/> writes it everywhere (<c>5.379e-5</c>, <c>12345</c>).</summary>
    public static string Number(double n) => NumberText.Number(n);

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

    /// <summary>A metric value with four decimals, or a dash when there is none (<see cref="NumberText.Metric"/>).</summary>
    public static string Metric(double? value) => NumberText.Metric(value);
}
