using System.Globalization;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Storage;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Core.Tracking;

/// <summary>
/// The write path of logged runs: metrics, parameters and tags, from the native API and (after MLflow's own checks)
/// from MLflow's. Params are kept verbatim in <see cref="LoggedRunInfo.Params"/> and copied into
/// <see cref="Trial.Parameters"/>; every metric value is a metric point, the latest value per key (greatest step, then
/// time, then value) is in <see cref="Trial.FinalMetrics"/>, and the experiment's objective metric gives the trial's
/// objective and its per-step curve. Every write publishes on <see cref="MetricFeed"/>.
/// </summary>
/// <remarks>
/// Concurrency: a write is one atomic update of the run in the store, with its points in the same
/// transaction, so several server processes on one database neither lose updates nor half-write a batch.
/// </remarks>
public sealed class RunIngest(RunRegistry registry, IExperimentStore experiments, ITrialStore trials, MetricFeed feed)
{
    /// <summary>The most steps of a trial's objective curve (<see cref="Trial.Intermediate"/>) kept; every point stays in the metric store.</summary>
    public const int MaxIntermediateSteps = 10_000;

    /// <summary>
    /// Logs parameters of an active, unfinished run; logging a parameter again with the same value is fine, with
    /// another value it is a conflict (parameters never change).
    /// </summary>
    public async Task<TrackingResult<Trial>> LogParametersAsync(string runId, IReadOnlyDictionary<string, ParameterValue> parameters,
        CancellationToken cancellationToken = default)
    {
        var checkedParameters = LoggingRules.CheckParameters(parameters);
        if (!checkedParameters.Succeeded) return checkedParameters.Error!;
        return (await WriteAsync(runId, [], checkedParameters.Value!, [], refuseFinished: true, writeKey: null, cancellationToken)).Result;
    }

    /// <summary>
    /// Corrects params of an active run as a user asks (the dashboard's edit), finished or not: unlike logging, which
    /// keeps MLflow's rule that a logged param never changes, a value may change here, and a new key is added. Keys and
    /// values are checked as logged ones are (<see cref="LoggingRules"/>); each change is recorded in
    /// <see cref="LoggedRunInfo.ParamEdits"/> with <paramref name="editor"/> and the time. Values equal to the ones held
    /// change nothing and are not recorded.
    /// </summary>
    public async Task<TrackingResult<Trial>> EditParamsAsync(string runId, IReadOnlyDictionary<string, string> parameters, string editor,
        CancellationToken cancellationToken = default)
    {
        var checkedParameters = LoggingRules.CheckParameters(parameters.ToDictionary(p => p.Key, p => (ParameterValue)p.Value, StringComparer.Ordinal));
        if (!checkedParameters.Succeeded) return checkedParameters.Error!;
        var writes = checkedParameters.Value!.Select(p => ParamWrite.OfText(p.Key, p.Text)).ToList();
        var found = await registry.GetRunAsync(runId, cancellationToken);
        if (!found.Succeeded) return found;
        string objectiveMetric = await ObjectiveMetricAsync(found.Value!.ExperimentId, cancellationToken);
        var now = DateTimeOffset.UtcNow;
        TrackingError? refused = null;
        var updated = await trials.UpdateTrialAsync(runId, run =>
        {
            refused = run.Logged is null ? NoRun(runId) : run.LifecycleStage != LifecycleStage.Active ? RunRegistry.NotActive(runId) : null;
            if (refused is not null) return null;
            var changed = writes.Where(w => !run.Logged!.Params.TryGetValue(w.Key, out var old) || old != w.Text).ToList();
            if (changed.Count == 0) return null;
            var edits = changed.Select(w => new ParamEdit(w.Key, run.Logged!.Params.GetValueOrDefault(w.Key), w.Text, editor, now));
            var next = Apply(run, objectiveMetric, [], changed, [], []);
            return new TrialWrite(next with { Logged = next.Logged! with { ParamEdits = [.. next.Logged.ParamEdits, .. edits] } });
        }, cancellationToken);
        if (refused is not null) return refused;
        if (updated is null) return NoRun(runId);
        feed.Publish(new TrialChanged(updated));
        return updated;
    }

