using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using SkiaSharp;
using Tracker.Core.Data;
using Tracker.Core.Live;
using Tracker.Core.Storage;

namespace Tracker.Core.Tracking;

/// <summary>What the store records about an artifact file beyond the file itself.</summary>
/// <param name="TrialId">The trial (run) it belongs to.</param>
/// <param name="Path">Its path relative to the trial's artifact folder, with '/'.</param>
/// <param name="ContentType">Its media type, e.g. <c>image/png</c>.</param>
/// <param name="Caption">A caption, or <c>null</c>.</param>
/// <param name="TrueLabel">The class an image belongs to, or <c>null</c>.</param>
/// <param name="PredictedLabel">The class a model predicted for an image, or <c>null</c>.</param>
/// <param name="LoggedAt">When it was uploaded.</param>
public sealed record ArtifactMetadata(string TrialId, string Path, string ContentType, string? Caption, string? TrueLabel,
    string? PredictedLabel, DateTimeOffset LoggedAt);

/// <summary>What a client may say about an uploaded artifact (all optional).</summary>
/// <param name="Caption">A caption.</param>
/// <param name="TrueLabel">The class an image belongs to (a prediction sample).</param>
/// <param name="PredictedLabel">The class a model predicted for it.</param>
public sealed record ArtifactLabels(string? Caption = null, string? TrueLabel = null, string? PredictedLabel = null);

/// <summary>An artifact file as the native API shows it.</summary>
/// <param name="Path">Its path relative to the run's artifacts, with '/'.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="ContentType">Its media type: as uploaded, or guessed from the extension for files put there otherwise.</param>
/// <param name="Url">Where to download it.</param>
/// <param name="Caption">A caption, or <c>null</c>.</param>
/// <param name="TrueLabel">The class an image belongs to, or <c>null</c>.</param>
/// <param name="PredictedLabel">The class a model predicted for it, or <c>null</c>.</param>
public sealed record ArtifactView(
    string Path, long Size, string ContentType, string Url,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Caption = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TrueLabel = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PredictedLabel = null)
{
    /// <summary>Whether it is an image the dashboard can show.</summary>
    [JsonIgnore]
    public bool IsImage => RunArtifacts.ImageContentTypes.Contains(ContentType);
}

/// <summary>An artifact to send: what it is, and its bytes (the receiver disposes the stream).</summary>
/// <param name="View">The artifact.</param>
/// <param name="Content">Its bytes.</param>
public sealed record ArtifactContent(ArtifactView View, Stream Content);

/// <summary>
/// Files that logging clients attach to their runs: plots, prediction images, reports, small models. Each is a file
/// among the run's files in the <see cref="IArtifactStore"/> (so that MLflow's artifact listing shows it too) plus a
/// metadata record in the store. Uploads are checked before anything is kept: size (counted while reading,
/// whatever the client declared), content type, a path that stays inside the folder, and images must decode. A stored
/// image is announced on the feed as <see cref="ImagesLogged"/>.
/// </summary>
public sealed class RunArtifacts(IArtifactStore artifacts, ITrialStore trials, RunRegistry registry, MetricFeed feed, IOptions<TrackingOptions> options)
{
    /// <summary>The longest artifact path, in characters.</summary>
    public const int MaxPathLength = 255;

    /// <summary>The longest caption or label, in characters.</summary>
    public const int MaxLabelLength = 1000;

    /// <summary>The image types, with the encoded format each must decode as and the name its header gives it.</summary>
    private static readonly Dictionary<string, (SKEncodedImageFormat Codec, string Header)> ImageFormats = new(StringComparer.Ordinal)
    {
        ["image/png"] = (SKEncodedImageFormat.Png, "PNG"),
        ["image/jpeg"] = (SKEncodedImageFormat.Jpeg, "JPEG"),
    };

    /// <summary>The media types of images (checked by decoding, shown in the dashboard, announced live).</summary>
    public static IReadOnlySet<string> ImageContentTypes { get; } = new HashSet<string>(ImageFormats.Keys, StringComparer.Ordinal);

    /// <summary>The media types the server keeps.</summary>
    public static IReadOnlySet<string> AllowedContentTypes { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "image/png", "image/jpeg", "text/plain", "text/csv", "application/json", "application/octet-stream",
    };

    // The artifact store's own names for uploads in progress.
    private const string UploadPrefix = ".upload-";

