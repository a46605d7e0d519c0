using System.Buffers.Binary;

namespace Tracker.Core.Data;

/// <summary>
/// The format and size an image declares in its header, read without decoding it: a PNG's IHDR chunk, or a JPEG's first
/// start-of-frame segment. What it takes to decode an image grows with its pixels (4 bytes each), so the pixel count is
/// checked here, from a few bytes, before any decoder allocates for it.
/// </summary>
/// <param name="Format"><c>PNG</c> or <c>JPEG</c>.</param>
/// <param name="Width">The width in pixels, as declared.</param>
/// <param name="Height">The height in pixels, as declared.</param>
public readonly record struct ImageHeader(string Format, int Width, int Height)
{
    /// <summary>The most pixels an image may have to be decoded, unless configured otherwise (40 megapixels, 160 MB decoded).</summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>How far into a JPEG its frame header is looked for (EXIF and other segments may come first).</summary>
    public const int MaxJpegScan = 1 << 20;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Width × height.</summary>
    public long Pixels => (long)Width * Height;

    /// <summary>
    /// Reads the header at the start of <paramref name="stream"/>; <c>null</c> when it is neither a PNG nor a JPEG, or its
    /// header is cut short or malformed. Reads at most <see cref="MaxJpegScan"/> bytes.
    /// </summary>
    public static ImageHeader? Read(Stream stream)
    {
        Span<byte> start = stackalloc byte[24];
        int read = ReadUpTo(stream, start);
        if (read >= 24 && start[..8].SequenceEqual(PngSignature))
        {
            // The first chunk must be IHDR, 13 bytes: width and height as 4-byte big-endian numbers, each at most 2^31 - 1.
            if (BinaryPrimitives.ReadUInt32BigEndian(start[8..]) != 13 || !start[12..16].SequenceEqual("IHDR"u8)) return null;
            uint width = BinaryPrimitives.ReadUInt32BigEndian(start[16..]), height = BinaryPrimitives.ReadUInt32BigEndian(start[20..]);
            return width > int.MaxValue || height > int.MaxValue ? null : new ImageHeader("PNG", (int)width, (int)height);
        }
        if (read >= 2 && start[0] == 0xFF && start[1] == 0xD8)
            return ReadJpeg(new PrefixedStream(start[2..read].ToArray(), stream));
        return null;
    }

    // After SOI: segments, each a marker (0xFF, then its code, after any 0xFF fill bytes) and, unless it stands alone, a
    // 2-byte length that counts itself. The first start-of-frame (SOF0-SOF15, less DHT C4, JPG C8 and DAC CC) holds
    // precision (1 byte), height and width (2 bytes each). Scan data (SOS) or the end (EOI) before one: no header.
    private static ImageHeader? ReadJpeg(PrefixedStream jpeg)
    {
        Span<byte> word = stackalloc byte[2];
        while (jpeg.Position < MaxJpegScan)
        {
            if (jpeg.ReadByte() != 0xFF) return null;
            int marker;
            do marker = jpeg.ReadByte(); while (marker == 0xFF);
            if (marker < 0) return null;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // TEM and RSTn stand alone
            if (marker is 0xD9 or 0xDA) return null;
            if (jpeg.Read(word) < 2) return null;
            int length = BinaryPrimitives.ReadUInt16BigEndian(word);
            if (length < 2) return null;
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                Span<byte> frame = stackalloc byte[5];
                if (length < 7 || jpeg.Read(frame) < 5) return null;
                int height = BinaryPrimitives.ReadUInt16BigEndian(frame[1..]), width = BinaryPrimitives.ReadUInt16BigEndian(frame[3..]);
                return new ImageHeader("JPEG", width, height);
            }
            if (!jpeg.Skip(length - 2)) return null;
        }
        return null;
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    /// <summary>The bytes already read, then the rest of the stream, counting what is consumed.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest)
    {
        private int used;

        public long Position { get; private set; }

        public int ReadByte()
        {
            int b = used < prefix.Length ? prefix[used++] : rest.ReadByte();
            if (b >= 0) Position++;
            return b;
        }

        public int Read(Span<byte> buffer)
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int b = ReadByte();
                if (b < 0) break;
                buffer[total++] = (byte)b;
            }
            return total;
        }

        public bool Skip(int count)
        {
            for (int i = 0; i < count; i++)
                if (ReadByte() < 0) return false;
            return true;
        }
    }
}
