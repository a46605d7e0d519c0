using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;

namespace Tracker.Storage;

/// <summary>What <see cref="StoreCheck.CheckLiteDbAsync"/> read back.</summary>
/// <param name="Experiments">Experiment records.</param>
/// <param name="Trials">Trial records.</param>
/// <param name="Records">Every record of the file, all read back.</param>
public sealed record StoreCheckResult(int Experiments, int Trials, long Records);

/// <summary>Checks a database without changing it (<c>tracker db check</c>).</summary>
public static class StoreCheck
{
    /// <summary>
    /// Checks a LiteDB file that no process holds: the file and its log as the store checks them before opening
    /// (<see cref="LiteDbFileCheck"/>), then every record (<see cref="LiteDbStore.VerifyAsync"/>) and every experiment
    /// and trial as the server reads them, which must read back. The store opens with
    /// its artifacts in <paramref name="artifactRoot"/> (<c>artifacts</c> beside the file when <c>null</c>).
    /// </summary>
    /// <exception cref="StoreDamagedException">The file, its log or a record is damaged; the message says which and why.</exception>
    public static async Task<StoreCheckResult> CheckLiteDbAsync(string path, string? artifactRoot = null, CancellationToken cancellationToken = default)
    {
        LiteDbFileCheck.Check(path);
        try
        {
            int experiments = 0, trials = 0;
            using var store = new LiteDbStore(path, artifactRoot);
            long records = await store.VerifyAsync(cancellationToken);
            foreach (var experiment in await store.ListExperimentsAsync(cancellationToken))
            {
                experiments++;
                trials += (await store.ListTrialsAsync(experiment.Id, cancellationToken)).Count;
            }
            return new StoreCheckResult(experiments, trials, records);
        }
        catch (Exception e) when (e is LiteDB.LiteException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new StoreDamagedException(path, $"a record does not read back: {e.Message}");
        }
    }
}
