namespace Tracker.Plugins.Bayesian;

/// <summary>
/// Maximises an acquisition function over a mixed, conditional space: a seeded random screen (half uniform points,
/// half perturbations of the best observed points), then local searches from the best distinct candidates that
/// alternate projected L-BFGS on the active continuous coordinates with an exhaustive pass over each choice's categories.
/// </summary>
internal sealed class AcquisitionOptimizer(SpaceEncoder encoder, Acquisition acquisition, Random random)
{
    /// <summary>A candidate and its acquisition value.</summary>
    public readonly record struct Candidate(Point Point, double Value);

    /// <summary>
    /// Returns candidates best first: the refined local optima ahead of the screened points, so that a caller that
    /// must skip some (already evaluated) still has good alternatives.
    /// </summary>
    public List<Candidate> Optimize(IReadOnlyList<Point> incumbents, int screenSize, int localSearches)
    {
        var screen = new List<Candidate>(screenSize);
        int local = incumbents.Count == 0 ? 0 : screenSize / 2;
        for (int i = 0; i < screenSize - local; i++) screen.Add(Evaluate(encoder.Random(random)));
        for (int i = 0; i < local; i++)
        {
            // Favour the very best incumbent: half the perturbations go to it, the rest to the others in turn.
            var centre = incumbents[i % 2 == 0 ? 0 : (i / 2) % incumbents.Count];
            screen.Add(Evaluate(Perturb(centre)));
        }
        screen.Sort((a, b) => b.Value.CompareTo(a.Value));

        var refined = new List<Candidate>();
        var started = new HashSet<string>();
        foreach (var candidate in screen)
        {
            if (refined.Count >= localSearches) break;
            if (!started.Add(SpaceEncoder.Key(encoder.Decode(candidate.Point)))) continue;
            refined.Add(LocalSearch(candidate));
        }
        refined.Sort((a, b) => b.Value.CompareTo(a.Value));
        refined.AddRange(screen);
        return refined;
    }

    public Candidate Evaluate(Point point)
    {
        Span<double> features = stackalloc double[encoder.FeatureCount];
        encoder.Encode(point, features);
        double value = acquisition.Value(features);
        return new Candidate(point, double.IsNaN(value) ? double.NegativeInfinity : value);
    }

    private Point Perturb(Point centre)
    {
        var point = centre.Clone();
        // Log-uniform scale between 0.3% and 30% of each unit range: fine steps near a good point and longer jumps.
        double scale = Math.Pow(10, -2.5 + 2 * random.NextDouble());
        double flip = 1.0 / Math.Max(1, encoder.Count);
        for (int i = 0; i < encoder.Count; i++)
        {
            if (encoder.Categories[i] > 0)
            {
                if (random.NextDouble() < flip) point.Values[i] = random.Next(encoder.Categories[i]);
            }
            else point.Values[i] = Math.Clamp(point.Values[i] + scale * Gaussian(), 0, 1);
        }
        encoder.Refresh(point);
        return point;
    }

    private Candidate LocalSearch(Candidate start)
    {
        var best = start;
        for (int round = 0; round < 3; round++)
        {
            var continuous = RefineContinuous(best);
            if (continuous.Value > best.Value) best = continuous;
            bool changed = false;
            for (int i = 0; i < encoder.Count; i++)
            {
                if (encoder.Categories[i] == 0 || !best.Point.Active[i]) continue;
                for (int c = 0; c < encoder.Categories[i]; c++)
                {
                    if (c == (int)best.Point.Values[i]) continue;
                    var point = best.Point.Clone();
                    point.Values[i] = c;
                    encoder.Refresh(point);
                    var candidate = Evaluate(point);
                    if (candidate.Value > best.Value) (best, changed) = (candidate, true);
                }
            }
            if (!changed) break;
        }
        return best;
    }

    private Candidate RefineContinuous(Candidate start)
    {
        var indices = Enumerable.Range(0, encoder.Count)
            .Where(i => encoder.Categories[i] == 0 && start.Point.Active[i] && !encoder.IsParent[i]).ToArray();
        if (indices.Length == 0) return start;
        var point = start.Point.Clone();
        var u = indices.Select(i => point.Values[i]).ToArray();
        var features = new double[encoder.FeatureCount];
        var gradient = new double[encoder.FeatureCount];
        BoundedLbfgs.Minimize((x, g) =>
        {
            for (int k = 0; k < indices.Length; k++) point.Values[indices[k]] = x[k];
            encoder.Encode(point, features);
            double value = acquisition.Value(features, gradient);
            for (int k = 0; k < indices.Length; k++) g[k] = -gradient[encoder.Offsets[indices[k]]];
            return -value;
        }, u, new double[u.Length], Enumerable.Repeat(1.0, u.Length).ToArray(), maxIterations: 50, gradientTolerance: 1e-7);
        for (int k = 0; k < indices.Length; k++) point.Values[indices[k]] = u[k];
        encoder.Refresh(point); // integers snap back to their grid; the value is re-evaluated there
        return Evaluate(point);
    }

    private double Gaussian()
    {
        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
