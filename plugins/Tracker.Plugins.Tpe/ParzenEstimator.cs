using Tracker.Abstractions;

namespace Tracker.Plugins.Tpe;

/// <summary>Settings shared by the estimators of one suggestion.</summary>
/// <param name="PriorWeight">The weight of the prior component, relative to an observation's (at most) 1.</param>
/// <param name="ConsiderEndpoints">Whether the range ends count as neighbours of the outermost observations.</param>
/// <param name="WidthFree">
/// Score numeric kernels by their shape only, without the 1/σ of a normalised density, so that each behaves as a
/// similarity in [0, 1] rather than a density whose peak grows as it narrows. This is what Optuna's estimator computed
/// up to 3.4 (its truncated-normal log-pdf left out −log σ). It makes the many narrow kernels of the bad trials far
/// less spiky, so l/g favours the good trials' neighbourhoods instead of fleeing every bad point. Over 300 seeds it made
/// univariate TPE clearly better on Branin and Hartmann-6; for multivariate TPE, whose kernels are products of d widths,
/// it was better on Branin but worse on Hartmann-6, and only normalised densities beat Optuna's multivariate TPE on both
/// (docs/benchmarks.md). Univariate TPE therefore scores width-free, multivariate TPE with normalised densities.
/// </param>
internal sealed record ParzenSettings(double PriorWeight, bool ConsiderEndpoints, bool WidthFree);

/// <summary>
/// The kernels of one parameter, one per observation plus the prior (last). Numbers live in the unit interval of
/// <see cref="ParameterSpec.ToUnit"/> (log-spaced for log parameters): truncated Gaussians on [0, 1], integers get the
/// mass of their cell; choices are discrete distributions that put 1 on the observed value plus a smoothing prior.
/// </summary>
internal sealed class ParameterKernels
{
    private readonly ParameterSpec parameter;
    private readonly bool widthFree;
    private readonly double[] mus = [], sigmas = [], logNormalizers = [];
    private readonly double[][] logProbabilities = [];
    private readonly double[][] cumulative = [];

    private ParameterKernels(ParameterSpec parameter, int count) => (this.parameter, Count) = (parameter, count);

    /// <summary>The number of kernels, the prior included.</summary>
    public int Count { get; }

    /// <summary>The index of the prior kernel.</summary>
    public int Prior => Count - 1;

    /// <param name="parameter">The parameter.</param>
    /// <param name="observations">Unit values (numbers) or value indices (choices), one per observation.</param>
    /// <param name="settings">Prior weight, endpoints, scoring.</param>
    public ParameterKernels(ParameterSpec parameter, IReadOnlyList<double> observations, ParzenSettings settings)
        : this(parameter, observations.Count + 1)
    {
        widthFree = settings.WidthFree;
        int n = observations.Count;
        if (parameter is ChoiceParameter choice)
        {
            int k = choice.Values.Count;
            logProbabilities = new double[n + 1][];
            cumulative = new double[n + 1][];
            for (int i = 0; i <= n; i++)
            {
                var row = new double[k];
                if (i < n)
                {
                    Array.Fill(row, settings.PriorWeight / (n + 1));
                    row[(int)observations[i]] += 1;
                }
                else Array.Fill(row, 1.0);
                double sum = row.Sum();
                logProbabilities[i] = row.Select(w => Math.Log(w / sum)).ToArray();
                cumulative[i] = new double[k];
                double running = 0;
                for (int c = 0; c < k; c++) cumulative[i][c] = running += row[c] / sum;
            }
            return;
        }

        mus = new double[n + 1];
        sigmas = new double[n + 1];
        for (int i = 0; i < n; i++) mus[i] = observations[i];
        if (n > 0)
        {
            NeighbourWidths(mus, n, sigmas, settings.ConsiderEndpoints);
            // The magic clip: no kernel narrower than 1/min(100, kernels + 1) of the range, none wider than the range.
            double minimum = 1.0 / Math.Min(100.0, n + 2);
            for (int i = 0; i < n; i++) sigmas[i] = Math.Clamp(sigmas[i], minimum, 1.0);
        }
        (mus[n], sigmas[n]) = (0.5, 1.0);
        logNormalizers = new double[n + 1];
        for (int i = 0; i <= n; i++) logNormalizers[i] = Normal.LogMass(-mus[i] / sigmas[i], (1 - mus[i]) / sigmas[i]);
    }

