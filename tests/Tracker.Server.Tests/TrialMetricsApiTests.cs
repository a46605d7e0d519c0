using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;

namespace Tracker.Server.Tests;

/// <summary>
/// <c>GET /api/trials/{id}/metrics</c> reads by range: pages of at most <c>maxResults</c> points across the trial's
/// keys (in ordinal order), a token for the next page, and a 400 problem for a token it did not give.
/// </summary>
public sealed class TrialMetricsApiTests(TrialMetricsApiTests.Server server) : IClassFixture<TrialMetricsApiTests.Server>
{
    /// <summary>A finished experiment with one trial: <c>acc</c> at steps 1–3, <c>loss</c> at steps 1–5 with two points at step 3.</summary>
    public sealed class Server() : ServerFixture(ServerBackend.LiteDb)
    {
        protected override async Task StartedAsync(TrackerServerFactory factory)
        {
            var store = factory.Services.GetRequiredService<TrackerStores>();
            var t0 = new DateTimeOffset(2025, 5, 1, 8, 0, 0, TimeSpan.Zero);
            await store.Experiments.SaveExperimentAsync(new Experiment { Id = "m", CreatedAt = t0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "paged", Model = "small-cnn", Strategy = "random" } });
            await store.Trials.SaveTrialAsync(new Trial { Id = "m-0", ExperimentId = "m", Number = 0, Parameters = [], State = TrialState.Completed, Epochs = 5, CreatedAt = t0 });
            var points = new List<MetricPoint>();
            for (int s = 1; s <= 3; s++) points.Add(new MetricPoint("m-0", "acc", s, s / 10.0, t0.AddSeconds(s)));
            for (int s = 1; s <= 5; s++) points.Add(new MetricPoint("m-0", "loss", s, 10 - s, t0.AddSeconds(s)));
            points.Add(new MetricPoint("m-0", "loss", 3, 6.5, t0.AddSeconds(3.5)));
            await store.Metrics.AppendMetricsAsync(points);
        }
    }

    private readonly HttpClient client = server.Client;

    private async Task<(Dictionary<string, List<(int Step, double Value)>> Series, string? Next)> GetAsync(string query)
    {
        var body = await client.GetFromJsonAsync<JsonElement>("/api/trials/m-0/metrics" + query, Api.Json, TestContext.Current.CancellationToken);
        var series = body.GetProperty("series").EnumerateObject().ToDictionary(p => p.Name,
            p => p.Value.EnumerateArray().Select(v => (v.GetProperty("step").GetInt32(), v.GetProperty("value").GetDouble())).ToList());
        var next = body.GetProperty("nextPageToken");
        return (series, next.ValueKind == JsonValueKind.Null ? null : next.GetString());
    }

    [Fact]
    public async Task NoPaging_EverySeriesWhole_NoToken()
    {
        var (series, next) = await GetAsync("");

        Assert.Equal(["acc", "loss"], series.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([(1, 0.1), (2, 0.2), (3, 0.3)], series["acc"]);
        Assert.Equal([(1, 9.0), (2, 8.0), (3, 7.0), (3, 6.5), (4, 6.0), (5, 5.0)], series["loss"]);
        Assert.Null(next);
    }

    [Fact]
    public async Task OneKeyInPagesOfTwo_PagesSplitTheStepWithTwoPoints_AndTheLastHasNoToken()
    {
        var (page1, next1) = await GetAsync("?key=loss&maxResults=2");
        Assert.Equal([(1, 9.0), (2, 8.0)], page1["loss"]);
        Assert.Equal("loss@3", next1);

        var (page2, next2) = await GetAsync($"?key=loss&maxResults=2&pageToken={Uri.EscapeDataString(next1!)}");
        Assert.Equal([(3, 7.0), (3, 6.5)], page2["loss"]);
        Assert.Equal("loss@4", next2);

        var (page3, next3) = await GetAsync($"?key=loss&maxResults=2&pageToken={Uri.EscapeDataString(next2!)}");
        Assert.Equal([(4, 6.0), (5, 5.0)], page3["loss"]);
        Assert.Null(next3);
    }

    [Fact]
    public async Task AllKeysInPagesOfFour_APageSpansTwoKeys_TokenNamesTheKeyItStopsIn()
    {
        var (page1, next1) = await GetAsync("?maxResults=4");
        Assert.Equal([(1, 0.1), (2, 0.2), (3, 0.3)], page1["acc"]);
        Assert.Equal([(1, 9.0)], page1["loss"]);
        Assert.Equal("loss@2", next1);

        var (page2, next2) = await GetAsync($"?maxResults=4&pageToken={Uri.EscapeDataString(next1!)}");
        Assert.Equal(["loss"], page2.Keys);
        Assert.Equal([(2, 8.0), (3, 7.0), (3, 6.5), (4, 6.0)], page2["loss"]);
        Assert.Equal("loss@5", next2);

        var (page3, next3) = await GetAsync($"?maxResults=4&pageToken={Uri.EscapeDataString(next2!)}");
        Assert.Equal([(5, 5.0)], page3["loss"]);
        Assert.Null(next3);
    }

    [Fact]
    public async Task APageEndingWithAKey_TokenStartsTheNextKey()
    {
        var (page1, next1) = await GetAsync("?maxResults=3");
        Assert.Equal(["acc"], page1.Keys);
        Assert.Equal("loss@", next1);

        var (page2, next2) = await GetAsync($"?maxResults=6&pageToken={Uri.EscapeDataString(next1!)}");
        Assert.Equal(6, page2["loss"].Count);
        Assert.Null(next2);
    }

    [Theory]
    [InlineData("?pageToken=nonsense", "pageToken")]
    [InlineData("?pageToken=loss%40x", "pageToken")]
    [InlineData("?pageToken=nokey%402", "pageToken")]
    [InlineData("?key=acc&pageToken=loss%402", "pageToken")]
    [InlineData("?maxResults=0", "maxResults")]
    [InlineData("?maxResults=25001", "maxResults")]
    public async Task BadPaging_400ProblemNamingTheField(string query, string field)
    {
        using var response = await client.GetAsync("/api/trials/m-0/metrics" + query, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}
