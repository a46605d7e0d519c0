using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Core.Analysis;

/// <summary>What runs are grouped by: one of their parameters, one of their tags (key/value run tags), or their experiment.</summary>
/// <param name="Kind">Parameter, tag or experiment.</param>
/// <param name="Name">The parameter's name or the tag's key; empty for the experiment.</param>
public readonly record struct RunGrouping(RunGroupingKind Kind, string Name)
{
    /// <summary>The text form used in links: <c>param:lr</c>, <c>tag:team</c> or <c>experiment</c>.</summary>
    public override string ToString() => Kind switch
    {
        RunGroupingKind.Parameter => $"param:{Name}",
        RunGroupingKind.Tag => $"tag:{Name}",
        _ => "experiment",
    };

    /// <summary>Reads <see cref="ToString"/>'s form.</summary>
    public static bool TryParse(string? text, out RunGrouping grouping)
    {
        grouping = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (text == "experiment") grouping = new(RunGroupingKind.Experiment, "");
        else if (text.StartsWith("param:", StringComparison.Ordinal) && text.Length > 6) grouping = new(RunGroupingKind.Parameter, text[6..]);
        else if (text.StartsWith("tag:", StringComparison.Ordinal) && text.Length > 4) grouping = new(RunGroupingKind.Tag, text[4..]);
        else return false;
        return true;
    }
}

/// <summary>The kinds of <see cref="RunGrouping"/>.</summary>
public enum RunGroupingKind
{
    /// <summary>A searched or logged parameter.</summary>
    Parameter,

    /// <summary>A run tag's value (MLflow's tags, the native API's tags).</summary>
    Tag,

    /// <summary>The experiment.</summary>
    Experiment,
}

/// <summary>One group of runs and its metric: how many, and the mean, sample standard deviation and range of the metric.</summary>
/// <param name="Value">The group's value as text (<see cref="RunGroups.None"/> for runs without one).</param>
/// <param name="Runs">Runs in the group.</param>
/// <param name="Measured">Runs in the group with a finite value of the metric.</param>
/// <param name="Mean">The metric's mean over those, or <c>null</c> when none has it.</param>
/// <param name="StdDev">Its sample standard deviation (n − 1), or <c>null</c> for fewer than two values.</param>
/// <param name="Min">The least value, or <c>null</c>.</param>
/// <param name="Max">The greatest value, or <c>null</c>.</param>
public sealed record RunGroup(string Value, int Runs, int Measured, double? Mean, double? StdDev, double? Min, double? Max);

/// <summary>
/// Runs grouped by a parameter, a tag or their experiment, with a final metric summarised per group: how F1 is compared
/// across seeds and settings. Reads the runs as a stream, keeping one running sum per group (Welford's method), so any
/// number of runs costs memory in proportion to the groups only.
/// </summary>
public static class RunGroups
{
    /// <summary>The value of the group of runs that lack the parameter or tag.</summary>
    public const string None = "(none)";

    /// <summary>Groups <paramref name="rows"/> by <paramref name="by"/>, summarising <paramref name="metric"/> (a final metric); groups in value order, numbers by number.</summary>
    public static async Task<IReadOnlyList<RunGroup>> ComputeAsync(IAsyncEnumerable<TrialRow> rows, RunGrouping by, string metric, CancellationToken cancellationToken = default)
    {
        var groups = new Dictionary<string, Summary>(StringComparer.Ordinal);
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var (text, number) = ValueOf(row, by);
            if (!groups.TryGetValue(text, out var summary)) groups[text] = summary = new Summary(number);
            summary.Add(row.Trial.FinalMetrics.TryGetValue(metric, out double value) ? value : double.NaN);
        }
        return groups
            .OrderBy(g => g.Key == None ? 1 : 0)
            .ThenBy(g => g.Value.Number is null ? 1 : 0).ThenBy(g => g.Value.Number)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Value.ToGroup(g.Key))
            .ToList();
    }

    // The group of a row: its text, and its number when the value is one (to order groups by number).
    private static (string Text, double? Number) ValueOf(TrialRow row, RunGrouping by)
    {
        switch (by.Kind)
        {
            case RunGroupingKind.Parameter:
                if (!row.Trial.Parameters.TryGetValue(by.Name, out var value) && !row.Trial.ResolvedParameters.TryGetValue(by.Name, out value)) return (None, null);
                return value.Number is { } n ? (n.ToString("R", CultureInfo.InvariantCulture), n) : (value.Text ?? None, null);
            case RunGroupingKind.Tag:
                return row.Trial.RunTags.TryGetValue(by.Name, out var tag) ? (tag, null) : (None, null);
            default:
                return (row.ExperimentName, null);
        }
    }

    private sealed class Summary(double? number)
    {
        private int runs, count;
        private double mean, squares, min = double.PositiveInfinity, max = double.NegativeInfinity;

        public double? Number { get; } = number;

        public void Add(double value)
        {
            runs++;
            if (!double.IsFinite(value)) return;
            count++;
            double delta = value - mean;
            mean += delta / count;
            squares += delta * (value - mean);
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        public RunGroup ToGroup(string value) => count == 0
            ? new RunGroup(value, runs, 0, null, null, null, null)
            : new RunGroup(value, runs, count, mean, count > 1 ? Math.Sqrt(squares / (count - 1)) : null, min, max);
    }
}
