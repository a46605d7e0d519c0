namespace Tracker.Plugins.Bayesian;

/// <summary>
/// Dense symmetric positive-definite algebra on row-major n×n arrays. The matrices here are Gram matrices of at most
/// a few hundred trials, so plain loops beat pulling in a library.
/// </summary>
internal static class LinearAlgebra
{
    /// <summary>
    /// Factors <paramref name="a"/> = L·Lᵀ into the lower triangle of <paramref name="l"/> (the upper triangle is
    /// zeroed). Returns false when a pivot is not positive (the matrix is not numerically positive definite).
    /// </summary>
    public static bool TryCholesky(ReadOnlySpan<double> a, int n, Span<double> l)
    {
        for (int i = 0; i < n; i++)
        {
            var li = l.Slice(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                var lj = l.Slice(j * n, j);
                double sum = a[i * n + j];
                for (int k = 0; k < j; k++) sum -= li[k] * lj[k];
                if (i == j)
                {
                    if (!(sum > 0) || !double.IsFinite(sum)) return false;
                    li[i] = Math.Sqrt(sum);
                }
                else li[j] = sum / l[j * n + j];
            }
            li.Slice(i + 1).Clear();
        }
        return true;
    }

    /// <summary>
    /// Factors <paramref name="a"/>, adding jitter to the diagonal (from 1e-10 of its mean up to 1e-2, ×10 each time)
    /// while the factorisation fails. Returns the jitter used (0 when none was needed), or NaN when even the largest failed.
    /// </summary>
    public static double CholeskyWithJitter(double[] a, int n, double[] l)
    {
        if (TryCholesky(a, n, l)) return 0;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += a[i * n + i];
        mean = n == 0 ? 1 : Math.Max(mean / n, 1e-300);
        var shifted = (double[])a.Clone();
        for (double jitter = 1e-10 * mean; jitter <= 1.0001e-2 * mean; jitter *= 10)
        {
            for (int i = 0; i < n; i++) shifted[i * n + i] = a[i * n + i] + jitter;
            if (TryCholesky(shifted, n, l)) return jitter;
        }
        return double.NaN;
    }

    /// <summary>Solves L·x = b in place (forward substitution).</summary>
    public static void SolveLower(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (int i = 0; i < n; i++)
        {
            var li = l.Slice(i * n, i);
            double sum = b[i];
            for (int k = 0; k < i; k++) sum -= li[k] * b[k];
            b[i] = sum / l[i * n + i];
        }
    }

    /// <summary>Solves Lᵀ·x = b in place (back substitution).</summary>
    public static void SolveLowerTransposed(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = b[i];
            for (int k = i + 1; k < n; k++) sum -= l[k * n + i] * b[k];
            b[i] = sum / l[i * n + i];
        }
    }

    /// <summary>Solves (L·Lᵀ)·x = b in place.</summary>
    public static void CholeskySolve(ReadOnlySpan<double> l, int n, Span<double> b)
    {
        SolveLower(l, n, b);
        SolveLowerTransposed(l, n, b);
    }

    /// <summary>Returns (L·Lᵀ)⁻¹, full and symmetric.</summary>
    public static double[] InverseFromCholesky(ReadOnlySpan<double> l, int n)
    {
        // First M = L⁻¹ (lower triangular), then A⁻¹ = Mᵀ·M.
        var m = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            m[j * n + j] = 1 / l[j * n + j];
            for (int i = j + 1; i < n; i++)
            {
                double sum = 0;
                for (int k = j; k < i; k++) sum -= l[i * n + k] * m[k * n + j];
                m[i * n + j] = sum / l[i * n + i];
            }
        }
        var inverse = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double sum = 0;
                for (int k = i; k < n; k++) sum += m[k * n + i] * m[k * n + j];
                inverse[i * n + j] = inverse[j * n + i] = sum;
            }
        return inverse;
    }
}
