using Tracker.Server.SavedViews;

namespace Tracker.Dashboard.Tests;

/// <summary>A damaged views file is reported, never overwritten by the next save.</summary>
public sealed class SavedViewsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-views-").FullName;

    [Fact]
    public async Task DamagedFile_ReadAndSaveRefused_FileLeftAsItWas()
    {
        string path = Path.Combine(folder, "saved-views.json");
        await File.WriteAllTextAsync(path, "[{\"name\": \"mine\", \"url\"", Xunit.TestContext.Current.CancellationToken);
        var views = new JsonFileSavedViews(path);

        await Assert.ThrowsAsync<InvalidDataException>(() => views.ListAsync(Xunit.TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<InvalidDataException>(() => views.SaveAsync(new SavedView("other", "/runs", DateTimeOffset.UtcNow), Xunit.TestContext.Current.CancellationToken));

        Assert.Equal("[{\"name\": \"mine\", \"url\"", await File.ReadAllTextAsync(path, Xunit.TestContext.Current.CancellationToken));
        Assert.Equal(["saved-views.json"], Directory.GetFiles(folder).Select(Path.GetFileName)); // no temporary file left behind
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
