using System.Buffers.Binary;
using SkiaSharp;
using Tracker.Core.Data;
using Tracker.Tests;

namespace Tracker.Core.Tests;

/// <summary><see cref="ImageHeader"/>: the declared size of PNGs and JPEGs, from their header alone; nothing for anything else.</summary>
public sealed class ImageHeaderTests
{
    private static ImageHeader? Read(byte[] bytes) => ImageHeader.Read(new MemoryStream(bytes));

    [Fact]
    public void Read_Png_SizeFromIhdr()
    {
        byte[] png = Png.Encode(new float[3 * 5 * 7], 3, height: 5, width: 7);

        Assert.Equal(new ImageHeader("PNG", 7, 5), Read(png));
    }

    [Fact]
    public void Read_JpegFromSkia_SizeFromItsFrame()
    {
        using var bitmap = new SKBitmap(40, 30);
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 80);

        Assert.Equal(new ImageHeader("JPEG", 40, 30), Read(jpeg.ToArray()));
    }

    [Fact]
    public void Read_JpegWithLargeSegmentsAndFillBytesBeforeItsFrame_FindsIt()
    {
        // SOI, a 60 KB APP1 (EXIF's place), a DHT (C4 is no frame), fill bytes, then a progressive frame (SOF2).
        byte[] app1 = [0xFF, 0xE1, .. Length(60_000), .. new byte[60_000 - 2]];
        byte[] dht = [0xFF, 0xC4, .. Length(5), 0x00, 0x01, 0x02];
        byte[] sof2 = [0xFF, 0xFF, 0xFF, 0xC2, .. Length(11), 0x08, .. Length(6000), .. Length(8000), 0x01, 0x01, 0x11, 0x00];

        Assert.Equal(new ImageHeader("JPEG", 8000, 6000), Read([0xFF, 0xD8, .. app1, .. dht, .. sof2, 0xFF, 0xD9]));
    }

    public static TheoryData<string, byte[]> NotAHeader => new()
    {
        { "empty", [] },
        { "text", "just some text"u8.ToArray() },
        { "a PNG cut inside its header", Png.Encode(new float[4], 1, 2, 2)[..20] },
        { "a PNG whose first chunk is not IHDR", [.. Png.Encode(new float[4], 1, 2, 2)[..12], .. "IDAT"u8, .. new byte[8]] },
        { "a PNG wider than 2^31 - 1", [.. Png.Encode(new float[4], 1, 2, 2)[..16], 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02] },
        { "a JPEG whose scan comes before any frame", [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 1, 2, 3, 4, 5, 6] },
        { "a JPEG cut inside a segment", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F'] },
        { "a JPEG frame cut short", [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x10] },
        { "a JPEG with bytes between its segments", [0xFF, 0xD8, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10] },
    };

    [Theory]
    [MemberData(nameof(NotAHeader))]
    public void Read_NoPngOrJpegHeader_Null(string what, byte[] bytes) => Assert.True(Read(bytes) is null, what);

    [Fact]
    public void TryDecode_ImageFolderPngOverThePixelLimit_RefusedBeforeDecoding()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tracker-huge-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, TestImages.SolidGreyPng(7000, 7000));
        try
        {
            var (pixels, problem) = ImageFolderDataset.TryDecode(path, 16, grayscale: false);

            Assert.Null(pixels);
            Assert.Equal("too large to decode (7000×7000 pixels; at most 40,000,000)", problem);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] Length(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }
}
