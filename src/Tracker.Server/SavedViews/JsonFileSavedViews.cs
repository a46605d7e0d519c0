using System.Text.Json;

namespace Tracker.Server.SavedViews;

/// <summary>
/// Saved views in one JSON file. The stores have no settings or key-value facility, and an experiment's metadata
/// would tie a view to one experiment while a view spans any; a view is a dashboard preference, not run data, so it
/// lives beside the store in a file rather than in a new store contract that both backends would have to implement
/// and migrate. Writes go to a temporary file that then replaces the old one, so that a crash leaves the old views
/// or the new ones, never half a file. One lock serialises this process's read-change-write steps. Continuations leave
/// the caller's context (a Blazor circuit's): nothing here needs it, and a caller that waits on that context's own
/// thread would otherwise never see the answer.
/// </summary>
public sealed class JsonFileSavedViews(string path) : ISavedViews
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>The file.</summary>
    public string FilePath { get; } = Path.GetFullPath(path);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SavedView>> ListAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task SaveAsync(SavedView view, CancellationToken cancellationToken = default)
    {
        string name = view.Name?.Trim() ?? "";
        if (name.Length == 0) throw new ArgumentException("A view needs a name.", nameof(view));
        if (name.Length > ISavedViews.MaxNameLength) throw new ArgumentException($"A view's name has at most {ISavedViews.MaxNameLength} characters.", nameof(view));
        if (view.Url is not ['/', not ('/' or '\\'), ..] and not "/") throw new ArgumentException($"'{view.Url}' is not a path on this site.", nameof(view));
        await ChangeAsync(views => [.. views.Where(v => !Same(v.Name, name)), view with { Name = name }], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        bool found = false;
        await ChangeAsync(views =>
        {
            var kept = views.Where(v => !Same(v.Name, name.Trim())).ToList();
            found = kept.Count < views.Count;
            return kept;
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private async Task ChangeAsync(Func<IReadOnlyList<SavedView>, List<SavedView>> change, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var views = change(await ReadAsync(cancellationToken).ConfigureAwait(false));
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            string temporary = $"{FilePath}.{Guid.NewGuid():N}.tmp";
            try
            {
                await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
                    await JsonSerializer.SerializeAsync(file, views.OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase), Json, cancellationToken).ConfigureAwait(false);
                File.Move(temporary, FilePath, overwrite: true);
            }
            finally
            {
                File.Delete(temporary); // nothing to delete once moved
            }
        }
        finally
        {
            gate.Release();
        }
    }

    // A file that cannot be read is reported, not treated as empty: the next save would otherwise overwrite every view in it.
    private async Task<IReadOnlyList<SavedView>> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath)) return [];
        await using var file = File.OpenRead(FilePath);
        try
        {
            var views = await JsonSerializer.DeserializeAsync<List<SavedView>>(file, Json, cancellationToken).ConfigureAwait(false) ?? [];
            return [.. views.OrderBy(v => v.Name, StringComparer.OrdinalIgnoreCase)];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The saved views in {FilePath} cannot be read: {e.Message}", e);
        }
    }
}
