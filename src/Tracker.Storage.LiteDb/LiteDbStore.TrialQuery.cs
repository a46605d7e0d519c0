using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

// The runs browser's queries and MLflow's run search. Filtering, counting and sorting run over the trial catalog (every
// trial's query fields in memory, see TrialCatalog); LiteDB then reads only the documents of the page, by id.
//
// The catalog is built on first use, not when the store opens, so that opening a large file stays quick; building reads
// every trial document once, under the write lock, so that no write slips between the read and the catalog.
public sealed partial class LiteDbStore
{
    private const int ExportChunk = 500;

    // Indexes that the trials collection keeps: the rest were made for queries the catalog now answers.
    private static readonly HashSet<string> KeptTrialIndexes = new(StringComparer.Ordinal) { "_id", "experimentId", "state" };

    private volatile TrialCatalog? catalog;

    // Trial documents written by the transaction under way: they enter the catalog once it commits (see Atomic).
    private readonly List<BsonDocument> uncommittedTrials = [];

    // Ids of the trials that the transaction under way deletes: they leave the catalog once it commits.
    private readonly List<string> uncommittedRemovals = [];

    /// <inheritdoc />
    public Task<TrialQueryResult> QueryTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int size = Math.Clamp(query.PageSize, 1, TrialQuery.MaxPageSize), page = Math.Max(0, query.Page);
        var experimentsById = ExperimentsById();
        if (ScopeOf(query, experimentsById) is not { } scope) return Task.FromResult(new TrialQueryResult([], 0, page, size));
        var (total, ids) = Catalog().Select(query, scope, (long)page * size, size);
        return Task.FromResult(new TrialQueryResult(LoadRows(ids, experimentsById).ToList(), total, page, size));
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TrialRow> ExportTrialsAsync(TrialQuery query, CancellationToken cancellationToken = default) =>
        ExportRows(query, cancellationToken).ToAsyncEnumerable();

    private IEnumerable<TrialRow> ExportRows(TrialQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The ids come first, in order, so that the export is one consistent set even while trials are written; the
        // documents follow in chunks, so no reader stays open while the caller streams (LiteDB transactions are per thread).
        var experimentsById = ExperimentsById();
        if (ScopeOf(query, experimentsById) is not { } scope) yield break;
        var ids = Catalog().SelectAll(query, scope);
        foreach (var chunk in ids.Chunk(ExportChunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var row in LoadRows(chunk, experimentsById).ToList()) yield return row;
        }
    }

    /// <inheritdoc />
    public Task<TrialFieldNames> TrialFieldsAsync(TrialQuery query, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var experimentsById = ExperimentsById();
        return Task.FromResult(ScopeOf(query, experimentsById) is { } scope ? Catalog().Fields(query, scope) : new TrialFieldNames([], []));
    }

    /// <summary>The names of the indexes on the trials collection (for tests and diagnostics).</summary>
    internal IReadOnlyList<string> TrialIndexNames() =>
        db.GetCollection("$indexes").Find(Query.EQ("collection", "trials")).Select(d => d["name"].AsString).ToList();

    /// <summary>The trial catalog, built from the trial documents on first use.</summary>
    internal TrialCatalog Catalog()
    {
        if (catalog is { } built) return built;
        lock (gate)
        {
            if (catalog is null)
            {
                DropQueryIndexes();
                catalog = TrialCatalog.Build(trials.FindAll());
            }
            return catalog;
        }
    }

    /// <summary>A second catalog of the stored trials, which the store does not keep (to measure a catalog's size).</summary>
    internal TrialCatalog BuildCatalogCopy() => TrialCatalog.Build(trials.FindAll());

    // Files written before the catalog have an index per sorted or filtered field, which every trial write would go on
    // paying for: they are dropped once, on first use of the catalog.
    private void DropQueryIndexes()
    {
        foreach (var name in TrialIndexNames())
            if (!KeptTrialIndexes.Contains(name)) trials.DropIndex(name);
    }

