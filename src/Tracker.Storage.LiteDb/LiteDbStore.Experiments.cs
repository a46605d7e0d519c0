using LiteDB;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

public sealed partial class LiteDbStore
{
    /// <inheritdoc />
    public Task SaveExperimentAsync(Experiment experiment, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Atomic(() =>
        {
            RefuseTakenName(experiment);
            experiments.Upsert(ToBson(experiment, experiment.Id));
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<Experiment?> UpdateExperimentAsync(string id, Func<Experiment, Experiment?> change, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Under the write lock nobody can write in between, so change sees the stored experiment.
        return Task.FromResult(Atomic(() =>
        {
            var current = FromBson<Experiment>(experiments.FindById(id));
            if (current is null) return null;
            var changed = change(current);
            if (changed is null) return current;
            RefuseTakenName(changed);
            experiments.Upsert(ToBson(changed, changed.Id));
            return changed;
        }));
    }

    /// <inheritdoc />
    public Task<Experiment?> GetExperimentAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FromBson<Experiment>(experiments.FindById(id)));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<Experiment>>(AllExperiments().OrderByDescending(e => e.CreatedAt).ToList());
    }

    /// <inheritdoc />
    public Task<DeletedExperiment?> DeleteExperimentAsync(string id, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // One transaction: a reader sees the experiment with all its trials, or nothing of it.
        var deleted = Atomic<DeletedExperiment?>(() =>
        {
            var experiment = FromBson<Experiment>(experiments.FindById(id));
            if (experiment is null) return null;
            var trialIds = trials.Find(Query.EQ("experimentId", experiment.Id)).Where(d => Same(d["experimentId"], experiment.Id))
                .Select(d => d["_id"].AsString).ToList();
            foreach (var trialId in trialIds) DeleteTrialRecords(trialId);
            counters.Delete(experiment.Id);
            experiments.Delete(experiment.Id);
            StageCatalogRemoval(trialIds);
            return new DeletedExperiment(experiment, trialIds, []);
        });
        if (deleted is null) return Task.FromResult<DeletedExperiment?>(null);
        return Task.FromResult<DeletedExperiment?>(deleted with { FoldersLeft = deleted.TrialIds.Where(t => !files.DeleteTrial(t)).ToList() });
    }

    // Inside a transaction under the write lock: a trial and what is kept of it in every collection (its files are not
    // in the database). Index lookups compare ids by culture, ignoring case; only documents whose id is the trial's,
    // ignoring case as LiteDB's own ids do, are deleted.
    private void DeleteTrialRecords(string trialId)
    {
        foreach (var info in latest.Find(Query.EQ("trialId", trialId)).Where(d => Same(d["trialId"], trialId)).ToList())
        {
            // A series' chunks are the positions n·2³² + (first step + 2³¹) of its number n (see LiteDbStore.Metrics).
            long n = info["n"].AsInt64;
            foreach (var chunk in series.Find(Query.Between("pos", n << 32, ((n + 1) << 32) - 1)).Select(d => d["_id"]).ToList())
            {
                series.Delete(chunk);
                seriesPoints.Delete(chunk);
            }
            latest.Delete(info["_id"]);
        }
        foreach (var report in reports.Find(Query.EQ("trialId", trialId)).Where(d => Same(d["trialId"], trialId)).Select(d => d["_id"]).ToList())
            reports.Delete(report);
        predictions.Delete(trialId);
        foreach (var sample in db.FileStorage.Find(Query.StartsWith("_id", SamplePrefix(trialId))).ToList())
            if (sample.Id.StartsWith(SamplePrefix(trialId), StringComparison.OrdinalIgnoreCase)) db.FileStorage.Delete(sample.Id);
        foreach (var record in artifacts.Find(Query.EQ("trialId", trialId)).Where(d => Same(d["trialId"], trialId)).Select(d => d["_id"]).ToList())
            artifacts.Delete(record);
        trials.Delete(trialId);
    }

    private static bool Same(BsonValue value, string id) => value.IsString && string.Equals(value.AsString, id, StringComparison.OrdinalIgnoreCase);

    // Under the write lock, and this process is the file's only writer, so the check and the write are one step.
    private void RefuseTakenName(Experiment experiment)
    {
        if (experiment.Spec.Execution != TrialExecution.Logged) return;
        if (AllExperiments().Any(e => e.Id != experiment.Id && e.Spec.Execution == TrialExecution.Logged && e.Spec.Name == experiment.Spec.Name))
            throw new ExperimentNameTakenException(experiment.Spec.Name);
    }

    private IEnumerable<Experiment> AllExperiments() => experiments.FindAll().Select(d => FromBson<Experiment>(d)!);
}
