namespace Tracker.Plugins.Bayesian;

/// <summary>
/// Minimises a smooth function in a box with projected L-BFGS: the quasi-Newton direction is computed on the
/// variables not held at a bound, steps are projected back into the box and accepted by an Armijo backtracking search.
/// Simpler than L-BFGS-B's generalised Cauchy point, and enough for the few-dimensional, well-scaled problems here
/// (GP hyperparameters in log space, acquisition functions in the unit cube).
/// </summary>
internal static class BoundedLbfgs
{
    /// <summary>Returns f(x) and writes ∇f(x) into the span; may return +∞ or NaN where f is undefined.</summary>
    public delegate double Objective(ReadOnlySpan<double> x, Span<double> gradient);

    /// <summary>Minimises <paramref name="f"/> from <paramref name="x"/> (updated in place); returns the final value.</summary>
    public static double Minimize(Objective f, double[] x, double[] lower, double[] upper, int maxIterations = 100,
        double gradientTolerance = 1e-6, double relativeTolerance = 1e-12, int memory = 10)
    {
        int n = x.Length;
        for (int i = 0; i < n; i++) x[i] = Math.Clamp(x[i], lower[i], upper[i]);
        var g = new double[n];
        double fx = f(x, g);
        if (!double.IsFinite(fx)) return fx;

        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        var d = new double[n];
        var xNew = new double[n];
        var gNew = new double[n];
        var alpha = new double[memory];
        var free = new bool[n];

        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            double projectedNorm = 0;
            for (int i = 0; i < n; i++)
            {
                double p = Math.Clamp(x[i] - g[i], lower[i], upper[i]) - x[i];
                projectedNorm = Math.Max(projectedNorm, Math.Abs(p));
                free[i] = !(x[i] <= lower[i] && g[i] > 0) && !(x[i] >= upper[i] && g[i] < 0);
            }
            if (projectedNorm < gradientTolerance) break;

            // Two-loop recursion restricted to the free variables.
            for (int i = 0; i < n; i++) d[i] = free[i] ? -g[i] : 0;
            for (int k = s.Count - 1; k >= 0; k--)
            {
                alpha[k] = rho[k] * Dot(s[k], d, free);
                Axpy(-alpha[k], y[k], d, free);
            }
            if (s.Count > 0)
            {
                var (sl, yl) = (s[^1], y[^1]);
                double yy = Dot(yl, yl, free);
                double gamma = yy > 0 ? Dot(sl, yl, free) / yy : 1;
                if (gamma > 0 && double.IsFinite(gamma)) for (int i = 0; i < n; i++) d[i] *= gamma;
            }
            for (int k = 0; k < s.Count; k++)
            {
                double beta = rho[k] * Dot(y[k], d, free);
                Axpy(alpha[k] - beta, s[k], d, free);
            }
            double slope = 0;
            for (int i = 0; i < n; i++) slope += d[i] * g[i];
            if (!(slope < 0))
            {
                // Not a descent direction (curvature information gone stale at the bounds): fall back to steepest descent.
                s.Clear(); y.Clear(); rho.Clear();
                for (int i = 0; i < n; i++) d[i] = free[i] ? -g[i] : 0;
            }

            double step = s.Count == 0 ? Math.Min(1, 1 / Math.Max(1e-12, Norm(d))) : 1;
            double fNew = double.NaN;
            bool accepted = false;
            for (int trial = 0; trial < 40; trial++)
            {
                double decrease = 0;
                for (int i = 0; i < n; i++)
                {
                    xNew[i] = Math.Clamp(x[i] + step * d[i], lower[i], upper[i]);
                    decrease += g[i] * (xNew[i] - x[i]);
                }
                fNew = f(xNew, gNew);
                if (double.IsFinite(fNew) && fNew <= fx + 1e-4 * decrease) { accepted = true; break; }
                step *= 0.5;
            }
            if (!accepted) break;

            var sk = new double[n];
            var yk = new double[n];
            double sy = 0;
            for (int i = 0; i < n; i++)
            {
                sk[i] = xNew[i] - x[i];
                yk[i] = gNew[i] - g[i];
                sy += sk[i] * yk[i];
            }
            double change = fx - fNew;
            Array.Copy(xNew, x, n);
            Array.Copy(gNew, g, n);
            fx = fNew;
            if (sy > 1e-12)
            {
                if (s.Count == memory) { s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0); }
                s.Add(sk); y.Add(yk); rho.Add(1 / sy);
            }
            if (change <= relativeTolerance * Math.Max(1, Math.Abs(fx))) break;
        }
        return fx;
    }

    private static double Dot(double[] a, double[] b, bool[] mask)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) if (mask[i]) sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y, bool[] mask)
    {
        for (int i = 0; i < x.Length; i++) if (mask[i]) y[i] += a * x[i];
    }

    private static double Norm(double[] a)
    {
        double sum = 0;
        foreach (var v in a) sum += v * v;
        return Math.Sqrt(sum);
    }
}
