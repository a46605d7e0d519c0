namespace Tracker.Core.Storage;

/// <summary>
/// What the holder of an API key or a dashboard session may do. Each role may do everything the roles before it may:
/// the order of the values is the order of the roles.
/// </summary>
public enum TrackerRole
{
    /// <summary>Reads experiments, trials, metrics and files; changes nothing.</summary>
    Viewer,

    /// <summary>Also starts and controls experiments and logs runs, metrics, parameters, tags and files.</summary>
    Editor,

    /// <summary>Also manages API keys and deletes experiments for good.</summary>
    Admin,
}

/// <summary>The names of the roles as configuration, the API and the dashboard write them.</summary>
public static class TrackerRoles
{
    /// <summary>The lower-case name of <paramref name="role"/>: <c>viewer</c>, <c>editor</c> or <c>admin</c>.</summary>
    public static string Name(this TrackerRole role) => role switch
    {
        TrackerRole.Viewer => "viewer",
        TrackerRole.Editor => "editor",
        TrackerRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Not a role."),
    };

    /// <summary>Reads a role's name, ignoring case; numbers and unknown names are refused.</summary>
    public static bool TryParse(string? name, out TrackerRole role)
    {
        foreach (var candidate in Enum.GetValues<TrackerRole>())
            if (string.Equals(name?.Trim(), candidate.Name(), StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        role = default;
        return false;
    }

    /// <summary>The names of every role, in order: <c>viewer, editor, admin</c>.</summary>
    public static string All => string.Join(", ", Enum.GetValues<TrackerRole>().Select(r => r.Name()));
}
