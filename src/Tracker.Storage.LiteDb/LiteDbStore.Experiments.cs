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

    // Under the write lock, and this process is the file's only writer, so the check and the write are one step.
    private void RefuseTakenName(Experiment experiment)
    {
        if (experiment.Spec.Execution != TrialExecution.Logged) return;
        if (AllExperiments().Any(e => e.Id != experiment.Id && e.Spec.Execution == TrialExecution.Logged && e.Spec.Name == experiment.Spec.Name))
            throw new ExperimentNameTakenException(experiment.Spec.Name);
    }

    private IEnumerable<Experiment> AllExperiments() => experiments.FindAll().Select(d => FromBson<Experiment>(d)!);
}
