using Tracker.Plugins.Bayesian;

namespace Tracker.Strategies.Tests;

/// <summary>The linear algebra, GP, likelihood and acquisition maths behind the bayesian strategy.</summary>
public sealed class GaussianProcessTests
{
    private static (double[] X, double[] Y) Data(int n, int d, int seed)
    {
        var random = new Random(seed);
        var x = Enumerable.Range(0, n * d).Select(_ => random.NextDouble()).ToArray();
        var y = Enumerable.Range(0, n).Select(i => Math.Sin(6 * x[i * d]) + (d > 1 ? x[i * d + 1] * x[i * d + 1] : 0)).ToArray();
        double mean = y.Average(), std = Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / n);
        return (x, y.Select(v => (v - mean) / std).ToArray());
    }

    [Fact]
    public void TryCholesky_KnownSpdMatrix_GivesKnownFactor()
    {
        double[] a = [4, 12, -16, 12, 37, -43, -16, -43, 98];
        var l = new double[9];

        Assert.True(LinearAlgebra.TryCholesky(a, 3, l));

        Assert.Equal([2, 0, 0, 6, 1, 0, -8, 5, 3], l, (p, q) => Math.Abs(p - q) < 1e-12);
    }

    [Fact]
    public void TryCholesky_IndefiniteMatrix_Fails()
    {
        double[] a = [1, 2, 2, 1];

        Assert.False(LinearAlgebra.TryCholesky(a, 2, new double[4]));
    }

    [Fact]
    public void CholeskyWithJitter_SingularMatrix_AddsSmallJitter()
    {
        double[] a = [1, 1, 1, 1]; // rank one: two identical training points without noise

        double jitter = LinearAlgebra.CholeskyWithJitter(a, 2, new double[4]);

        Assert.InRange(jitter, 1e-12, 1e-2);
    }

    [Fact]
    public void CholeskySolveAndInverse_RandomSpdMatrix_InvertIt()
    {
        var (x, _) = Data(6, 2, seed: 1);
        var k = GaussianProcess.Covariance(x, 6, 2, new KernelParameters([0.4, 0.7], 1.3, 1e-3));
        var l = new double[36];
        Assert.True(LinearAlgebra.TryCholesky(k, 6, l));
        double[] b = [1, -2, 0.5, 3, 0, 1];

        var solved = (double[])b.Clone();
        LinearAlgebra.CholeskySolve(l, 6, solved);
        var inverse = LinearAlgebra.InverseFromCholesky(l, 6);

        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(b[i], Enumerable.Range(0, 6).Sum(j => k[i * 6 + j] * solved[j]), 1e-9);
            for (int j = 0; j < 6; j++)
                Assert.Equal(i == j ? 1 : 0, Enumerable.Range(0, 6).Sum(m => k[i * 6 + m] * inverse[m * 6 + j]), 1e-9);
        }
    }

    [Fact]
    public void Predict_NoiselessTrainingPoints_InterpolatesWithNearZeroVariance()
    {
        var (x, y) = Data(10, 2, seed: 2);
        var gp = GaussianProcess.Create(x, 10, 2, y, new KernelParameters([0.3, 0.5], 1.0, 1e-10))!;

        for (int i = 0; i < 10; i++)
        {
            gp.Predict(x.AsSpan(i * 2, 2), out double mean, out double variance);
            Assert.Equal(y[i], mean, 1e-5);
            Assert.InRange(variance, 0, 1e-6);
        }
        // Away from the data the variance returns towards the prior's.
        gp.Predict([5.0, 5.0], out double farMean, out double farVariance);
        Assert.Equal(0, farMean, 1e-6);
        Assert.Equal(1.0, farVariance, 1e-6);
    }

    [Fact]
    public void Predict_Gradients_MatchFiniteDifferences()
    {
        var (x, y) = Data(12, 3, seed: 3);
        var gp = GaussianProcess.Create(x, 12, 3, y, new KernelParameters([0.3, 0.6, 1.2], 1.7, 1e-4))!;
        double[] point = [0.41, 0.27, 0.66];
        var dMean = new double[3];
        var dVariance = new double[3];

        gp.Predict(point, out _, out _, dMean, dVariance);

        for (int c = 0; c < 3; c++)
        {
            const double h = 1e-6;
            var plus = (double[])point.Clone();
            var minus = (double[])point.Clone();
            plus[c] += h;
            minus[c] -= h;
            gp.Predict(plus, out double mp, out double vp);
            gp.Predict(minus, out double mm, out double vm);
            Assert.Equal((mp - mm) / (2 * h), dMean[c], 1e-5);
            Assert.Equal((vp - vm) / (2 * h), dVariance[c], 1e-5);
        }
    }

    [Fact]
    public void MarginalLikelihood_Gradient_MatchesFiniteDifferences()
    {
        var (x, y) = Data(15, 3, seed: 4);
        var likelihood = new MarginalLikelihood(x, 15, 3, y);
        double[] theta = [Math.Log(0.3), Math.Log(0.8), Math.Log(2.0), Math.Log(1.5), Math.Log(1e-2)];
        var gradient = new double[theta.Length];

        likelihood.Evaluate(theta, gradient);

        for (int j = 0; j < theta.Length; j++)
        {
            const double h = 1e-6;
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[j] += h;
            minus[j] -= h;
            double numeric = (likelihood.Evaluate(plus, []) - likelihood.Evaluate(minus, [])) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[j]) <= 1e-5 * Math.Max(1, Math.Abs(numeric)),
                $"θ[{j}]: analytic {gradient[j]}, finite differences {numeric}");
        }
    }

    [Fact]
    public void MarginalLikelihood_Value_MatchesDirectFormula()
    {
        var (x, y) = Data(5, 1, seed: 5);
        var parameters = new KernelParameters([0.5], 1.2, 0.1);
        var k = GaussianProcess.Covariance(x, 5, 1, parameters);
        var inverse = LinearAlgebra.InverseFromCholesky(Factor(k, 5), 5);
        double quadratic = 0;
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) quadratic += y[i] * inverse[i * 5 + j] * y[j];
        double logDet = 2 * Enumerable.Range(0, 5).Sum(i => Math.Log(Factor(k, 5)[i * 5 + i]));

        double value = new MarginalLikelihood(x, 5, 1, y).Evaluate(parameters.ToLog(), []);

        Assert.Equal(-0.5 * quadratic - 0.5 * logDet - 2.5 * Math.Log(2 * Math.PI), value, 1e-10);
    }

    private static double[] Factor(double[] k, int n)
    {
        var l = new double[n * n];
        Assert.True(LinearAlgebra.TryCholesky(k, n, l));
        return l;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Fit_SmoothFunction_ImprovesOnStartAndStaysInBounds(bool priors)
    {
        var (x, y) = Data(20, 2, seed: 6);
        var likelihood = new MarginalLikelihood(x, 20, 2, y);
        double Objective(KernelParameters p) =>
            likelihood.Evaluate(p.ToLog(), []) + (priors ? MarginalLikelihood.LogPrior(p.ToLog(), new double[4]) : 0);

        var fitted = MarginalLikelihood.Fit(x, 20, 2, y, new Random(1), priors);

        Assert.True(Objective(fitted) > Objective(new KernelParameters([0.5, 0.5], 1, 1e-3)));
        Assert.All(fitted.LengthScales, l => Assert.InRange(l, MarginalLikelihood.MinLength * 0.999, MarginalLikelihood.MaxLength * 1.001));
        Assert.InRange(fitted.NoiseVariance, MarginalLikelihood.MinNoise * 0.999, MarginalLikelihood.MaxNoise * 1.001);
        // The second input matters less than the first (sin(6x) against x²): a longer length scale.
        Assert.True(fitted.LengthScales[1] > fitted.LengthScales[0]);
    }

    [Fact]
    public void LogPrior_Gradient_MatchesFiniteDifferences()
    {
        double[] theta = [Math.Log(0.2), Math.Log(1.5), Math.Log(0.7), Math.Log(1e-3)];
        var gradient = new double[4];

        MarginalLikelihood.LogPrior(theta, gradient);

        for (int j = 0; j < theta.Length; j++)
        {
            const double h = 1e-6;
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[j] += h;
            minus[j] -= h;
            double numeric = (MarginalLikelihood.LogPrior(plus, new double[4]) - MarginalLikelihood.LogPrior(minus, new double[4])) / (2 * h);
            Assert.Equal(numeric, gradient[j], 1e-6);
        }
    }

    [Theory]
    [InlineData(0.0, 1.0, 0.0, 0.3989422804014327)] // φ(0)
    [InlineData(1.0, 2.0, 0.0, 0.3955931148026121)] // −Φ(−0.5) + 2φ(−0.5)
    [InlineData(-1.0, 0.5, 0.0, 1.0042453513084148)] // Φ(2) + 0.5φ(2)
    [InlineData(0.0, 0.0, 0.25, 0.25)] // no uncertainty: the sure improvement
    [InlineData(3.0, 0.0, 0.25, 0.0)]
    public void ExpectedImprovement_ClosedForm_MatchesHandComputedValues(double mean, double sigma, double target, double expected)
    {
        Assert.Equal(expected, ExpectedImprovement.Value(mean, sigma, target), 1e-12);
        if (expected > 0) Assert.Equal(Math.Log(expected), ExpectedImprovement.Log(mean, sigma, target), 1e-12);
    }

    [Theory]
    [InlineData(-40)]
    [InlineData(-25.000001)]
    [InlineData(-24.999999)]
    [InlineData(-12)]
    [InlineData(-3)]
    [InlineData(0)]
    [InlineData(4)]
    public void LogH_AcrossTails_FiniteSmoothAndSlopeMatchesFiniteDifferences(double z)
    {
        double value = ExpectedImprovement.LogH(z);
        const double h = 1e-5;
        double numeric = (ExpectedImprovement.LogH(z + h) - ExpectedImprovement.LogH(z - h)) / (2 * h);

        Assert.True(double.IsFinite(value));
        Assert.Equal(numeric, ExpectedImprovement.LogHSlope(z), Math.Max(1e-5, 1e-6 * Math.Abs(numeric)));
        // In the left tail h(z) = φ(z)/z²·(1 − 3/z² + O(1/z⁴)).
        if (z < -10) Assert.Equal(-0.5 * z * z - 0.5 * Math.Log(2 * Math.PI) - 2 * Math.Log(-z) + Math.Log(1 - 3 / (z * z)), value, 20 / Math.Pow(z, 4));
    }

    [Fact]
    public void LogH_AtSeamOfAsymptoticSeries_IsContinuous()
    {
        Assert.Equal(ExpectedImprovement.LogH(-25 - 1e-12), ExpectedImprovement.LogH(-25 + 1e-12), 1e-10);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Acquisition_Gradient_MatchesFiniteDifferences(bool expectedImprovement)
    {
        var kind = expectedImprovement ? AcquisitionKind.ExpectedImprovement : AcquisitionKind.UpperConfidenceBound;
        var (x, y) = Data(12, 2, seed: 7);
        var gp = GaussianProcess.Create(x, 12, 2, y, new KernelParameters([0.25, 0.6], 1.1, 1e-4))!;
        var acquisition = new Acquisition(gp, kind, y.Min(), 0.01, 2.0);

        foreach (var point in new[] { new[] { 0.3, 0.7 }, new[] { 0.9, 0.1 }, new[] { 0.55, 0.45 } })
        {
            var gradient = new double[2];
            double value = acquisition.Value(point, gradient);
            Assert.Equal(acquisition.Value(point), value, 1e-9);
            for (int c = 0; c < 2; c++)
            {
                const double h = 1e-6;
                var plus = (double[])point.Clone();
                var minus = (double[])point.Clone();
                plus[c] += h;
                minus[c] -= h;
                double numeric = (acquisition.Value(plus) - acquisition.Value(minus)) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[c]) <= 1e-4 * Math.Max(1, Math.Abs(numeric)),
                    $"{kind} at ({point[0]}, {point[1]}), dim {c}: analytic {gradient[c]}, finite differences {numeric}");
            }
        }
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(-1.0, 1.842700792949715)]
    [InlineData(3.0, 2.2090496998585438e-05)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(20.0, 5.3958656116079005e-176)]
    [InlineData(26.0, 5.663192408856143e-296)]
    public void Erfc_KnownValues_RelativeErrorTiny(double x, double expected)
    {
        Assert.True(Math.Abs(Normal.Erfc(x) - expected) <= 1e-13 * expected, $"erfc({x}) = {Normal.Erfc(x)}, expected {expected}");
    }

    [Fact]
    public void BoundedLbfgs_Rosenbrock_FindsFreeAndBoxConstrainedMinima()
    {
        static double Rosenbrock(ReadOnlySpan<double> v, Span<double> g)
        {
            double a = 1 - v[0], b = v[1] - v[0] * v[0];
            g[0] = -2 * a - 400 * v[0] * b;
            g[1] = 200 * b;
            return a * a + 100 * b * b;
        }

        double[] free = [-1.2, 1];
        BoundedLbfgs.Minimize(Rosenbrock, free, [-2, -2], [2, 2], maxIterations: 500, gradientTolerance: 1e-10);
        double[] boxed = [-1.2, 1];
        BoundedLbfgs.Minimize(Rosenbrock, boxed, [-2, -2], [0.5, 2], maxIterations: 500, gradientTolerance: 1e-10);

        Assert.Equal(1, free[0], 1e-4);
        Assert.Equal(1, free[1], 1e-4);
        Assert.Equal(0.5, boxed[0], 1e-9);
        Assert.Equal(0.25, boxed[1], 1e-4);
    }
}