    /// <summary>
    /// Each observation's width is the larger gap to its neighbours among the observations, the prior's centre (0.5) and,
    /// if <paramref name="considerEndpoints"/>, the range ends; otherwise the outermost take their inner gap. Counting
    /// the prior's centre as a neighbour follows hyperopt and Optuna before 4.9 (4.9 dropped it); it narrows the
    /// kernels of a small good group, which searches measurably better on the benchmarks (docs/benchmarks.md).
    /// </summary>
    private static void NeighbourWidths(double[] mus, int n, double[] sigmas, bool considerEndpoints)
    {
        var centres = new double[n + 1];
        Array.Copy(mus, centres, n);
        centres[n] = 0.5;
        int m = n + 1;
        var order = Enumerable.Range(0, m).OrderBy(i => centres[i]).ToArray();
        var sorted = new double[m + 2];
        sorted[0] = 0;
        sorted[m + 1] = 1;
        for (int i = 0; i < m; i++) sorted[i + 1] = centres[order[i]];
        var widths = new double[m];
        for (int i = 0; i < m; i++) widths[i] = Math.Max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
        if (!considerEndpoints && m >= 2)
        {
            widths[0] = sorted[2] - sorted[1];
            widths[m - 1] = sorted[m] - sorted[m - 1];
        }
        for (int i = 0; i < m; i++) if (order[i] < n) sigmas[order[i]] = widths[i];
    }

    /// <summary>Draws from kernel <paramref name="kernel"/>: a unit value, or a value index for a choice.</summary>
    public double Sample(int kernel, Random random)
    {
        if (parameter is ChoiceParameter)
        {
            double u = random.NextDouble();
            var cdf = cumulative[kernel];
            for (int c = 0; c < cdf.Length - 1; c++) if (u < cdf[c]) return c;
            return cdf.Length - 1;
        }
        // Rejection from the untruncated Gaussian: the centre lies in [0, 1], so at least a third of draws are kept.
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            double x = mus[kernel] + sigmas[kernel] * Gaussian(random);
            if (x >= 0 && x <= 1) return x;
        }
        return Math.Clamp(mus[kernel], 0, 1);
    }

    /// <summary>The log density (numbers), log mass of the integer's cell (integers) or log probability (choices).</summary>
    public double LogPdf(int kernel, double value)
    {
        switch (parameter)
        {
            case ChoiceParameter:
                return logProbabilities[kernel][(int)value];
            case IntParameter integer:
            {
                var (low, high) = Cell(integer, value);
                double mu = mus[kernel], sigma = sigmas[kernel];
                return Normal.LogMass((low - mu) / sigma, (high - mu) / sigma) - logNormalizers[kernel];
            }
            default:
            {
                double z = (value - mus[kernel]) / sigmas[kernel];
                return Normal.LogPdf(z) - (widthFree ? 0 : Math.Log(sigmas[kernel])) - logNormalizers[kernel];
            }
        }
    }

    /// <summary>The unit interval that <see cref="IntParameter.FromUnit"/> maps onto the integer at <paramref name="unit"/>.</summary>
    internal static (double Low, double High) Cell(IntParameter p, double unit)
    {
        double v = p.FromUnit(unit).AsDouble();
        if (p.Log)
        {
            double lo = Math.Log(p.Low - 0.5 + 1e-9), hi = Math.Log(p.High + 0.5 - 1e-9);
            return (Math.Clamp((Math.Log(v - 0.5) - lo) / (hi - lo), 0, 1), Math.Clamp((Math.Log(v + 0.5) - lo) / (hi - lo), 0, 1));
        }
        long count = ((long)p.High - p.Low) / p.Step + 1;
        double index = Math.Round((v - p.Low) / p.Step);
        return (index / count, (index + 1) / count);
    }

    internal static double Gaussian(Random random)
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>
/// A Parzen estimator over some parameters of a (possibly conditional) space: a mixture with one component per
/// observed trial (older trials weigh less once there are more than 25, as in Optuna) plus a prior component. In a
/// component, a parameter the trial did not have takes the prior kernel, so the estimator is a proper density over
/// every branch of the tree: a sample activates children according to its sampled parents.
/// </summary>
internal sealed class ParzenEstimator
{
    private readonly ParameterSpec[] parameters;
    private readonly ParameterKernels[] kernels;
    private readonly int[][] kernelOf; // [component][parameter]
    private readonly double[] logWeights;
    private readonly double[] cumulativeWeights;

