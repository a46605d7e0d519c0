using Tracker.Storage.Tests.Infrastructure;
using static Tracker.Storage.Tests.Infrastructure.Samples;

namespace Tracker.Storage.Tests.Conformance;

/// <summary><see cref="IMetricStore"/>: appends, pages by cursor, downsampling and the latest value of each key.</summary>
public abstract class MetricStoreConformance : StoreConformance
{
    private async Task<List<MetricPoint>> ReadAllAsync(string trialId, string key, int pageSize)
    {
        var all = new List<MetricPoint>();
        var cursor = MetricCursor.Start;
        for (int pages = 0; ; pages++)
        {
            Assert.True(pages < 100_000, "The pages never end.");
            var page = await Metrics.ReadMetricsAsync(trialId, key, cursor, pageSize);
            Assert.InRange(page.Points.Count, 0, pageSize);
            all.AddRange(page.Points);
            if (page.Next is not { } next) return all;
            Assert.NotEmpty(page.Points); // a page that gives nothing must be the last
            // Every next page goes through its token, as a client would send it back.
            Assert.True(MetricCursor.TryParse(next.ToToken(), out cursor));
            Assert.Equal(next, cursor);
        }
    }

    /// <summary>
    /// 5,500 points of one series in five appends, steps out of order across the calls and within them, and step 2,500
    /// holding 1,201 points (more than a page); returns the points in the order a reader must see them.
    /// </summary>
    private async Task<List<MetricPoint>> AppendLongSeriesAsync(string trialId, string key)
    {
        var random = new Random(2024);
        int seq = 0;
        MetricPoint Next(int step) { int s = seq++; return new MetricPoint(trialId, key, step, s + random.NextDouble() / 2, T0.AddMilliseconds(s)); }
        List<List<MetricPoint>> batches =
        [
            Enumerable.Range(3000, 1300).Select(Next).ToList(),                                   // the end first
            Enumerable.Range(0, 1000).Reverse().Select(Next).ToList(),                            // the start, backwards
            [.. Enumerable.Repeat(2500, 600).Select(Next), .. Enumerable.Range(1000, 1000).Select(Next)],
            Enumerable.Range(2000, 1000).OrderBy(_ => random.Next()).Select(Next).ToList(),       // shuffled, with one more 2500
            Enumerable.Repeat(2500, 600).Select(Next).ToList(),
        ];
        Assert.Equal(5500, batches.Sum(b => b.Count));
        foreach (var batch in batches) await Metrics.AppendMetricsAsync(batch);
        // Logged order = the order of the calls, then of the points within a call; values grow with it.
        return batches.SelectMany(b => b).OrderBy(p => p.Step).ThenBy(p => p.Value).ToList();
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(777)]
    public async Task ReadMetricsAsync_PagesOfLongSeries_EveryPointOnceInStepThenLoggingOrder(int pageSize)
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        var expected = await AppendLongSeriesAsync("t1", "loss");
        await Metrics.AppendMetricsAsync([Point("t1", "other", 2500, -1), Point("t2", "loss", 2500, -2)]);

        var read = await ReadAllAsync("t1", "loss", pageSize);

