namespace Tracker.Server.SavedViews;

/// <summary>A runs-grid view kept by name: its columns, filters, sort and grouping, as the grid's own URL.</summary>
/// <param name="Name">What people called it; unique, ignoring case.</param>
/// <param name="Url">The runs page's path and query string, e.g. <c>/runs?state=completed&amp;col=param:lr</c>.</param>
/// <param name="SavedAt">When it was saved.</param>
public sealed record SavedView(string Name, string Url, DateTimeOffset SavedAt);

/// <summary>
/// The runs grid's views stored by name, shared by everyone who uses the dashboard. Each call is atomic on its own,
/// and a completed write survives a restart.
/// </summary>
public interface ISavedViews
{
    /// <summary>The longest name accepted.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Every view, by name (ignoring case).</summary>
    Task<IReadOnlyList<SavedView>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="view"/> under its trimmed name, replacing a view of the same name (ignoring case). A blank
    /// name, a name longer than <see cref="MaxNameLength"/>, or a URL that is not a path on this site (one '/' first) is
    /// refused with <see cref="ArgumentException"/>, so that opening a view never leaves the dashboard.
    /// </summary>
    Task SaveAsync(SavedView view, CancellationToken cancellationToken = default);

    /// <summary>Removes the view named <paramref name="name"/> (ignoring case); <c>false</c> when there was none.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default);
}
