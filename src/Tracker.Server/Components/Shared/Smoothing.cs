namespace Tracker.Server.Components.Shared;

/// <summary>
/// TensorBoard's smoothing of a noisy metric series: an exponential moving average, debiased so that its start is not
/// pulled towards zero.
/// </summary>
public static class Smoothing
{
    /// <summary>The greatest weight offered: at 1 the average would never move from its first value.</summary>
    public const double MaxWeight = 0.99;

    /// <summary>
    /// The smoothed values of <paramref name="values"/>, one per value, with <paramref name="weight"/> (clamped to
    /// 0 … <see cref="MaxWeight"/>; 0 gives the values back unchanged) the share each smoothed value keeps of the one
    /// before. The first value is kept as it is. A value that is not finite (NaN, ±∞) is passed through as it is and
    /// leaves the average untouched, so one bad point does not poison the rest of the curve.
    /// </summary>
    public static double[] Ema(IReadOnlyList<double> values, double weight)
    {
        weight = Math.Clamp(double.IsNaN(weight) ? 0 : weight, 0, MaxWeight);
        var smoothed = new double[values.Count];
        double average = 0, debias = 1;
        for (int i = 0; i < values.Count; i++)
        {
            double value = values[i];
            if (!double.IsFinite(value))
            {
                smoothed[i] = value;
                continue;
            }
            // Starting the average at 0 would bias its first values towards 0; dividing by 1 - weight^n (the weight
            // the finite values seen so far carry in the average) removes exactly that bias.
            average = average * weight + (1 - weight) * value;
            debias *= weight;
            smoothed[i] = average / (1 - debias);
        }
        return smoothed;
    }
}
