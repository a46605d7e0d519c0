using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary><see cref="IApiKeyStore"/>: keys by hash, newest first, revocations that a later use never undoes.</summary>
public abstract class ApiKeyStoreConformance : StoreConformance
{
    private static ApiKeyRecord Key(string id, int minutes) =>
        new(id, $"key {id}", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id))), $"trk_{id}", T0.AddMinutes(minutes));

    [Fact]
    public async Task AddApiKeyAsync_Several_ListsNewestFirstAndFindsByHash()
    {
        var old = Key("k1", 0) with { Sha256 = new string('1', 64) };
        var newer = Key("k2", 5) with { Sha256 = new string('2', 64) };
        var middle = Key("k3", 2) with { Sha256 = new string('3', 64) };
        await ApiKeys.AddApiKeyAsync(old);
        await ApiKeys.AddApiKeyAsync(newer);
        await ApiKeys.AddApiKeyAsync(middle);

        Assert.Equal(["k2", "k3", "k1"], (await ApiKeys.ListApiKeysAsync()).Select(k => k.Id));
        Assert.Equal(newer, await ApiKeys.FindApiKeyByHashAsync(new string('2', 64)));
        Assert.Null(await ApiKeys.FindApiKeyByHashAsync(new string('9', 64)));
    }

    [Fact]
    public async Task RevokeApiKeyAsync_Once_MarksItAndASecondRevocationKeepsTheFirstTime()
    {
        await ApiKeys.AddApiKeyAsync(Key("k1", 0));

        var revoked = await ApiKeys.RevokeApiKeyAsync("k1", T0.AddHours(1));
        var again = await ApiKeys.RevokeApiKeyAsync("k1", T0.AddHours(2));

        Assert.Equal(T0.AddHours(1), revoked!.RevokedAt);
        Assert.Equal(T0.AddHours(1), again!.RevokedAt);
        Assert.Equal(T0.AddHours(1), (await ApiKeys.FindApiKeyByHashAsync(Key("k1", 0).Sha256))!.RevokedAt); // found, revoked
        Assert.Null(await ApiKeys.RevokeApiKeyAsync("missing", T0));
    }

    [Fact]
    public async Task RecordApiKeyUseAsync_OnlyLaterTimes_MoveLastUsed()
    {
        await ApiKeys.AddApiKeyAsync(Key("k1", 0));

        await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddMinutes(10));
        await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddMinutes(5));
        await ApiKeys.RecordApiKeyUseAsync("missing", T0);

        Assert.Equal(T0.AddMinutes(10), (await ApiKeys.ListApiKeysAsync()).Single().LastUsedAt);
    }

    [Fact]
    public async Task RecordApiKeyUseAsync_AfterRevoke_DoesNotUndoTheRevocation()
    {
        var key = Key("k1", 0);
        await ApiKeys.AddApiKeyAsync(key);
        await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddMinutes(1));

        await ApiKeys.RevokeApiKeyAsync("k1", T0.AddMinutes(2));
        await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddMinutes(3));

        var stored = (await ApiKeys.FindApiKeyByHashAsync(key.Sha256))!;
        Assert.Equal(T0.AddMinutes(2), stored.RevokedAt);
        Assert.Equal((key.Name, key.Prefix, key.CreatedAt), (stored.Name, stored.Prefix, stored.CreatedAt));
    }

    [Fact]
    public async Task RecordApiKeyUseAsync_RacingARevoke_NeverUndoesIt()
    {
        var key = Key("k1", 0);
        await ApiKeys.AddApiKeyAsync(key);

        var uses = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (int i = 1; i <= 25; i++) await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddSeconds(writer * 100 + i));
        })).ToList();
        var revoke = Task.Run(() => ApiKeys.RevokeApiKeyAsync("k1", T0.AddHours(1)));
        await Task.WhenAll([.. uses, revoke]);

        var stored = (await ApiKeys.FindApiKeyByHashAsync(key.Sha256))!;
        Assert.Equal(T0.AddHours(1), stored.RevokedAt);
        Assert.Equal(T0.AddSeconds(325), stored.LastUsedAt);
    }

    [Fact]
    public async Task ListApiKeysAsync_AfterReopen_KeepsEveryField()
    {
        var key = Key("k1", 0) with { LastUsedAt = T0.AddMinutes(1), RevokedAt = T0.AddMinutes(2) };
        await ApiKeys.AddApiKeyAsync(key);

        await ReopenAsync();

        Assert.Equal([key], await ApiKeys.ListApiKeysAsync());
    }

    [Fact]
    public async Task AddApiKeyAsync_WithRoles_KeepsEach_AndAKeyWithoutOneHasNone()
    {
        var viewer = Key("k1", 0) with { Role = TrackerRole.Viewer };
        var admin = Key("k2", 1) with { Role = TrackerRole.Admin };
        var older = Key("k3", 2); // stored before keys had roles
        await ApiKeys.AddApiKeyAsync(viewer);
        await ApiKeys.AddApiKeyAsync(admin);
        await ApiKeys.AddApiKeyAsync(older);
        await ApiKeys.RevokeApiKeyAsync("k2", T0.AddHours(1));
        await ApiKeys.RecordApiKeyUseAsync("k1", T0.AddHours(2));

        await ReopenAsync();

        Assert.Equal(TrackerRole.Viewer, (await ApiKeys.FindApiKeyByHashAsync(viewer.Sha256))!.Role);
        Assert.Equal(TrackerRole.Admin, (await ApiKeys.FindApiKeyByHashAsync(admin.Sha256))!.Role);
        Assert.Null((await ApiKeys.FindApiKeyByHashAsync(older.Sha256))!.Role);
        Assert.Equal(new TrackerRole?[] { null, TrackerRole.Admin, TrackerRole.Viewer }, (await ApiKeys.ListApiKeysAsync()).Select(k => k.Role));
    }
}
