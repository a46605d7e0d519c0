namespace Tracker.Plugins.Bayesian;

/// <summary>Which acquisition function ranks candidate points.</summary>
internal enum AcquisitionKind
{
    /// <summary>Expected improvement over the best observed value (optimised as log EI).</summary>
    ExpectedImprovement,

    /// <summary>The lower confidence bound μ − √β·σ, negated (the minimisation form of GP-UCB).</summary>
    UpperConfidenceBound,
}

/// <summary>
/// An acquisition function over the encoded unit cube, for a GP of standardised objectives that are minimised. Larger
/// is better. Expected improvement is evaluated as its logarithm, which keeps far-from-incumbent candidates
/// distinguishable (plain EI underflows to 0 there) and has the same maximiser.
/// </summary>
internal sealed class Acquisition(GaussianProcess gp, AcquisitionKind kind, double incumbent, double xi, double beta)
{
    private readonly double sqrtBeta = Math.Sqrt(beta);

    public GaussianProcess Process => gp;

    public double Value(ReadOnlySpan<double> features)
    {
        gp.Predict(features, out double mean, out double variance);
        double sigma = Math.Sqrt(variance);
        return kind == AcquisitionKind.ExpectedImprovement
            ? ExpectedImprovement.Log(mean, sigma, incumbent - xi)
            : -mean + sqrtBeta * sigma;
    }

    /// <summary>The value, and its gradient with respect to the features in <paramref name="gradient"/>.</summary>
    public double Value(ReadOnlySpan<double> features, Span<double> gradient)
    {
        int d = features.Length;
        Span<double> dMean = stackalloc double[d];
        Span<double> dVariance = stackalloc double[d];
        gp.Predict(features, out double mean, out double variance, dMean, dVariance);
        double sigma = Math.Sqrt(Math.Max(variance, 1e-24));
        // ∂σ = ∂var / (2σ)
        if (kind == AcquisitionKind.UpperConfidenceBound)
        {
            for (int c = 0; c < d; c++) gradient[c] = -dMean[c] + sqrtBeta * dVariance[c] / (2 * sigma);
            return -mean + sqrtBeta * sigma;
        }
        double target = incumbent - xi;
        double z = (target - mean) / sigma;
        double value = Math.Log(sigma) + ExpectedImprovement.LogH(z);
        double dLogH = ExpectedImprovement.LogHSlope(z);
        for (int c = 0; c < d; c++)
        {
            double dSigma = dVariance[c] / (2 * sigma);
            double dz = (-dMean[c] - z * dSigma) / sigma;
            gradient[c] = dSigma / sigma + dLogH * dz;
        }
        return value;
    }
}

/// <summary>
/// Closed forms of expected improvement for minimisation: EI = (t − μ)·Φ(z) + σ·φ(z) = σ·h(z) with z = (t − μ)/σ,
/// h(z) = z·Φ(z) + φ(z) and t the target (best value minus ξ).
/// </summary>
internal static class ExpectedImprovement
{
    private const double AsymptoticBelow = -25;

    public static double Value(double mean, double sigma, double target)
    {
        if (sigma <= 0) return Math.Max(0, target - mean);
        double z = (target - mean) / sigma;
        return (target - mean) * Normal.Cdf(z) + sigma * Normal.Pdf(z);
    }

    /// <summary>log EI; −∞ only when σ = 0 and μ ≥ t.</summary>
    public static double Log(double mean, double sigma, double target)
    {
        if (sigma <= 0) return Math.Log(Math.Max(0, target - mean));
        return Math.Log(sigma) + LogH((target - mean) / sigma);
    }

    /// <summary>
    /// log h(z), accurate for every z: directly down to z = −25 (the cancellation in z·Φ(z) + φ(z) costs about z² ulps),
    /// below by the asymptotic series, where h is about φ(z)/z² (truncation error about 1e-12 there).
    /// </summary>
    public static double LogH(double z)
    {
        if (z > AsymptoticBelow) return Math.Log(z * Normal.Cdf(z) + Normal.Pdf(z));
        return Normal.LogPdf(z) + Math.Log(HOverPdfAsymptotic(z));
    }

    /// <summary>d log h / dz = Φ(z)/h(z).</summary>
    public static double LogHSlope(double z)
    {
        if (z > AsymptoticBelow) return Normal.Cdf(z) / (z * Normal.Cdf(z) + Normal.Pdf(z));
        return Normal.CdfOverPdf(z) / HOverPdfAsymptotic(z);
    }

    // h(z)/φ(z) = 1 + z·Φ(z)/φ(z) ~ 1/z² − 3/z⁴ + 15/z⁶ − 105/z⁸ + 945/z¹⁰ − 10395/z¹² as z → −∞.
    private static double HOverPdfAsymptotic(double z)
    {
        double t = 1 / (z * z);
        return t * (1 - t * (3 - t * (15 - t * (105 - t * (945 - t * 10395)))));
    }
}
