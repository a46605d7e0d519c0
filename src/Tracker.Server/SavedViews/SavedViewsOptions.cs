namespace Tracker.Server.SavedViews;

/// <summary>Options of the saved runs-grid views, bound to <c>SavedViews</c> in appsettings.json.</summary>
public sealed class SavedViewsOptions
{
    /// <summary>
    /// The JSON file that holds them; relative paths resolve against the content root. Empty (the default) means
    /// <c>saved-views.json</c> beside a LiteDB file, or <c>data/saved-views.json</c> for PostgreSQL. Several servers
    /// on one PostgreSQL database share their views only if they share this file.
    /// </summary>
    public string File { get; set; } = "";
}
