using System.Buffers.Binary;
using System.IO.Compression;

namespace Tracker.Core.Data;

/// <summary>
/// A minimal PNG encoder for the small prediction thumbnails the dashboard shows (8-bit grey or RGB, no
/// filtering). Self-contained so that storing samples needs no native imaging library.
/// </summary>
public static class Png
{
    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>
    /// Encodes one channel-first image with values in [0, 1] (1 channel: grey; 3: RGB) as PNG bytes.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), "PNG thumbnails need 1 or 3 channels.");
        if (chw.Length != channels * height * width) throw new ArgumentException("pixel count does not match the shape.", nameof(chw));
        int plane = height * width;
        var raw = new byte[height * (1 + width * channels)];
        for (int y = 0, o = 0; y < height; y++)
        {
            raw[o++] = 0; // filter type: none
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    raw[o++] = (byte)Math.Clamp(MathF.Round(chw[c * plane + y * width + x] * 255f), 0, 255);
        }

        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = (byte)(channels == 1 ? 0 : 2); // colour type: grey or truecolour
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
            WriteChunk(output, "IDAT", compressed.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = 0xFFFFFFFFu;
        foreach (var b in typeBytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc ^ 0xFFFFFFFFu);
        output.Write(word);
    }
}
