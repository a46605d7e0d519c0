using System.Buffers.Binary;
using System.Text;
using Tracker.Core.Storage;

namespace Tracker.Storage.LiteDb;

/// <summary>
/// Looks at a LiteDB file and its log before LiteDB opens them, and refuses what LiteDB would otherwise reset, rewrite or
/// grow without bound: an empty file, a file that is not a LiteDB database (LiteDB replaces a file shorter than a page
/// with a new database, and rewrites the header of others), a file cut short, and a log whose pages cannot belong to the
/// file. Nothing is written; the error names the file and what is wrong with it.
/// </summary>
public static class LiteDbFileCheck
{
    /// <summary>LiteDB's page size.</summary>
    public const int PageSize = 8192;

    // LiteDB 5's header page: after the 32-byte page header, the signature, then the file format version.
    private const int SignatureOffset = 32, VersionOffset = 59, LastPageIdOffset = 64;
    private const byte FileVersion = 8;

    // LiteDB 5's page header: the page's number (uint32), then its type (0 empty, 1 header, 2 collection, 3 index, 4 data).
    private const int PageHeaderSize = 32, PageTypeOffset = 4;
    private const byte MaxPageType = 4;
    private static readonly byte[] Signature = Encoding.ASCII.GetBytes("** This is a LiteDB file **");

    /// <summary>The log file LiteDB keeps beside <paramref name="databasePath"/> (<c>name-log.ext</c>).</summary>
    public static string LogPath(string databasePath) =>
        Path.Combine(Path.GetDirectoryName(databasePath)!,
            Path.GetFileNameWithoutExtension(databasePath) + "-log" + Path.GetExtension(databasePath));

    /// <summary>
    /// Checks the file at <paramref name="databasePath"/> (none is fine: a new database is made) and its log.
    /// </summary>
    /// <exception cref="StoreDamagedException">The file or its log is not one LiteDB can open safely.</exception>
    public static void Check(string databasePath)
    {
        var file = new FileInfo(databasePath);
        if (!file.Exists) return;
        long length = file.Length;
        if (length == 0)
            throw new StoreDamagedException(databasePath, "the file is empty (0 bytes), so it is not a Tracker database. Move it away to start a new one there.");
        var header = new byte[PageSize];
        int read;
        using (var stream = new FileStream(databasePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            read = stream.ReadAtLeast(header, PageSize, throwOnEndOfStream: false);
        if (read < SignatureOffset + Signature.Length || !header.AsSpan(SignatureOffset, Signature.Length).SequenceEqual(Signature))
            throw new StoreDamagedException(databasePath, $"it is not a LiteDB database (no LiteDB header in its first {Math.Min(read, PageSize)} bytes); a text file or another program's data, perhaps.");
        if (header[VersionOffset] != FileVersion)
            throw new StoreDamagedException(databasePath, $"it is LiteDB file format {header[VersionOffset]}; this server reads format {FileVersion}.");
        var log = new FileInfo(LogPath(databasePath));
        long logPages = log.Exists ? log.Length / PageSize : 0;
        // A torn last page is what a checkpoint that ran out of disk leaves: the log, which the checkpoint empties only
        // once every page is copied, still holds that page. Without a log it is a file cut short.
        if (length % PageSize != 0 && logPages == 0)
            throw new StoreDamagedException(databasePath, $"its length, {length:N0} bytes, is not a whole number of {PageSize}-byte pages: the file was cut short or damaged.");

        long pages = length / PageSize;
        uint lastPageId = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(LastPageIdOffset));
        // With a log, pages the header counts may still be there waiting for the checkpoint; without one they must be here.
        if (logPages == 0 && lastPageId != uint.MaxValue && lastPageId >= pages)
            throw new StoreDamagedException(databasePath, $"the file holds {pages:N0} pages but its header counts {(long)lastPageId + 1:N0}: it was cut short.");
        CheckPages(databasePath, pages);
        if (logPages > 0) CheckLog(databasePath, log.FullName, pages + logPages);
    }

    // Every page of the file starts with its own number and a page type LiteDB knows. Garbage written over a page's start
    // (a bad copy, a disk that returned another file's blocks) fails that, and is refused here rather than answered
    // with failures when the page is first read. Garbage inside a page past its header is not seen: LiteDB 5 pages carry
    // no checksum. A page never written (all zeros) is allowed.
    private static void CheckPages(string databasePath, long pages)
    {
        using var file = File.OpenHandle(databasePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> pageHeader = stackalloc byte[PageHeaderSize];
        for (long page = 1; page < pages; page++)
        {
            RandomAccess.Read(file, pageHeader, page * PageSize);
            uint pageId = BinaryPrimitives.ReadUInt32LittleEndian(pageHeader);
            byte pageType = pageHeader[PageTypeOffset];
            if ((pageId == page && pageType <= MaxPageType) || !pageHeader.ContainsAnyExcept((byte)0)) continue;
            throw new StoreDamagedException(databasePath,
                $"page {page:N0} (bytes {page * PageSize:N0} to {(page + 1) * PageSize - 1:N0}) is damaged: it names itself page {pageId:N0} of type {pageType}. "
                + "Restore a backup (tracker db backup), or copy out what can be read with LiteDB's own tools.");
        }
    }

    // Each page of the log names the page of the file it replaces or adds; a page beyond every page there could be
    // would make LiteDB extend the file to it (terabytes, for garbage). A torn last page (a crash mid-write) is ignored,
    // as LiteDB ignores it.
    private static void CheckLog(string databasePath, string logPath, long possiblePages)
    {
        using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var pageHeader = new byte[32];
        long position = 0;
        while (position + PageSize <= stream.Length)
        {
            stream.Position = position;
            stream.ReadExactly(pageHeader);
            uint pageId = BinaryPrimitives.ReadUInt32LittleEndian(pageHeader);
            if (pageId != uint.MaxValue && pageId > possiblePages)
                throw new StoreDamagedException(databasePath,
                    $"its log {logPath} is damaged: page {position / PageSize:N0} names page {pageId:N0} of a database that can have at most {possiblePages:N0}. "
                    + "Move the log away to open the database as of its last checkpoint.");
            position += PageSize;
        }
    }
}
