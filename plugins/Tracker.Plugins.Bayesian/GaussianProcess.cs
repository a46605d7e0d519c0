namespace Tracker.Plugins.Bayesian;

/// <summary>Hyperparameters of the Matérn 5/2 ARD kernel plus observation noise.</summary>
/// <param name="LengthScales">One length scale per input dimension (ARD).</param>
/// <param name="SignalVariance">The prior variance of the latent function.</param>
/// <param name="NoiseVariance">The variance of the observation noise (the nugget).</param>
internal sealed record KernelParameters(double[] LengthScales, double SignalVariance, double NoiseVariance)
{
    /// <summary>Packs into the fitting vector [log ℓ₁ … log ℓ_d, log s², log σ²ₙ].</summary>
    public double[] ToLog() => [.. LengthScales.Select(l => Math.Log(l)), Math.Log(SignalVariance), Math.Log(NoiseVariance)];

    public static KernelParameters FromLog(ReadOnlySpan<double> theta)
    {
        int d = theta.Length - 2;
        var lengths = new double[d];
        for (int k = 0; k < d; k++) lengths[k] = Math.Exp(theta[k]);
        return new KernelParameters(lengths, Math.Exp(theta[d]), Math.Exp(theta[d + 1]));
    }
}

/// <summary>
/// The Matérn 5/2 kernel k(r) = s²(1 + √5r + 5r²/3)·exp(−√5r), with r² = Σ_d (x_d − x'_d)²/ℓ_d².
/// </summary>
internal static class Matern52
{
    private static readonly double Sqrt5 = Math.Sqrt(5);

    /// <summary>
    /// Returns k/s² for the scaled squared distance <paramref name="r2"/>, and in <paramref name="slope"/> the factor
    /// (5/3)(1 + √5r)·exp(−√5r), with which ∂k/∂x_d = −s²·slope·Δ_d/ℓ_d² and ∂k/∂log ℓ_d = s²·slope·Δ_d²/ℓ_d².
    /// Both are smooth at r = 0, unlike ∂k/∂r.
    /// </summary>
    public static double Correlation(double r2, out double slope)
    {
        double a = Sqrt5 * Math.Sqrt(r2);
        double e = Math.Exp(-a);
        slope = 5.0 / 3.0 * (1 + a) * e;
        return (1 + a + a * a / 3) * e;
    }
}

/// <summary>
/// A Gaussian-process posterior with fixed hyperparameters: training inputs (row-major n×d), the Cholesky factor of
/// K + σ²ₙI and K⁻¹y. Immutable; predictions are of the latent function (noise-free).
/// </summary>
internal sealed class GaussianProcess
{
    private readonly double[] x;
    private readonly double[] cholesky;
    private readonly double[] alpha;
    private readonly double[] inverseSquaredLengths;

    private GaussianProcess(double[] x, int n, int d, KernelParameters parameters, double[] cholesky, double[] alpha)
    {
        (this.x, Count, Dimensions, Parameters, this.cholesky, this.alpha) = (x, n, d, parameters, cholesky, alpha);
        inverseSquaredLengths = parameters.LengthScales.Select(l => 1 / (l * l)).ToArray();
    }

    public int Count { get; }

    public int Dimensions { get; }

    public KernelParameters Parameters { get; }

    /// <summary>Conditions the prior on (x, y); returns null when K + σ²ₙI cannot be factored even with jitter.</summary>
    public static GaussianProcess? Create(double[] x, int n, int d, double[] y, KernelParameters parameters)
    {
        var k = Covariance(x, n, d, parameters);
        var l = new double[n * n];
        if (double.IsNaN(LinearAlgebra.CholeskyWithJitter(k, n, l))) return null;
        var alpha = (double[])y.Clone();
        LinearAlgebra.CholeskySolve(l, n, alpha);
        return new GaussianProcess(x, n, d, parameters, l, alpha);
    }

    /// <summary>K(X, X) + σ²ₙI.</summary>
    public static double[] Covariance(double[] x, int n, int d, KernelParameters parameters)
    {
        var inv = parameters.LengthScales.Select(l => 1 / (l * l)).ToArray();
        double s2 = parameters.SignalVariance;
        var k = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            k[i * n + i] = s2 + parameters.NoiseVariance;
            for (int j = 0; j < i; j++)
            {
                double r2 = 0;
                for (int c = 0; c < d; c++)
                {
                    double delta = x[i * d + c] - x[j * d + c];
                    r2 += delta * delta * inv[c];
                }
                k[i * n + j] = k[j * n + i] = s2 * Matern52.Correlation(r2, out _);
            }
        }
        return k;
    }

    /// <summary>The posterior mean and variance of the latent function at <paramref name="point"/>.</summary>
    public void Predict(ReadOnlySpan<double> point, out double mean, out double variance) =>
        Predict(point, out mean, out variance, [], []);

    /// <summary>
    /// The posterior mean and variance at <paramref name="point"/>, and when the spans are not empty their gradients
    /// with respect to the point.
    /// </summary>
    public void Predict(ReadOnlySpan<double> point, out double mean, out double variance, Span<double> meanGradient, Span<double> varianceGradient)
    {
        int n = Count, d = Dimensions;
        double s2 = Parameters.SignalVariance;
        bool gradients = !meanGradient.IsEmpty;
        Span<double> k = n <= 512 ? stackalloc double[n] : new double[n];
        Span<double> slopes = gradients ? (n <= 512 ? stackalloc double[n] : new double[n]) : [];
        mean = 0;
        for (int i = 0; i < n; i++)
        {
            double r2 = 0;
            var xi = x.AsSpan(i * d, d);
            for (int c = 0; c < d; c++)
            {
                double delta = point[c] - xi[c];
                r2 += delta * delta * inverseSquaredLengths[c];
            }
            k[i] = s2 * Matern52.Correlation(r2, out double slope);
            if (gradients) slopes[i] = s2 * slope;
            mean += k[i] * alpha[i];
        }
        Span<double> v = n <= 512 ? stackalloc double[n] : new double[n];
        k.CopyTo(v);
        LinearAlgebra.SolveLower(cholesky, n, v);
        double explained = 0;
        for (int i = 0; i < n; i++) explained += v[i] * v[i];
        variance = Math.Max(0, s2 - explained);
        if (!gradients) return;

        // ∂var/∂x = −2·(K⁻¹k)ᵀ·∂k/∂x, with K⁻¹k = L⁻ᵀv.
        LinearAlgebra.SolveLowerTransposed(cholesky, n, v);
        meanGradient.Clear();
        varianceGradient.Clear();
        for (int i = 0; i < n; i++)
        {
            var xi = x.AsSpan(i * d, d);
            double a = alpha[i] * slopes[i], w = v[i] * slopes[i];
            for (int c = 0; c < d; c++)
            {
                // ∂k_i/∂x_c = −s²·slope·Δ_c/ℓ_c²
                double dk = -(point[c] - xi[c]) * inverseSquaredLengths[c];
                meanGradient[c] += a * dk;
                varianceGradient[c] -= 2 * w * dk;
            }
        }
    }
}
