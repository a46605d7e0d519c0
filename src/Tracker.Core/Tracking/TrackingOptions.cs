namespace Tracker.Core.Tracking;

/// <summary>Limits of the native run-logging API, bound to <c>Tracking</c> in appsettings.json.</summary>
public sealed class TrackingOptions
{
    /// <summary>The most metric points one request may log. Defaults to 10 000.</summary>
    public int MaxMetricPointsPerRequest { get; set; } = 10_000;

    /// <summary>The largest artifact file, in bytes; larger uploads are refused before they are stored. Defaults to 16 MiB.</summary>
    public long MaxArtifactBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// The most pixels (width × height) an uploaded PNG or JPEG may have. It is read from the image's header and checked
    /// before the image is decoded to check it, since decoding takes 4 bytes a pixel. Defaults to 40 000 000.
    /// </summary>
    public long MaxImagePixels { get; set; } = Data.ImageHeader.DefaultMaxPixels;
}
