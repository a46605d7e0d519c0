using System.Text.RegularExpressions;
using Tracker.Core.Storage;

namespace Tracker.Core.Tracking;

/// <summary>
/// Which artifact location a client may give a new experiment (MLflow's <c>artifact_location</c>). Its runs' artifact
/// URIs lie below it, and clients that share the server's file system write there, so it must name a place inside the
/// store's artifact folder: none (the store's folder, the default); an <c>mlflow-artifacts:</c> URI (MLflow's name for
/// the tracking server's own artifact store) without <c>..</c>; or a file URI or path that resolves inside the folder,
/// after percent-decoding and normalising <c>.</c> and <c>..</c> (a relative path resolves against the folder). Anything
/// else is refused: other schemes (s3:, gs:, http:, ...), file URIs of another host, a query or fragment (<c>?</c>,
/// <c>#</c>: a client would cut the location there, the server does not guess where), control characters and
/// backslashes, and a path through a symbolic link below the folder.
/// </summary>
public static partial class ArtifactLocations
{
    /// <summary>The scheme of MLflow's proxied artifact URIs, which name the tracking server's own artifact store.</summary>
    public const string ServerScheme = "mlflow-artifacts";

    /// <summary>
    /// Checks <paramref name="location"/> against the artifact folder <paramref name="root"/> (an absolute path). On
    /// success <paramref name="stored"/> is what to keep: <c>null</c> for none, the URI as given for
    /// <c>mlflow-artifacts:</c>, else the file URI of the folder it names.
    /// </summary>
    public static TrackingError? Check(string? location, string root, out string? stored)
    {
        stored = null;
        if (string.IsNullOrEmpty(location)) return null;
        string rootFolder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        TrackingError Refused(string why) => TrackingError.Invalid(
            $"Invalid artifact location '{location}': {why}. This server keeps artifacts under {new Uri(rootFolder + Path.DirectorySeparatorChar).AbsoluteUri}; "
            + "give a location inside it, or none.", "artifact_location");

        if (location.Any(char.IsControl)) return Refused("it contains a control character");
        if (location.Contains('\\')) return Refused("it contains a backslash");
        if (location.IndexOfAny(['?', '#']) >= 0) return Refused("a query or fragment ('?', '#') is not allowed");

        string path;
        var scheme = Scheme().Match(location);
        if (scheme.Success && !Path.IsPathRooted(location))
        {
            string name = scheme.Groups[1].Value.ToLowerInvariant();
            string rest = location[scheme.Length..];
            if (name == ServerScheme)
            {
                if (rest.StartsWith("//", StringComparison.Ordinal)) return Refused("an mlflow-artifacts URI may not name a host");
                if (Decode(rest) is not { } proxied || proxied.Split('/').Any(part => part == ".."))
                    return Refused("it must not climb with '..'");
                stored = location;
                return null;
            }
            if (name != "file") return Refused($"the scheme '{name}:' names a place outside the server's artifact folder");
            if (rest.StartsWith("//", StringComparison.Ordinal))
            {
                int slash = rest.IndexOf('/', 2);
                string host = slash < 0 ? rest[2..] : rest[2..slash];
                if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                    return Refused($"it names the host '{host}'");
                rest = slash < 0 ? "/" : rest[slash..];
            }
            if (!rest.StartsWith('/')) return Refused("a file URI must hold an absolute path");
            if (Decode(rest) is not { } decoded) return Refused("its percent-encoding does not decode to a path");
            path = decoded;
        }
        else
        {
            path = location;
        }
        if (path.Contains('\0') || path.Any(char.IsControl)) return Refused("it contains a control character");

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path, rootFolder));
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!full.Equals(rootFolder, comparison) && !full.StartsWith(rootFolder + Path.DirectorySeparatorChar, comparison))
            return Refused($"it resolves to {full}, outside the artifact folder");
        if (new ArtifactFiles(rootFolder).PassesLink(full)) return Refused("it passes a symbolic link in the artifact folder");
        stored = new Uri(full).AbsoluteUri;
        return null;
    }

    // Percent-decoding that fails on text it cannot decode (e.g. an encoded byte that is not UTF-8).
    private static string? Decode(string text)
    {
        try
        {
            string decoded = Uri.UnescapeDataString(text);
            return decoded.Contains('\uFFFD') && !text.Contains('\uFFFD') ? null : decoded;
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    [GeneratedRegex("^([A-Za-z][A-Za-z0-9+.-]*):")]
    private static partial Regex Scheme();
}
