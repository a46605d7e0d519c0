using Tracker.Core.Tracking;

namespace Tracker.Core.Tests;

/// <summary>The page tokens of searches (MLflow's form: base64 of an offset).</summary>
public sealed class PageTokenTests
{
    [Fact]
    public void PageToken_RoundTripsAndRejectsGarbage()
    {
        string token = PageToken.Encode(40);
        Assert.True(PageToken.TryDecode(token, out int offset, out _));
        Assert.Equal(40, offset);
        Assert.True(PageToken.TryDecode(null, out offset, out _));
        Assert.Equal(0, offset);
        foreach (var bad in new[] { "%%%", Convert.ToBase64String("[1]"u8.ToArray()), Convert.ToBase64String("{\"offset\":-3}"u8.ToArray()), Convert.ToBase64String("{\"o\":1}"u8.ToArray()) })
        {
            Assert.False(PageToken.TryDecode(bad, out _, out var error));
            Assert.Contains("page token", error);
        }
    }

    [Fact]
    public void PageToken_Slice_NextTokenUntilTheLastPage()
    {
        int[] items = [1, 2, 3, 4, 5];
        var first = PageToken.Slice(items, 0, 2);
        Assert.Equal([1, 2], first.Items);
        Assert.True(PageToken.TryDecode(first.NextPageToken, out int next, out _));
        var last = PageToken.Slice(items, 4, 2);
        Assert.Equal([5], last.Items);
        Assert.Null(last.NextPageToken);
        Assert.Equal(2, next);
        Assert.Null(PageToken.Slice(items, 3, 2).NextPageToken);
    }
}
