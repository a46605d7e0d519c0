using System.Globalization;
using Tracker.Abstractions;

namespace Tracker.Server.Components.Shared;

/// <summary>How the dashboard writes numbers: short enough to scan, the same on every page.</summary>
public static class Format
{
    /// <summary>A parameter value: numbers with four significant digits, text as it is.</summary>
    public static string Value(ParameterValue value) =>
        value.Number is { } n ? n.ToString("G4", CultureInfo.InvariantCulture) : value.Text ?? "";

    /// <summary>A metric value with four decimals, or a dash when there is none.</summary>
    public static string Metric(double? value) =>
        value is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "–";
}