    /// <param name="parameters">The parameters modelled, in space order.</param>
    /// <param name="trials">The observed trials' parameters, oldest first.</param>
    /// <param name="settings">Prior weight, endpoints, scoring.</param>
    public ParzenEstimator(IReadOnlyList<ParameterSpec> parameters, IReadOnlyList<IReadOnlyDictionary<string, ParameterValue>> trials, ParzenSettings settings)
    {
        this.parameters = [.. parameters];
        int n = trials.Count;
        kernels = new ParameterKernels[this.parameters.Length];
        kernelOf = Enumerable.Range(0, n + 1).Select(_ => new int[this.parameters.Length]).ToArray();
        for (int j = 0; j < this.parameters.Length; j++)
        {
            var p = this.parameters[j];
            var observations = new List<double>();
            for (int t = 0; t < n; t++)
            {
                if (trials[t].TryGetValue(p.Name, out var v) && Unit(p, v) is { } u)
                {
                    kernelOf[t][j] = observations.Count;
                    observations.Add(u);
                }
                else kernelOf[t][j] = -1;
            }
            kernels[j] = new ParameterKernels(p, observations, settings);
            for (int t = 0; t < n; t++) if (kernelOf[t][j] < 0) kernelOf[t][j] = kernels[j].Prior;
            kernelOf[n][j] = kernels[j].Prior;
        }

        var weights = new double[n + 1];
        Weights(n).CopyTo(weights, 0);
        weights[n] = n == 0 ? 1 : settings.PriorWeight;
        double sum = weights.Sum();
        if (!(sum > 0)) { Array.Fill(weights, 0); weights[n] = sum = 1; } // a zero prior with no observations
        logWeights = weights.Select(w => Math.Log(w / sum)).ToArray();
        cumulativeWeights = new double[n + 1];
        double running = 0;
        for (int k = 0; k <= n; k++) cumulativeWeights[k] = running += weights[k] / sum;
    }

    /// <summary>Optuna's default weights: equal up to 25 observations, beyond that a ramp from 1/n up for the oldest.</summary>
    internal static double[] Weights(int n)
    {
        if (n < 25) return Enumerable.Repeat(1.0, n).ToArray();
        var weights = new double[n];
        int ramp = n - 25;
        for (int i = 0; i < ramp; i++) weights[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * i / (ramp - 1);
        for (int i = ramp; i < n; i++) weights[i] = 1;
        return weights;
    }

    /// <summary>A parameter value as the estimator sees it: its unit value, or its index for a choice; null if invalid.</summary>
    internal static double? Unit(ParameterSpec p, ParameterValue v)
    {
        if (p.Check(v) is not null) return null;
        return p is ChoiceParameter c ? c.Values.ToList().IndexOf(v) : p.ToUnit(v);
    }

    /// <summary>
    /// Draws a configuration: a component, then each modelled parameter that is active given
    /// <paramref name="context"/> and the values drawn before it. Returns the values (context included) and the drawn
    /// units, NaN where a parameter is inactive.
    /// </summary>
    public (Dictionary<string, ParameterValue> Values, double[] Units) Sample(Random random, IReadOnlyDictionary<string, ParameterValue> context)
    {
        double u = random.NextDouble();
        int component = Array.FindIndex(cumulativeWeights, c => u < c);
        if (component < 0) component = cumulativeWeights.Length - 1;
        var values = new Dictionary<string, ParameterValue>(context);
        var units = new double[parameters.Length];
        for (int j = 0; j < parameters.Length; j++)
        {
            var p = parameters[j];
            if (!SearchSpace.IsActive(p, values)) { units[j] = double.NaN; continue; }
            double x = kernels[j].Sample(kernelOf[component][j], random);
            var value = p is ChoiceParameter c ? c.Values[(int)x] : p.FromUnit(x);
            units[j] = p is IntParameter ? p.ToUnit(value) : x;
            values[p.Name] = value;
        }
        return (values, units);
    }

    /// <summary>The log density of a configuration given as units (NaN for inactive parameters).</summary>
    public double LogPdf(ReadOnlySpan<double> units)
    {
        double max = double.NegativeInfinity;
        Span<double> terms = logWeights.Length <= 256 ? stackalloc double[logWeights.Length] : new double[logWeights.Length];
        for (int k = 0; k < logWeights.Length; k++)
        {
            double sum = logWeights[k];
            for (int j = 0; j < parameters.Length; j++)
                if (!double.IsNaN(units[j])) sum += kernels[j].LogPdf(kernelOf[k][j], units[j]);
            terms[k] = sum;
            max = Math.Max(max, sum);
        }
        if (double.IsNegativeInfinity(max)) return max;
        double total = 0;
        foreach (var t in terms) total += Math.Exp(t - max);
        return max + Math.Log(total);
    }
}