    /// <summary>Sets tags of an active run (a later value replaces an earlier one).</summary>
    public async Task<TrackingResult<Trial>> SetTagsAsync(string runId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        LoggingRules.CheckTags(tags) ?? (await WriteAsync(runId, [], [], [.. tags], refuseFinished: false, writeKey: null, cancellationToken)).Result;

    /// <summary>
    /// Logs metric points of an active run, any number at once, in one transaction: keys of 1 to
    /// <see cref="LoggingRules.MaxKeyLength"/> characters, finite values, 32-bit steps, times in ms since the Unix epoch.
    /// </summary>
    public async Task<TrackingResult<Trial>> LogMetricsAsync(string runId, IReadOnlyList<LoggedMetric> points, CancellationToken cancellationToken = default) =>
        LoggingRules.CheckPoints(points) ?? (await WriteAsync(runId, points, [], [], refuseFinished: false, writeKey: null, cancellationToken)).Result;

    /// <summary>
    /// Logs metric points as <see cref="LogMetricsAsync"/> does, once per <paramref name="writeKey"/> (a client's
    /// <c>Idempotency-Key</c>): the key is kept in the run's record, in the transaction that stores the points, so a
    /// retry whose first attempt was stored, before a restart or on another server process, stores nothing. The answer
    /// says whether these points were logged now (<c>true</c>) or by an earlier request with the key (<c>false</c>).
    /// The run remembers its <see cref="LoggingRules.RememberedWriteKeys"/> latest keys.
    /// </summary>
    public async Task<TrackingResult<bool>> LogMetricsOnceAsync(string runId, IReadOnlyList<LoggedMetric> points, string writeKey,
        CancellationToken cancellationToken = default)
    {
        if (LoggingRules.CheckPoints(points) is { } refused) return refused;
        var (result, replayed) = await WriteAsync(runId, points, [], [], refuseFinished: false, writeKey, cancellationToken);
        return result.Succeeded ? !replayed : result.Error!;
    }

    /// <summary>
    /// Logs metrics, params and tags that the caller has checked by its own API's rules (MLflow's endpoints do), all or
    /// nothing, in one store transaction; a param whose logged value differs is refused.
    /// </summary>
    public async Task<TrackingResult<Trial>> LogCheckedAsync(string runId, IReadOnlyList<LoggedMetric> metrics, IReadOnlyList<ParamWrite> parameters,
        IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken = default) =>
        (await WriteAsync(runId, metrics, parameters, tags, refuseFinished: false, writeKey: null, cancellationToken)).Result;

    /// <summary>
    /// The write of every logging call, after its checks: refuses a run that is not active (or, when
    /// <paramref name="refuseFinished"/> and there are parameters, one that has finished) and params whose value
    /// changes, then saves the run and its points in one store transaction, as one atomic update of the run, and
    /// publishes them. With a <paramref name="writeKey"/> that the run already holds, it writes nothing and answers
    /// <c>Replayed</c>; otherwise the key is stored with the write.
    /// </summary>
    private async Task<(TrackingResult<Trial> Result, bool Replayed)> WriteAsync(string runId, IReadOnlyList<LoggedMetric> metrics,
        IReadOnlyList<ParamWrite> parameters, IReadOnlyList<KeyValuePair<string, string>> tags, bool refuseFinished, string? writeKey,
        CancellationToken cancellationToken)
    {
        var found = await registry.GetRunAsync(runId, cancellationToken);
        if (!found.Succeeded) return (found, false);
        string objectiveMetric = await ObjectiveMetricAsync(found.Value!.ExperimentId, cancellationToken);
        TrackingError? refused = null;
        bool replayed = false;
        List<MetricPoint> points = [];
        // The key is checked and kept inside the store's atomic update, so two attempts racing (or arriving at two
        // server processes) still store the points once.
        var updated = await trials.UpdateTrialAsync(runId, run =>
        {
            refused = Refusal(run, runId, parameters, refuseFinished);
            if (refused is not null) return null;
            replayed = writeKey is not null && run.Logged!.RecentWriteKeys.Contains(writeKey, StringComparer.Ordinal);
            if (replayed) return null;
            points = new List<MetricPoint>(metrics.Count);
            var next = Apply(run, objectiveMetric, metrics, parameters, tags, points);
            if (writeKey is not null) next = next with { Logged = next.Logged! with { RecentWriteKeys = Remember(next.Logged.RecentWriteKeys, writeKey) } };
            return new TrialWrite(next, points);
        }, cancellationToken);
        if (refused is not null) return (refused, false);
        if (updated is null) return (NoRun(runId), false);
        if (replayed) return (updated, true);
        // Nobody follows the feed (no dashboard page open, no hub client connected): one event a step would be built for nothing.
        if (feed.HasSubscribers) PublishSteps(updated, points);
        feed.Publish(new TrialChanged(updated));
        return (updated, false);
    }

    // The metric a run's objective is read from: its experiment's.
    private async Task<string> ObjectiveMetricAsync(string experimentId, CancellationToken cancellationToken) =>
        (await experiments.GetExperimentAsync(experimentId, cancellationToken))?.Spec.Objective.Metric ?? new ObjectiveSpec().Metric;

    // The run's latest write keys with one more, oldest dropped first.
    private static List<string> Remember(List<string> keys, string key)
    {
        var kept = keys.Count < LoggingRules.RememberedWriteKeys ? new List<string>(keys) : keys.Skip(keys.Count - LoggingRules.RememberedWriteKeys + 1).ToList();
        kept.Add(key);
        return kept;
    }

    /// <summary>
    /// One <see cref="MetricsRecorded"/> per step of <paramref name="points"/>, in the order the steps first come, with
    /// each key's last value of the step and that point's logged time.
    /// </summary>
    private void PublishSteps(Trial run, List<MetricPoint> points)
    {
        var steps = new List<int>();
        var values = new Dictionary<int, Dictionary<string, double>>();
        var loggedAt = new Dictionary<int, DateTimeOffset>();
        foreach (var point in points)
        {
            loggedAt[point.Step] = point.Timestamp;
            if (!values.TryGetValue(point.Step, out var ofStep))
            {
                values[point.Step] = ofStep = new Dictionary<string, double>(StringComparer.Ordinal);
                steps.Add(point.Step);
            }
            ofStep[point.Key] = point.Value;
        }
        foreach (int step in steps) feed.Publish(new MetricsRecorded(run.ExperimentId, run.Id, step, values[step], loggedAt[step]));
    }

    private static TrackingError? Refusal(Trial run, string runId, IReadOnlyList<ParamWrite> parameters, bool refuseFinished)
    {
        if (run.Logged is null) return NoRun(runId);
        if (run.LifecycleStage != LifecycleStage.Active) return RunRegistry.NotActive(runId);
        if (refuseFinished && parameters.Count > 0 && run.IsFinished)
            return new TrackingError(TrackingErrorKind.Conflict,
                $"Run '{runId}' is {run.State.ToString().ToLowerInvariant()}; the parameters of a finished run cannot change.", "parameters");
        var changed = parameters.Where(p => run.Logged.Params.TryGetValue(p.Key, out var old) && old != p.Text).ToList();
        if (changed.Count > 0)
            return new TrackingError(TrackingErrorKind.Conflict, "Changing param values is not allowed. Params were already logged='["
                + string.Join(", ", changed.Select(p => $"{{'key': '{p.Key}', 'old_value': '{run.Logged.Params[p.Key]}', 'new_value': '{p.Text}'}}"))
                + $"]' for run ID='{runId}'.", $"parameters.{changed[0].Key}");
        return null;
    }

    /// <summary>
    /// <paramref name="run"/> with the writes applied (for a new run too, which <see cref="RunRegistry"/> starts with its
    /// first parameters and tags); the metrics' points are added to <paramref name="points"/>.
    /// </summary>
    internal static Trial Apply(Trial run, string objectiveMetric, IReadOnlyList<LoggedMetric> metrics,
        IReadOnlyList<ParamWrite> parameters, IReadOnlyList<KeyValuePair<string, string>> tags, List<MetricPoint> points)
    {
        var logged = run.Logged!;
        var texts = new Dictionary<string, string>(logged.Params, StringComparer.Ordinal);
        var values = new Dictionary<string, ParameterValue>(run.Parameters, StringComparer.Ordinal);
        foreach (var (key, text, value) in parameters)
        {
            texts[key] = text;
            values[key] = value;
        }
        var runTags = new Dictionary<string, string>(run.RunTags, StringComparer.Ordinal);
        foreach (var (key, value) in tags) runTags[key] = value;

        var final = new Dictionary<string, double>(run.FinalMetrics, StringComparer.Ordinal);
        var latest = new Dictionary<string, MetricStamp>(logged.Latest, StringComparer.Ordinal);
        // The objective's curve is rebuilt only when the objective is among the metrics.
        Dictionary<int, double>? curve = null;
        int steps = run.EpochsDone;
        for (int i = 0; i < metrics.Count; i++)
        {
            var metric = metrics[i];
            int step = (int)metric.Step;
            var stamp = new MetricStamp(step, DateTimeOffset.FromUnixTimeMilliseconds(metric.Timestamp));
            points.Add(new MetricPoint(run.Id, metric.Key, step, metric.Value, stamp.Timestamp));
            if (!latest.TryGetValue(metric.Key, out var held) || IsNewer(stamp, metric.Value, held, final.GetValueOrDefault(metric.Key, double.NaN)))
            {
                latest[metric.Key] = stamp;
                final[metric.Key] = metric.Value;
            }
            steps = Math.Max(steps, step);
            if (metric.Key == objectiveMetric)
            {
                curve ??= run.Intermediate.ToDictionary(v => v.Step, v => v.Value);
                if (curve.Count < MaxIntermediateSteps || curve.ContainsKey(step)) curve[step] = metric.Value;
            }
        }
        return run with
        {
            Parameters = values,
            ResolvedParameters = new Dictionary<string, ParameterValue>(values, StringComparer.Ordinal),
            RunTags = runTags,
            FinalMetrics = final,
            Objective = final.TryGetValue(objectiveMetric, out var objective) ? objective : null,
            Intermediate = curve is null ? [.. run.Intermediate] : curve.OrderBy(c => c.Key).Select(c => new IntermediateValue(c.Key, c.Value)).ToList(),
            EpochsDone = steps,
            Epochs = steps,
            Logged = logged with { Params = texts, Latest = latest },
        };
    }

    // MLflow's rule for the latest value of a metric, which both APIs keep: the greatest step, then the latest time,
    // then the greatest value.
    private static bool IsNewer(MetricStamp stamp, double value, MetricStamp held, double heldValue) =>
        stamp.Step != held.Step ? stamp.Step > held.Step
        : stamp.Timestamp != held.Timestamp ? stamp.Timestamp > held.Timestamp
        : value > heldValue;
}

/// <summary>A param to write: its text as logged (kept verbatim; compared when it is logged again) and its typed value.</summary>
/// <param name="Key">The param's name.</param>
/// <param name="Text">Its text.</param>
/// <param name="Value">Its value for <see cref="Trial.Parameters"/>.</param>
public readonly record struct ParamWrite(string Key, string Text, ParameterValue Value)
{
    /// <summary>A param logged as text: a number when the text is a plain finite number (so range filters work), else the text.</summary>
    public static ParamWrite OfText(string key, string text) =>
        new(key, text, double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : text);
}
