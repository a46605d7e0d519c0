using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using Tracker.Core.Storage;
using Tracker.Storage.LiteDb;
using Tracker.Server.Components.Pages;
using Tracker.Server.Security;

namespace Tracker.Dashboard.Tests;

/// <summary>The API keys page over a real LiteDB store and the real key service, with one configured key.</summary>
public sealed class ApiKeysPageTests : BunitContext
{
    private readonly string folder = Directory.CreateTempSubdirectory("tracker-dashboard-").FullName;
    private readonly LiteDbStore store;

    public ApiKeysPageTests()
    {
        store = new LiteDbStore(Path.Combine(folder, "tracker.db"));
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IExperimentStore>(store);
        Services.AddSingleton<ITrialStore>(store);
        Services.AddSingleton<IMetricStore>(store);
        Services.AddSingleton<IEvaluationStore>(store);
        Services.AddSingleton<IArtifactStore>(store);
        Services.AddSingleton<IApiKeyStore>(store);
        Services.AddSingleton(new TrackerStores(store, store, store, store, store, store));
        Services.AddSingleton(Options.Create(new SecurityOptions
        {
            ApiKeys = [new ConfiguredApiKey { Name = "ci", Sha256 = ApiKeyService.Hash("trk_configured") }],
        }));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton<ApiKeyService>();
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        store.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private IRenderedComponent<ApiKeysPage> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<ApiKeysPage>();
    }

    private static string[] Column(IRenderedComponent<ApiKeysPage> cut, string testId) =>
        cut.FindAll($"[data-testid={testId}]").Select(e => e.TextContent.Trim()).ToArray();

    [Fact]
    public void Render_ConfiguredKey_ListedByNameWithoutPrefixOrRevokeButton()
    {
        var cut = RenderPage();

        Assert.Equal(["ci"], Column(cut, "key-row-name"));
        Assert.Equal(["config"], Column(cut, "key-source"));
        Assert.Equal(["(hash in configuration)"], Column(cut, "key-prefix"));
        Assert.Equal(["never"], Column(cut, "key-last-used"));
        Assert.Empty(cut.FindAll("[data-testid=revoke-key]"));
        Assert.Contains("Security:Reads is OpenOnLoopback", cut.Find("[data-testid=key-rule]").TextContent);
    }

    [Fact]
    public async Task Create_Named_ShowsTheKeyOnceAndStoresOnlyItsHash()
    {
        var cut = RenderPage();

        cut.Find("input[data-testid=key-name], [data-testid=key-name] input").Input("laptop");
        cut.Find("[data-testid=create-key]").Click();

        string key = cut.WaitForElement("[data-testid=new-key]").TextContent.Trim();
        Assert.Matches("^trk_[A-Za-z0-9_-]{32}$", key);
        var stored = Assert.Single(await store.ListApiKeysAsync());
        Assert.Equal(("laptop", ApiKeyService.Hash(key), key[..8], TrackerRole.Editor), (stored.Name, stored.Sha256, stored.Prefix, stored.Role)); // editor unless chosen otherwise
        Assert.Equal(["ci", "laptop"], Column(cut, "key-row-name")); // configured keys first
        Assert.Equal(["editor", "editor"], Column(cut, "key-role")); // a configured key without a role is an editor
        Assert.Contains($"{key[..8]}…", Column(cut, "key-prefix"));
        Assert.Contains("shown only this once", cut.Find("[data-testid=created-key]").TextContent);

        cut.Find("[data-testid=copy-key]").Click();
        Assert.Equal(key, JSInterop.VerifyInvoke("navigator.clipboard.writeText").Arguments.Single());

        // Another render of the page (a reload) no longer has the key: only its prefix.
        var again = Render<ApiKeysPage>();
        Assert.Empty(again.FindAll("[data-testid=new-key]"));
        Assert.DoesNotContain(key, again.Markup);
    }

    [Fact]
    public async Task Create_EmptyName_SaysWhatIsMissingAndStoresNothing()
    {
        var cut = RenderPage();

        cut.Find("input[data-testid=key-name], [data-testid=key-name] input").Input("   ");
        cut.Find("[data-testid=create-key]").Click();

        cut.WaitForAssertion(() => Assert.Contains("A key needs a name", cut.Markup));
        Assert.Empty(await store.ListApiKeysAsync());
        Assert.Empty(cut.FindAll("[data-testid=new-key]"));
    }

    [Fact]
    public async Task Revoke_Confirmed_KeyRefusedAndShownRevoked()
    {
        var keys = Services.GetRequiredService<ApiKeyService>();
        var created = await keys.CreateAsync("old box", TrackerRole.Editor);
        var dialogs = Render<MudDialogProvider>();
        var cut = RenderPage();

        cut.Find("[data-testid=revoke-key]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Revoke \"old box\"?", dialogs.Markup));
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Revoke").Click();

        cut.WaitForAssertion(() => Assert.StartsWith("revoked", Column(cut, "key-status")[1]));
        Assert.NotNull((await store.ListApiKeysAsync()).Single().RevokedAt);
        Assert.Null(await keys.AuthenticateAsync(created.Key));
        Assert.Empty(cut.FindAll("[data-testid=revoke-key]"));
    }
}