        Assert.Equal(5500, read.Count);
        Assert.Equal(expected.Select(Tuple), read.Select(Tuple));
    }

    [Fact]
    public async Task ReadMetricsAsync_FromAMidStepCursor_ResumesAfterTheSkippedPoints()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Metrics.AppendMetricsAsync([Point("t1", "m", 1, 1), Point("t1", "m", 2, 2), Point("t1", "m", 2, 3), Point("t1", "m", 2, 4), Point("t1", "m", 5, 5)]);

        var fromStep2 = await Metrics.ReadMetricsAsync("t1", "m", new MetricCursor(2), 10);
        var skipTwo = await Metrics.ReadMetricsAsync("t1", "m", new MetricCursor(2, 2), 10);
        var fromGap = await Metrics.ReadMetricsAsync("t1", "m", new MetricCursor(3), 10);
        var pastEnd = await Metrics.ReadMetricsAsync("t1", "m", new MetricCursor(6), 10);

        Assert.Equal([2.0, 3, 4, 5], fromStep2.Points.Select(p => p.Value));
        Assert.Equal([4.0, 5], skipTwo.Points.Select(p => p.Value));
        Assert.Equal([5.0], fromGap.Points.Select(p => p.Value));
        Assert.Null(fromGap.Next);
        Assert.Empty(pastEnd.Points);
        Assert.Null(pastEnd.Next);
    }

    [Fact]
    public async Task ReadMetricsAsync_PageEndsInsideAStep_NextSkipsWhatWasGiven()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Metrics.AppendMetricsAsync(Enumerable.Range(0, 5).Select(i => Point("t1", "m", 7, i)).Append(Point("t1", "m", 8, 99)).ToList());

        var first = await Metrics.ReadMetricsAsync("t1", "m", MetricCursor.Start, 3);
        var second = await Metrics.ReadMetricsAsync("t1", "m", first.Next!.Value, 3);

        Assert.Equal([0.0, 1, 2], first.Points.Select(p => p.Value));
        Assert.Equal(new MetricCursor(7, 3), first.Next);
        Assert.Equal([3.0, 4, 99], second.Points.Select(p => p.Value));
        Assert.Null(second.Next);
    }

    [Fact]
    public async Task ReadMetricsAsync_MissingSeries_EmptyLastPage()
    {
        var page = await Metrics.ReadMetricsAsync("none", "loss", MetricCursor.Start, 100);

        Assert.Empty(page.Points);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task AppendMetricsAsync_SeveralTrialsAndKeys_KeepsValuesTimesAndSeries()
    {
        await Trials.SaveTrialsAsync([Trial("t1"), Trial("t2", number: 1)]);
        await Metrics.AppendMetricsAsync(
        [
            new MetricPoint("t1", "val_loss", 2, 0.75, T0.AddSeconds(2)),
            new MetricPoint("t1", "val_loss", 1, 0.9, T0.AddSeconds(1)),
            new MetricPoint("t1", "train_loss", 2, 0.5, T0.AddSeconds(2)),
            new MetricPoint("t2", "val_loss", 1, 0.1, T0),
        ]);
        await Metrics.AppendMetricsAsync([new MetricPoint("t1", "train_loss", 1, 0.123456789012345678, T0.AddSeconds(1).ToOffset(TimeSpan.FromHours(3))), Point("t1", "val_loss", 10, 0.7)]);
        await Metrics.AppendMetricsAsync([]);

        var train = (await Metrics.ReadMetricsAsync("t1", "train_loss", MetricCursor.Start, 100)).Points;
        var val = (await Metrics.ReadMetricsAsync("t1", "val_loss", MetricCursor.Start, 100)).Points;

        Assert.Equal([(1, 0.123456789012345678), (2, 0.5)], train.Select(p => (p.Step, p.Value)));
        Assert.All(train.Concat(val), p => Assert.Equal("t1", p.TrialId));
        Assert.Equal(T0.AddSeconds(1).UtcTicks, train[0].Timestamp.UtcTicks); // whole milliseconds survive exactly
        Assert.Equal(["train_loss", "train_loss"], train.Select(p => p.Key));
        Assert.Equal([0.9, 0.75, 0.7], val.Select(p => p.Value));
        Assert.Equal([0.1], (await Metrics.ReadMetricsAsync("t2", "val_loss", MetricCursor.Start, 100)).Points.Select(p => p.Value));
        Assert.Empty((await Metrics.ReadMetricsAsync("t1", "val_accuracy", MetricCursor.Start, 100)).Points);
    }

    [Fact]
    public async Task AppendMetricsAsync_NegativeAndNonFiniteValues_RoundTrip()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Metrics.AppendMetricsAsync([Point("t1", "m", -5, double.NaN), Point("t1", "m", 0, double.PositiveInfinity), Point("t1", "m", 3, -1e-300)]);

        var points = (await Metrics.ReadMetricsAsync("t1", "m", MetricCursor.Start, 10)).Points;

        Assert.Equal([-5, 0, 3], points.Select(p => p.Step));
        Assert.True(double.IsNaN(points[0].Value));
        Assert.Equal(double.PositiveInfinity, points[1].Value);
        Assert.Equal(-1e-300, points[2].Value);
    }

    [Fact]
    public async Task SaveTrialAsync_WithPoints_StoresTrialPointsAndLatestTogether()
    {
        var points = new[] { Point("t1", "acc", 1, 0.5), Point("t1", "acc", 2, 0.75), Point("t1", "loss", 1, 0.9) };

        await Trials.SaveTrialAsync(Trial("t1", state: TrialState.Running) with { EpochsDone = 2 }, points);

        Assert.Equal(2, (await Trials.GetTrialAsync("t1"))!.EpochsDone);
        Assert.Equal([0.5, 0.75], (await Metrics.ReadMetricsAsync("t1", "acc", MetricCursor.Start, 10)).Points.Select(p => p.Value));
        Assert.Equal([("acc", 2, 0.75), ("loss", 1, 0.9)], (await Metrics.LatestMetricsAsync("t1")).Select(p => (p.Key, p.Step, p.Value)));

        await Trials.SaveTrialAsync(Trial("t1", state: TrialState.Completed) with { EpochsDone = 3 }, [Point("t1", "acc", 3, 0.8)]);

        Assert.Equal([0.5, 0.75, 0.8], (await Metrics.ReadMetricsAsync("t1", "acc", MetricCursor.Start, 10)).Points.Select(p => p.Value));
    }

    [Fact]
    public async Task LatestMetricsAsync_MlflowRule_GreaterStepThenLaterTimeThenGreaterValue()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Metrics.AppendMetricsAsync(
        [
            Point("t1", "a", 7, 2.0, T0.AddSeconds(1)),
            Point("t1", "b", 4, 1.0, T0.AddSeconds(3)),
            Point("t1", "c", 2, 3.0, T0.AddSeconds(1)),
            Point("t1", "Z", 1, 42, T0),
        ]);
        // Logged later, but older by the rule: none of these replaces the above.
        await Metrics.AppendMetricsAsync(
        [
            Point("t1", "a", 5, 1.0, T0.AddSeconds(10)),
            Point("t1", "a", 3, 9.0, T0.AddSeconds(20)),
            Point("t1", "b", 4, 5.0, T0.AddSeconds(1)),
            Point("t1", "b", 4, 7.0, T0.AddSeconds(2)),
            Point("t1", "c", 2, 1.0, T0.AddSeconds(1)),
            Point("t1", "c", 2, 2.0, T0.AddSeconds(1)),
        ]);
        await Metrics.AppendMetricsAsync([Point("t2", "a", 100, 100)]);

        var latest = await Metrics.LatestMetricsAsync("t1");

        Assert.Equal([("Z", 1, 42.0), ("a", 7, 2.0), ("b", 4, 1.0), ("c", 2, 3.0)], latest.Select(p => (p.Key, p.Step, p.Value)));
        Assert.Equal(T0.AddSeconds(3).UtcTicks, latest[2].Timestamp.UtcTicks);
        Assert.All(latest, p => Assert.Equal("t1", p.TrialId));
        Assert.Empty(await Metrics.LatestMetricsAsync("none"));
    }

    [Fact]
    public async Task LatestMetricsAsync_NewerPointLater_ReplacesTheLatest()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        await Metrics.AppendMetricsAsync([Point("t1", "a", 1, 1.0)]);
        await Metrics.AppendMetricsAsync([Point("t1", "a", 1, 0.5, T0.AddSeconds(5))]);
        var sameStepLater = Assert.Single(await Metrics.LatestMetricsAsync("t1"));
        await Metrics.AppendMetricsAsync([Point("t1", "a", 2, -3.0, T0)]);

        var greaterStep = Assert.Single(await Metrics.LatestMetricsAsync("t1"));

        Assert.Equal((1, 0.5), (sameStepLater.Step, sameStepLater.Value));
        Assert.Equal((2, -3.0), (greaterStep.Step, greaterStep.Value));
    }

    [Fact]
    public async Task ReadMetricsDownsampledAsync_LongSeriesWithSpikes_KeepsEndsAndExtremesOfItsOwnPoints()
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        var random = new Random(7);
        var series = Enumerable.Range(1, 5000).Select(step => Point("t1", "loss", step, Math.Sin(step / 100.0) + random.NextDouble() * 0.1)).ToList();
        series[1233] = series[1233] with { Value = 1000 };   // a spike up
        series[3776] = series[3776] with { Value = -1000 };  // and one down
        await Metrics.AppendMetricsAsync(series.Skip(2500).ToList());
        await Metrics.AppendMetricsAsync(series.Take(2500).ToList());

        var thinned = await Metrics.ReadMetricsDownsampledAsync("t1", "loss", 100);

        Assert.InRange(thinned.Count, 4, 100);
        var own = series.Select(Tuple).ToHashSet();
        Assert.All(thinned, p => Assert.Contains(Tuple(p), own));
        Assert.Equal(thinned.Select(p => p.Step).Order(), thinned.Select(p => p.Step));
        Assert.Equal(thinned.Count, thinned.Select(p => p.Step).Distinct().Count());
        Assert.Equal(Tuple(series[0]), Tuple(thinned[0]));
        Assert.Equal(Tuple(series[^1]), Tuple(thinned[^1]));
        Assert.Contains(thinned, p => p.Step == 1234 && p.Value == 1000);
        Assert.Contains(thinned, p => p.Step == 3777 && p.Value == -1000);
    }

    [Theory]
    [InlineData(50, 100)]
    [InlineData(100, 100)]
    [InlineData(4, 4)]
    public async Task ReadMetricsDownsampledAsync_SeriesNoLongerThanMax_ComesBackWhole(int length, int maxPoints)
    {
        await Trials.SaveTrialAsync(Trial("t1"));
        var series = Enumerable.Range(0, length).Select(i => Point("t1", "m", i / 2, i * 1.5)).ToList(); // two points a step
        await Metrics.AppendMetricsAsync(series);

        var whole = await Metrics.ReadMetricsDownsampledAsync("t1", "m", maxPoints);

        Assert.Equal(series.Select(Tuple), whole.Select(Tuple));
    }

    [Fact]
    public async Task ReadMetricsDownsampledAsync_MissingSeries_IsEmpty()
    {
        Assert.Empty(await Metrics.ReadMetricsDownsampledAsync("none", "m", 100));
    }

    [Fact]
    public async Task AppendMetricsAsync_ConcurrentAppends_KeepEveryPointAndEachCallsOrder()
    {
        await Trials.SaveTrialAsync(Trial("t1"));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (int call = 0; call < 10; call++)
                await Metrics.AppendMetricsAsync(Enumerable.Range(0, 20).Select(i => Point("t1", "m", 1, writer * 1000 + call * 20 + i)).ToList());
        })));

        var points = await ReadAllAsync("t1", "m", 150);
        Assert.Equal(1600, points.Count);
        foreach (var writer in points.GroupBy(p => (int)p.Value / 1000))
            Assert.Equal(writer.Select(p => p.Value).Order(), writer.Select(p => p.Value)); // each writer's points in its logging order
    }
}

/// <summary>The page token of a series (no store involved).</summary>
public sealed class MetricCursorTests
{
    [Theory]
    [InlineData(0, 0, "0")]
    [InlineData(1234, 0, "1234")]
    [InlineData(-5, 0, "-5")]
    [InlineData(7, 3, "7:3")]
    [InlineData(int.MinValue, 0, "-2147483648")]
    [InlineData(int.MaxValue, 999, "2147483647:999")]
    public void ToToken_ThenTryParse_RoundTrips(int step, int skip, string token)
    {
        var cursor = new MetricCursor(step, skip);

        Assert.Equal(token, cursor.ToToken());
        Assert.True(MetricCursor.TryParse(token, out var parsed));
        Assert.Equal(cursor, parsed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryParse_NullOrEmpty_IsTheStart(string? token)
    {
        Assert.True(MetricCursor.TryParse(token, out var cursor));
        Assert.Equal(MetricCursor.Start, cursor);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("1:2:3")]
    [InlineData("1:-2")]
    [InlineData("1:")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public void TryParse_Garbage_Fails(string token)
    {
        Assert.False(MetricCursor.TryParse(token, out _));
    }
}
