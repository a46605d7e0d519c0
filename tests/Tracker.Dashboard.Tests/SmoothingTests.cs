using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>TensorBoard's debiased exponential moving average, as the run page smooths its metric charts.</summary>
public sealed class SmoothingTests
{
    private const int Digits = 12;

    [Fact]
    public void Ema_KnownSeries_DebiasedAverages()
    {
        var smoothed = Smoothing.Ema([1, 2, 3], 0.5);

        // 0.5·1 / (1 − 0.5) = 1; (0.25·1 + 0.5·2) / (1 − 0.25) = 5/3; (0.125·1 + 0.25·2 + 0.5·3) / (1 − 0.125) = 17/7.
        Assert.Equal(3, smoothed.Length);
        Assert.Equal(1.0, smoothed[0], Digits);
        Assert.Equal(5.0 / 3, smoothed[1], Digits);
        Assert.Equal(17.0 / 7, smoothed[2], Digits);
    }

    [Theory]
    [InlineData(0.6)]
    [InlineData(0.99)]
    public void Ema_FirstPoint_KeptAsItIs(double weight)
    {
        Assert.Equal(-4.25, Smoothing.Ema([-4.25, 100, 100], weight)[0], Digits);
    }

    [Fact]
    public void Ema_WeightZero_GivesTheValuesBack()
    {
        double[] values = [0.9, 0.1, 0.7, double.NaN, 0.3];

        Assert.Equal(values, Smoothing.Ema(values, 0));
    }

    [Fact]
    public void Ema_NotFiniteValues_PassedThrough_AverageUntouched()
    {
        var smoothed = Smoothing.Ema([1, double.NaN, double.PositiveInfinity, 3], 0.5);

        Assert.Equal(1.0, smoothed[0], Digits);
        Assert.True(double.IsNaN(smoothed[1]));
        Assert.Equal(double.PositiveInfinity, smoothed[2]);
        // As if the series were [1, 3]: (0.25·1 + 0.5·3) / (1 − 0.25) = 7/3.
        Assert.Equal(7.0 / 3, smoothed[3], Digits);
    }

    [Fact]
    public void Ema_WeightOutOfRange_Clamped()
    {
        double[] values = [5, 1, 4, 2, 3];

        Assert.Equal(Smoothing.Ema(values, Smoothing.MaxWeight), Smoothing.Ema(values, 1.0));
        Assert.Equal(values, Smoothing.Ema(values, -0.5));
        Assert.Equal(values, Smoothing.Ema(values, double.NaN));
        Assert.Empty(Smoothing.Ema([], 0.6));
    }

    [Fact]
    public void Ema_ConstantSeries_StaysConstant()
    {
        Assert.All(Smoothing.Ema([2.5, 2.5, 2.5, 2.5], 0.9), v => Assert.Equal(2.5, v, Digits));
    }
}