    /// <summary>The download URL of an artifact.</summary>
    public static string UrlOf(string runId, string path) =>
        $"/api/runs/{Uri.EscapeDataString(runId)}/artifacts/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>
    /// Stores <paramref name="content"/> as the artifact <paramref name="path"/> of an active logged run, replacing a file
    /// of that path; nothing is kept when any check fails. <paramref name="contentType"/> is the upload's Content-Type
    /// (parameters such as charset are dropped; none means application/octet-stream); <paramref name="declaredLength"/>
    /// the Content-Length, when sent, to refuse an upload that is too large before reading it.
    /// </summary>
    public async Task<TrackingResult<ArtifactView>> SaveAsync(string runId, string path, string? contentType, long? declaredLength,
        Stream content, ArtifactLabels labels, CancellationToken cancellationToken = default)
    {
        if (CheckPath(path) is { } badPath) return badPath;
        var mediaType = MediaTypeOf(contentType);
        if (!mediaType.Succeeded) return mediaType.Error!;
        if ((CheckLabel("caption", labels.Caption) ?? CheckLabel("trueLabel", labels.TrueLabel) ?? CheckLabel("predictedLabel", labels.PredictedLabel)) is { } badLabel)
            return badLabel;
        var found = await registry.GetRunAsync(runId, cancellationToken);
        if (!found.Succeeded) return found.Error!;
        var run = found.Value!;
        if (run.LifecycleStage != LifecycleStage.Active)
            return new TrackingError(TrackingErrorKind.InvalidParameter, $"The run {runId} is deleted; restore it to log artifacts.");
        long limit = options.Value.MaxArtifactBytes;
        if (declaredLength > limit) return TooLarge(limit);

        // Images are checked whole before anything is stored, so the upload waits in a local temporary file first.
        string temp = Path.Combine(Path.GetTempPath(), $"tracker{UploadPrefix}{Guid.NewGuid():N}");
        try
        {
            long size = await CopyAsync(content, temp, limit, cancellationToken);
            if (size > limit) return TooLarge(limit);
            if (ImageFormats.TryGetValue(mediaType.Value!, out var format)
                && CheckImage(temp, format.Codec, format.Header, mediaType.Value!, options.Value.MaxImagePixels) is { } badImage) return badImage;
            try
            {
                await using var upload = File.OpenRead(temp);
                await artifacts.WriteArtifactAsync(run.Id, path, upload, limit, cancellationToken);
            }
            catch (ArtifactPathConflictException)
            {
                return new TrackingError(TrackingErrorKind.Conflict, $"Cannot store the artifact '{path}': a file and a folder cannot share a path.", "path");
            }
            catch (ArgumentException refused) when (refused.ParamName == "path")
            {
                // CheckPath took the path, so what the folder refuses is a symbolic link on the way (ArtifactFiles).
                return BadPath(path, "it passes a symbolic link in the artifact folder, which is never written through");
            }
            var metadata = new ArtifactMetadata(run.Id, path, mediaType.Value!, labels.Caption, labels.TrueLabel, labels.PredictedLabel, DateTimeOffset.UtcNow);
            await artifacts.SaveArtifactMetadataAsync(metadata, cancellationToken);
            var view = ViewOf(metadata, size);
            if (view.IsImage)
                feed.Publish(new ImagesLogged(run.ExperimentId, run.Id, [new LoggedImage(view.Url, view.Caption, view.TrueLabel, view.PredictedLabel)]));
            return view;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Every artifact file of a trial (logged or not), by path; files put there other than by upload get a type from their extension.</summary>
    public async Task<TrackingResult<IReadOnlyList<ArtifactView>>> ListAsync(string runId, CancellationToken cancellationToken = default)
    {
        if (await trials.GetTrialAsync(runId, cancellationToken) is null) return NoRun(runId);
        var metadata = (await artifacts.GetArtifactMetadataAsync(runId, cancellationToken)).ToDictionary(m => m.Path, StringComparer.Ordinal);
        return (await artifacts.ListAllArtifactsAsync(runId, cancellationToken))
            .Select(f => ViewOf(metadata.GetValueOrDefault(f.Path) ?? Guessed(runId, f.Path), f.Size ?? 0))
            .ToList();
    }

    /// <summary>One artifact of a trial (logged or not) and its bytes; the caller disposes the stream.</summary>
    public async Task<TrackingResult<ArtifactContent>> OpenAsync(string runId, string path, CancellationToken cancellationToken = default)
    {
        if (CheckPath(path) is { } badPath) return badPath;
        if (await trials.GetTrialAsync(runId, cancellationToken) is null) return NoRun(runId);
        var content = await artifacts.OpenArtifactAsync(runId, path, cancellationToken);
        if (content is null) return new TrackingError(TrackingErrorKind.NotFound, $"Run '{runId}' has no artifact '{path}'.", "path");
        var metadata = (await artifacts.GetArtifactMetadataAsync(runId, cancellationToken)).FirstOrDefault(m => m.Path == path) ?? Guessed(runId, path);
        return new ArtifactContent(ViewOf(metadata, content.CanSeek ? content.Length : 0), content);
    }

    private static ArtifactView ViewOf(ArtifactMetadata m, long size) =>
        new(m.Path, size, m.ContentType, UrlOf(m.TrialId, m.Path), m.Caption, m.TrueLabel, m.PredictedLabel);

    private static ArtifactMetadata Guessed(string runId, string path) => new(runId, path, Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".txt" or ".log" => "text/plain",
        ".csv" => "text/csv",
        ".json" => "application/json",
        _ => "application/octet-stream",
    }, null, null, null, default);

    // Reads at most one byte past the limit: enough to know the upload is too large without taking all of it.
    private static async Task<long> CopyAsync(Stream content, string temp, long limit, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        var buffer = new byte[1 << 16];
        long total = 0;
        while (true)
        {
            int wanted = (int)Math.Min(buffer.Length, limit + 1 - total);
            if (wanted <= 0) return total;
            int read = await content.ReadAsync(buffer.AsMemory(0, wanted), cancellationToken);
            if (read == 0) return total;
            total += read;
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    // The header first: its format, and its pixel count against the limit, before anything is decoded; then a whole decode.
    private static TrackingError? CheckImage(string file, SKEncodedImageFormat format, string headerFormat, string mediaType, long maxPixels)
    {
        ImageHeader? declared;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 4096))
            declared = ImageHeader.Read(stream);
        if (declared is not { } header) return CorruptImage(mediaType, "it does not decode (no PNG or JPEG header)");
        if (header.Format != headerFormat) return CorruptImage(mediaType, $"it is {header.Format} data");
        if (header.Width <= 0 || header.Height <= 0) return CorruptImage(mediaType, "it has no pixels");
        if (header.Pixels > maxPixels)
            return new TrackingError(TrackingErrorKind.TooLarge, string.Create(CultureInfo.InvariantCulture,
                $"The image is {header.Width}×{header.Height} pixels ({header.Pixels:N0}); at most {maxPixels:N0} are allowed (Tracking:MaxImagePixels). ")
                + "It was not decoded, and nothing was stored.", "body");
        try
        {
            using var data = SKData.Create(file);
            using var codec = data is null ? null : SKCodec.Create(data);
            if (codec is null) return CorruptImage(mediaType, "it does not decode");
            if (codec.EncodedFormat != format) return CorruptImage(mediaType, $"it is {codec.EncodedFormat.ToString().ToUpperInvariant()} data");
            var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
            if (info.Width <= 0 || info.Height <= 0) return CorruptImage(mediaType, "it has no pixels");
            if (info.Width != header.Width || info.Height != header.Height) return CorruptImage(mediaType, "its header does not match its data");
            using var bitmap = new SKBitmap(info);
            var result = codec.GetPixels(info, bitmap.GetPixels());
            return result == SKCodecResult.Success ? null
                : CorruptImage(mediaType, result == SKCodecResult.IncompleteInput ? "it is truncated" : $"decoding failed ({result})");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return CorruptImage(mediaType, e.Message);
        }
    }

    private static TrackingError? CheckPath(string? path)
    {
        if (string.IsNullOrEmpty(path)) return BadPath(path, "it is empty");
        if (path.Length > MaxPathLength) return BadPath(path[..50] + "…", $"it has {path.Length} characters; at most {MaxPathLength} are allowed");
        if (path.StartsWith('/') || path.Contains('\\') || Path.IsPathRooted(path)) return BadPath(path, "it must be relative, with '/' between folders");
        if (path.Any(char.IsControl)) return BadPath(path, "it contains a control character");
        var parts = path.Split('/');
        if (parts.Any(part => part is "" or "." or "..")) return BadPath(path, "no part may be empty, '.' or '..'");
        if (parts[0].StartsWith(UploadPrefix, StringComparison.Ordinal)) return BadPath(path, $"names starting with '{UploadPrefix}' are the server's");
        return null;
    }

    private static TrackingResult<string> MediaTypeOf(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return "application/octet-stream";
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType is null)
            return new TrackingError(TrackingErrorKind.UnsupportedContentType, $"'{contentType}' is not a content type.", "contentType");
        string mediaType = parsed.MediaType.ToLowerInvariant();
        return AllowedContentTypes.Contains(mediaType) ? mediaType
            : new TrackingError(TrackingErrorKind.UnsupportedContentType,
                $"Artifacts of type '{mediaType}' are not kept; allowed: {string.Join(", ", AllowedContentTypes)}.", "contentType");
    }

    private static TrackingError? CheckLabel(string field, string? value) =>
        value is { Length: > MaxLabelLength }
            ? new TrackingError(TrackingErrorKind.InvalidParameter, $"The {field} has {value.Length} characters; at most {MaxLabelLength} are allowed.", field)
            : null;

    private static TrackingError BadPath(string? path, string why) =>
        new(TrackingErrorKind.InvalidParameter, $"Invalid artifact path '{path}': {why}.", "path");

    private static TrackingError TooLarge(long limit) =>
        new(TrackingErrorKind.TooLarge, $"The artifact is larger than {limit} bytes, the limit (Tracking:MaxArtifactBytes). Nothing was stored.", "body");

    private static TrackingError CorruptImage(string mediaType, string why) =>
        new(TrackingErrorKind.InvalidParameter, $"The upload is not a valid {mediaType} image: {why}. Nothing was stored.", "body");

    private static TrackingError NoRun(string runId) => new(TrackingErrorKind.NotFound, $"Run with id={runId} not found");
}
