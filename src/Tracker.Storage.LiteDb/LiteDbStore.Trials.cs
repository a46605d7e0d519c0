using System.Text.Json;
using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using ObjectiveDirection = Tracker.Abstractions.ObjectiveDirection;
using TrialState = Tracker.Abstractions.TrialState;

namespace Tracker.Storage.LiteDb;

// Trial writes: numbers from a counter, annotation-preserving saves, updates under the write lock. Every trial document
// written is also handed to the trial catalog (TrialCatalog), which the queries read: inside a transaction once it
// commits, otherwise right after the write.
//
// Documents written by earlier versions carry denormalised query fields (_created, _text, ...); nothing reads them any
// more, and FromBson drops every key that starts with '_'.
public sealed partial class LiteDbStore
{
    private const int WriteBatch = 1000;

    /// <inheritdoc />
    public Task<int> NextTrialNumberAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Atomic(() =>
        {
            var counter = counters.FindById(experimentId);
            int next = counter is null ? FirstFreeNumber(experimentId) : counter["next"].AsInt32;
            counters.Upsert(new BsonDocument { ["_id"] = experimentId, ["next"] = next + 1 });
            return next;
        }));
    }

    // Trials stored before the counter existed keep their numbers.
    private int FirstFreeNumber(string experimentId)
    {
        var numbers = trials.Query().Where(BsonExpression.Create("$.experimentId = @0", experimentId)).Select("{ n: $.number }").ToDocuments()
            .Select(d => d["n"]).Where(n => n.IsNumber).Select(n => n.AsInt32).ToList();
        return numbers.Count == 0 ? 0 : numbers.Max() + 1;
    }

    /// <inheritdoc />
    public Task SaveTrialAsync(Trial trial, IReadOnlyCollection<MetricPoint>? points = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() =>
        {
            WriteTrials([trial]);
            if (points is { Count: > 0 }) Append(points);
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SaveTrialsAsync(IEnumerable<Trial> trials, CancellationToken cancellationToken = default)
    {
        foreach (var batch in trials.Chunk(WriteBatch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Atomic(() => WriteTrials(batch));
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<Trial?> UpdateTrialAsync(string id, Func<Trial, TrialWrite?> change, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Nobody writes between the read and the write (see the class remarks), so change runs once.
        var result = Atomic(() =>
        {
            var current = FromBson<Trial>(trials.FindById(id));
            if (current is null) return null;
            if (change(current) is not { } write) return current;
            WriteTrials([write.Trial]);
            if (write.Points is { Count: > 0 } points) Append(points);
            return FromBson<Trial>(trials.FindById(write.Trial.Id));
        });
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task<Trial?> UpdateTrialAnnotationsAsync(string trialId, IReadOnlyList<string>? tags, string? notes, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Atomic(() =>
        {
            var doc = trials.FindById(trialId);
            if (doc is null) return null;
            if (tags is not null) doc["tags"] = new BsonArray(NormaliseTags(tags).Select(t => new BsonValue(t)));
            if (notes is not null) doc["notes"] = string.IsNullOrWhiteSpace(notes) ? BsonValue.Null : new BsonValue(notes);
            var trial = FromBson<Trial>(doc)!;
            trials.Update(doc);
            StageForCatalog([doc]);
            return trial;
        }));
    }

    /// <inheritdoc />
    public Task<Trial?> GetTrialAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FromBson<Trial>(trials.FindById(id)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Trial>> ListTrialsAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<Trial>>(
            trials.Find(Query.EQ("experimentId", experimentId)).Select(d => FromBson<Trial>(d)!).OrderBy(t => t.Number).ToList());
    }

    /// <inheritdoc />
    public Task<TrialTally> TallyTrialsAsync(string experimentId, ObjectiveDirection direction, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Catalog().Tally(experimentId, direction));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Trial>> ListTrialsInStateAsync(IReadOnlyCollection<TrialState> states, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (states.Count == 0) return Task.FromResult<IReadOnlyList<Trial>>([]);
        return Task.FromResult<IReadOnlyList<Trial>>(
            trials.Find(Query.In("state", states.Select(s => new BsonValue(StateName(s))).ToArray())).Select(d => FromBson<Trial>(d)!).ToList());
    }

    /// <summary>Trims tags, drops empty ones and duplicates (ignoring case), keeping the first spelling and the order.</summary>
    private static List<string> NormaliseTags(IEnumerable<string> tags) =>
        tags.Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    // Runs inside a transaction under the write lock.
    private void WriteTrials(IReadOnlyList<Trial> batch)
    {
        var stored = trials.Query().Where(ByIds(batch.Select(t => t.Id))).Select("{ id: $._id, tags: $.tags, notes: $.notes }").ToDocuments()
            .ToDictionary(d => d["id"].AsString, StringComparer.OrdinalIgnoreCase);
        var fresh = new List<BsonDocument>();
        var known = new List<BsonDocument>();
        foreach (var trial in batch.Reverse().DistinctBy(t => t.Id, StringComparer.OrdinalIgnoreCase)) // the last record of an id wins
        {
            var doc = ToBson(trial, trial.Id);
            if (stored.TryGetValue(trial.Id, out var annotations))
            {
                doc["tags"] = annotations["tags"].IsArray ? annotations["tags"] : new BsonArray();
                doc["notes"] = annotations["notes"];
            }
            (stored.ContainsKey(trial.Id) ? known : fresh).Add(doc);
        }
        if (known.Count > 0) trials.Update(known);
        if (fresh.Count > 0) trials.Insert(fresh);
        KeepCountersAhead(batch);
        StageForCatalog([.. known, .. fresh]);
    }

    // A trial written with a number (copied from another store, say) must never be handed that number again.
    private void KeepCountersAhead(IEnumerable<Trial> batch)
    {
        foreach (var group in batch.GroupBy(t => t.ExperimentId, StringComparer.OrdinalIgnoreCase))
        {
            var counter = counters.FindById(group.Key);
            int highest = group.Max(t => t.Number);
            if (counter is not null && counter["next"].AsInt32 <= highest)
                counters.Update(new BsonDocument { ["_id"] = counter["_id"], ["next"] = highest + 1 });
        }
    }

    private static string StateName(TrialState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());

    private static BsonExpression ByIds(IEnumerable<string> ids) =>
        BsonExpression.Create("$._id IN @0", new BsonArray(ids.Select(id => new BsonValue(id))));
}
