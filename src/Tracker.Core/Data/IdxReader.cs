using System.Buffers.Binary;
using System.IO.Compression;

namespace Tracker.Core.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (big-endian header: two zero bytes, a type code, a dimension
/// count, the dimensions, then the data), gzipped or not. Only unsigned-byte data is supported, which is what those
/// data sets use. A malformed file raises <see cref="InvalidDataException"/> naming the file and the problem.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads an unsigned-byte IDX file: its dimensions and its data.</summary>
    public static (int[] Dimensions, byte[] Data) Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Read(stream, path);
        }
        catch (InvalidDataException e) when (!e.Message.Contains(path))
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads an unsigned-byte IDX stream; <paramref name="name"/> appears in error messages.</summary>
    public static (int[] Dimensions, byte[] Data) Read(Stream stream, string name)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, name, "the header");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file (it starts with 0x{header[0]:x2}{header[1]:x2}, not 0x0000).");
        if (header[2] != 0x08)
            throw new InvalidDataException($"{name}: IDX data type 0x{header[2]:x2} is not supported (only unsigned bytes, 0x08).");
        int rank = header[3];
        if (rank is < 1 or > 4) throw new InvalidDataException($"{name}: an IDX file with {rank} dimensions is not supported.");
        var dimensions = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(stream, header, name, "the dimensions");
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(header);
            if (dimensions[i] <= 0) throw new InvalidDataException($"{name}: dimension {i} is {dimensions[i]}.");
            total *= dimensions[i];
        }
        if (total > int.MaxValue) throw new InvalidDataException($"{name}: {total} values are too many for one array.");
        var data = new byte[total];
        ReadExactly(stream, data, name, "the data");
        return (dimensions, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
            throw new InvalidDataException($"{name}: the file ends inside {what} ({read} of {buffer.Length} bytes).");
    }
}
