namespace Tracker.Plugins.Bayesian;

/// <summary>
/// The log marginal likelihood of standardised training data under the Matérn 5/2 ARD GP, with its analytic gradient in
/// the log hyperparameters θ = [log ℓ₁ … log ℓ_d, log s², log σ²ₙ], and its maximisation.
/// </summary>
internal sealed class MarginalLikelihood
{
    /// <summary>Box bounds of the fit, in the hyperparameters' own units (inputs live in [0, 1], outputs are standardised).</summary>
    public const double MinLength = 0.01, MaxLength = 10, MinSignal = 0.01, MaxSignal = 100, MinNoise = 1e-6, MaxNoise = 1;

    private readonly double[] y;
    private readonly int n, d;
    private readonly double[] squaredDeltas; // per pair i > j, d values
    private readonly double[] k, l, pairSlopes;

    public MarginalLikelihood(double[] x, int n, int d, double[] y)
    {
        (this.y, this.n, this.d) = (y, n, d);
        squaredDeltas = new double[n * (n - 1) / 2 * d];
        int p = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++, p++)
                for (int c = 0; c < d; c++)
                {
                    double delta = x[i * d + c] - x[j * d + c];
                    squaredDeltas[p * d + c] = delta * delta;
                }
        k = new double[n * n];
        l = new double[n * n];
        pairSlopes = new double[n * (n - 1) / 2];
    }

    /// <summary>
    /// Returns log p(y | X, θ) and writes its gradient with respect to θ into <paramref name="gradient"/> (when not
    /// empty). Returns NaN when K + σ²ₙI is not numerically positive definite.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        Span<double> inv = stackalloc double[d];
        for (int c = 0; c < d; c++) inv[c] = Math.Exp(-2 * theta[c]);
        double s2 = Math.Exp(theta[d]), noise = Math.Exp(theta[d + 1]);

        int p = 0;
        for (int i = 0; i < n; i++)
        {
            k[i * n + i] = s2 + noise;
            for (int j = 0; j < i; j++, p++)
            {
                double r2 = 0;
                var sq = squaredDeltas.AsSpan(p * d, d);
                for (int c = 0; c < d; c++) r2 += sq[c] * inv[c];
                k[i * n + j] = k[j * n + i] = s2 * Matern52.Correlation(r2, out double slope);
                pairSlopes[p] = s2 * slope;
            }
        }
        if (!LinearAlgebra.TryCholesky(k, n, l)) return double.NaN;

        var alpha = (double[])y.Clone();
        LinearAlgebra.SolveLower(l, n, alpha);
        double quadratic = 0;
        for (int i = 0; i < n; i++) quadratic += alpha[i] * alpha[i];
        LinearAlgebra.SolveLowerTransposed(l, n, alpha);
        double logDet = 0;
        for (int i = 0; i < n; i++) logDet += Math.Log(l[i * n + i]);
        double value = -0.5 * quadratic - logDet - 0.5 * n * Math.Log(2 * Math.PI);
        if (gradient.IsEmpty) return value;

        // ∂/∂θ_j = ½·tr((ααᵀ − K⁻¹)·∂K/∂θ_j); W = ααᵀ − K⁻¹ is symmetric, so each pair counts twice.
        var kInverse = LinearAlgebra.InverseFromCholesky(l, n);
        gradient.Clear();
        double diagonal = 0;
        for (int i = 0; i < n; i++) diagonal += alpha[i] * alpha[i] - kInverse[i * n + i];
        double signal = 0.5 * diagonal * s2;
        p = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++, p++)
            {
                double w = alpha[i] * alpha[j] - kInverse[i * n + j];
                signal += w * k[i * n + j];
                double ws = w * pairSlopes[p];
                var sq = squaredDeltas.AsSpan(p * d, d);
                for (int c = 0; c < d; c++) gradient[c] += ws * sq[c] * inv[c];
            }
        gradient[d] = signal;
        gradient[d + 1] = 0.5 * diagonal * noise;
        return value;
    }

    /// <summary>
    /// Maximises the log marginal likelihood, plus <see cref="LogPrior"/> when <paramref name="priors"/> (a MAP fit),
    /// from a fixed starting point and <paramref name="restarts"/> − 1 random ones (log-uniform), each by projected
    /// L-BFGS within the bounds; returns the best. Deterministic given <paramref name="random"/>'s state.
    /// </summary>
    public static KernelParameters Fit(double[] x, int n, int d, double[] y, Random random, bool priors = true, int restarts = 5,
        int maxIterations = 100)
    {
        var likelihood = new MarginalLikelihood(x, n, d, y);
        var lower = new double[d + 2];
        var upper = new double[d + 2];
        for (int c = 0; c < d; c++) (lower[c], upper[c]) = (Math.Log(MinLength), Math.Log(MaxLength));
        (lower[d], upper[d]) = (Math.Log(MinSignal), Math.Log(MaxSignal));
        (lower[d + 1], upper[d + 1]) = (Math.Log(MinNoise), Math.Log(MaxNoise));

        double best = double.NegativeInfinity;
        double[]? bestTheta = null;
        for (int r = 0; r < Math.Max(1, restarts); r++)
        {
            var theta = new double[d + 2];
            if (r == 0)
            {
                for (int c = 0; c < d; c++) theta[c] = Math.Log(0.5);
                (theta[d], theta[d + 1]) = (0, Math.Log(1e-3));
            }
            else
            {
                for (int c = 0; c < d; c++) theta[c] = Uniform(random, Math.Log(0.05), Math.Log(3));
                theta[d] = Uniform(random, Math.Log(0.2), Math.Log(5));
                theta[d + 1] = Uniform(random, Math.Log(MinNoise), Math.Log(0.1));
            }
            double value = -BoundedLbfgs.Minimize((t, g) =>
            {
                double v = likelihood.Evaluate(t, g);
                if (!double.IsFinite(v)) return double.NaN;
                if (priors) v += LogPrior(t, g);
                for (int i = 0; i < g.Length; i++) g[i] = -g[i];
                return -v;
            }, theta, lower, upper, maxIterations, gradientTolerance: 1e-5);
            if (value > best) (best, bestTheta) = (value, theta);
        }
        return bestTheta is null
            ? new KernelParameters(Enumerable.Repeat(0.5, d).ToArray(), 1, 1e-2)
            : KernelParameters.FromLog(bestTheta);
    }

    /// <summary>
    /// The log density of weak Gamma priors on the hyperparameters, as a function of θ (Jacobian included), adding its
    /// gradient into <paramref name="gradient"/>: Gamma(3, 6) on each length scale (mode 1/3 of the unit range; BoTorch's
    /// long-standing default), Gamma(2, 1) on the signal variance of the standardised outputs (mode 1) and Gamma(1.1, 30)
    /// on the noise variance (mode about 0.003). They keep a fit to a dozen points from length scales so long, or a
    /// signal so large, that the GP turns confidently blind to the rest of the space.
    /// </summary>
    public static double LogPrior(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        int d = theta.Length - 2;
        double value = 0;
        for (int c = 0; c < d; c++)
        {
            // Gamma(a, b) on x = e^θ: (a − 1)·log x − b·x, plus θ for the change of variable.
            double l = Math.Exp(theta[c]);
            value += 3 * theta[c] - 6 * l;
            gradient[c] += 3 - 6 * l;
        }
        double s2 = Math.Exp(theta[d]), noise = Math.Exp(theta[d + 1]);
        value += 2 * theta[d] - s2;
        gradient[d] += 2 - s2;
        value += 1.1 * theta[d + 1] - 30 * noise;
        gradient[d + 1] += 1.1 - 30 * noise;
        return value;
    }

    private static double Uniform(Random random, double low, double high) => low + random.NextDouble() * (high - low);
}