    // Called under the write lock: the documents enter the catalog when the transaction commits, or never.
    private void StageForCatalog(IEnumerable<BsonDocument> documents)
    {
        if (catalog is null) return;
        int start = uncommittedTrials.Count;
        uncommittedTrials.AddRange(documents);
        // A trial written again after a removal in the same transaction is there when it commits.
        if (uncommittedRemovals.Count > 0)
            for (int i = start; i < uncommittedTrials.Count; i++)
                uncommittedRemovals.RemoveAll(id => string.Equals(id, uncommittedTrials[i]["_id"].AsString, StringComparison.OrdinalIgnoreCase));
    }

    // Called under the write lock: the trials leave the catalog when the transaction commits, or stay. A document of
    // theirs staged earlier in the transaction is dropped, so that the catalog ends as the database does.
    private void StageCatalogRemoval(IReadOnlyCollection<string> trialIds)
    {
        if (catalog is null || trialIds.Count == 0) return;
        var removed = new HashSet<string>(trialIds, StringComparer.OrdinalIgnoreCase);
        uncommittedTrials.RemoveAll(d => removed.Contains(d["_id"].AsString));
        uncommittedRemovals.AddRange(removed);
    }

    private void CatalogCommitted()
    {
        if (uncommittedTrials.Count > 0)
        {
            catalog?.Upsert(uncommittedTrials);
            uncommittedTrials.Clear();
        }
        if (uncommittedRemovals.Count > 0)
        {
            catalog?.Remove(uncommittedRemovals);
            uncommittedRemovals.Clear();
        }
    }

    private void CatalogRolledBack()
    {
        uncommittedTrials.Clear();
        uncommittedRemovals.Clear();
    }

    private Dictionary<string, Experiment> ExperimentsById() => AllExperiments().ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The experiment-level filters resolved against the stored experiments (there are few experiments and many
    /// trials), or <c>null</c> when no trial can match (e.g. no experiment of the model).
    /// </summary>
    private static TrialCatalog.Scope? ScopeOf(TrialQuery query, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        List<string>? ids = null;
        if (query.ExperimentIds.Count > 0 || !string.IsNullOrEmpty(query.Model) || !string.IsNullOrEmpty(query.Strategy))
        {
            ids = experimentsById.Values.Where(e => query.MatchesExperiment(e.Id, e.Spec)).Select(e => e.Id).ToList();
            // Trials whose experiment is gone can still be asked for by id.
            if (string.IsNullOrEmpty(query.Model) && string.IsNullOrEmpty(query.Strategy))
                ids.AddRange(query.ExperimentIds.Where(id => !experimentsById.ContainsKey(id)));
            if (ids.Count == 0) return null;
        }
        var named = string.IsNullOrWhiteSpace(query.Text) ? []
            : experimentsById.Values.Where(e => e.Spec.Name.Contains(query.Text.Trim(), StringComparison.OrdinalIgnoreCase)).Select(e => e.Id).ToList();
        return new TrialCatalog.Scope(ids, named);
    }

    private IEnumerable<TrialRow> LoadRows(IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        if (ids.Count == 0) yield break;
        var byId = trials.Find(ByIds(ids)).ToDictionary(d => d["_id"].AsString, StringComparer.OrdinalIgnoreCase);
        foreach (var id in ids)
            if (byId.TryGetValue(id, out var doc)) yield return Row(doc, experimentsById);
    }

    private static TrialRow Row(BsonDocument doc, IReadOnlyDictionary<string, Experiment> experimentsById)
    {
        var trial = FromBson<Trial>(doc)!;
        return experimentsById.TryGetValue(trial.ExperimentId, out var e)
            ? new TrialRow(trial, e.Spec.Name, e.Spec.Model, e.Spec.Strategy)
            : new TrialRow(trial, "", "", "");
    }
}
