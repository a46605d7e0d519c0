using Tracker.Abstractions;

namespace Tracker.Abstractions.Tests;

public sealed class SamplingTests
{
    private const int N = 10_000;

    [Fact]
    public void Sample_TenThousandDraws_StayInDomain()
    {
        var space = Spaces.Rich();

        foreach (var sample in Spaces.Samples(space, N, seed: 1))
        {
            Assert.Null(space.Check(sample));
            foreach (var (name, value) in sample)
                Assert.Null(space[name]!.Check(value));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sample_Float_StaysWithinBounds(bool log)
    {
        var values = Spaces.Samples(Spaces.LearningRate(log), N, seed: 2);

        Assert.All(values, v => Assert.InRange(v, 1e-4, 1e-1));
    }

    [Fact]
    public void Sample_LogFloat_IsLogUniform()
    {
        var values = Spaces.Samples(Spaces.LearningRate(log: true), N, seed: 3);
        double geometricMean = Math.Sqrt(1e-4 * 1e-1); // ~3.16e-3, the median of a log-uniform [1e-4, 1e-1]

        double belowMedian = values.Count(v => v < geometricMean) / (double)N;
        // One decade each: [1e-4, 1e-3), [1e-3, 1e-2), [1e-2, 1e-1].
        double[] decades = [values.Count(v => v < 1e-3) / (double)N,
            values.Count(v => v >= 1e-3 && v < 1e-2) / (double)N,
            values.Count(v => v >= 1e-2) / (double)N];

        // The standard error of a proportion of 10,000 draws is at most 0.005; 0.03 is six of them.
        Assert.InRange(belowMedian, 0.47, 0.53);
        Assert.All(decades, share => Assert.InRange(share, 1 / 3.0 - 0.03, 1 / 3.0 + 0.03));
    }

    [Fact]
    public void Sample_LinearFloat_IsUniform()
    {
        var values = Spaces.Samples(Spaces.LearningRate(log: false), N, seed: 4);

        // On a linear scale only ~3% of [1e-4, 1e-1] lies below 3.16e-3, and half lies below the midpoint.
        Assert.InRange(values.Count(v => v < 3.16e-3) / (double)N, 0.015, 0.045);
        Assert.InRange(values.Count(v => v < 0.05005) / (double)N, 0.47, 0.53);
    }

    [Fact]
    public void Sample_IntWithStep_RespectsStepAndHitsEveryValue()
    {
        var batch = Spaces.BatchSize(); // 8, 16, ..., 64

        var values = Spaces.Samples(batch, N, seed: 5);

        Assert.All(values, v => Assert.True(v >= 8 && v <= 64 && (v - 8) % 8 == 0, $"{v} is off the grid"));
        var counts = values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([8.0, 16, 24, 32, 40, 48, 56, 64], counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, N / 8 * 0.85, N / 8 * 1.15));
    }

    [Fact]
    public void Sample_LogInt_StaysInRangeAndHitsBothEnds()
    {
        var width = new IntParameter { Name = "width", Low = 1, High = 16, Log = true };

        var values = Spaces.Samples(width, N, seed: 6);

        Assert.All(values, v => Assert.True(v >= 1 && v <= 16 && v == Math.Floor(v), $"{v} is not an integer of [1, 16]"));
        Assert.Contains(1.0, values);
        Assert.Contains(16.0, values);
        // Log-scaled: small values are much more likely than large ones.
        Assert.True(values.Count(v => v == 1) > 3 * values.Count(v => v == 16));
    }

    [Fact]
    public void Sample_IntOverFullRange_CoversBothHalves()
    {
        var wide = new IntParameter { Name = "n", Low = int.MinValue, High = int.MaxValue };
        Assert.Empty(new SearchSpace([wide]).Validate());

        var values = Spaces.Samples(wide, 1000, seed: 7);

        Assert.All(values, v => Assert.Null(wide.Check(v)));
        Assert.InRange(values.Count(v => v < 0), 400, 600);
    }

    [Fact]
    public void Sample_Choice_HitsEveryValueEvenly()
    {
        var optimizer = Spaces.Optimizer();
        var random = new Random(8);

        var counts = Enumerable.Range(0, N).Select(_ => optimizer.Sample(random).AsString())
            .GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(["adam", "adamw", "sgd"], counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, N / 3 * 0.9, N / 3 * 1.1));
    }

    [Fact]
    public void Sample_ConditionalParameters_PresentOnlyWhenActive()
    {
        var samples = Spaces.Samples(Spaces.Rich(), N, seed: 9);

        foreach (var s in samples)
        {
            bool sgd = s["optimizer"].AsString() == "sgd";
            Assert.Equal(sgd, s.ContainsKey("momentum"));
            Assert.Equal(sgd, s.ContainsKey("schedule"));
            Assert.Equal(sgd && s["schedule"].AsString() == "step", s.ContainsKey("gamma"));
            Assert.True(s.ContainsKey("lr") && s.ContainsKey("batch") && s.ContainsKey("width") && s.ContainsKey("dropout") && s.ContainsKey("layers"));
        }
        // Both branches of each condition occur.
        Assert.Contains(samples, s => s.ContainsKey("gamma"));
        Assert.Contains(samples, s => s.ContainsKey("schedule") && !s.ContainsKey("gamma"));
        Assert.Contains(samples, s => !s.ContainsKey("momentum"));
    }

    [Fact]
    public void Sample_SameSeed_GivesSameSamples()
    {
        var space = Spaces.Rich();

        var first = Spaces.Samples(space, 100, seed: 42);
        var second = Spaces.Samples(space, 100, seed: 42);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Sample_DifferentSeeds_GiveDifferentSamples()
    {
        var space = Spaces.Rich();

        var first = Spaces.Samples(space, 100, seed: 42);
        var second = Spaces.Samples(space, 100, seed: 43);

        Assert.NotEqual(first, second);
        Assert.NotEqual(first.Select(s => s["lr"]), second.Select(s => s["lr"]));
    }

    [Fact]
    public void Sample_EmptySpace_ReturnsEmptyPoint()
    {
        Assert.Empty(SearchSpace.Empty.Sample(new Random(0)));
    }
}
