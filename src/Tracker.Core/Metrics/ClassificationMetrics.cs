namespace Tracker.Core.Metrics;

/// <summary>
/// Confusion matrix and the usual scores of a single-label classifier. F1 follows scikit-learn's
/// <c>f1_score</c>: a class with no predicted (or no true) samples has precision (or recall) 0 rather than NaN,
/// and the macro average runs over the classes that occur in the truth or the predictions.
/// </summary>
public sealed record ClassificationMetrics(
    int[][] Confusion,
    double Accuracy,
    double[] Precision,
    double[] Recall,
    double[] F1,
    int[] Support,
    double MacroF1,
    double WeightedF1)
{
    /// <summary>Computes the metrics; <c>Confusion[t][p]</c> counts samples of true class t predicted as p.</summary>
    public static ClassificationMetrics Compute(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int classCount)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"truth has {truth.Length} labels but predicted has {predicted.Length}.");
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount));
        var confusion = new int[classCount][];
        for (int i = 0; i < classCount; i++) confusion[i] = new int[classCount];
        int correct = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i], p = predicted[i];
            if ((uint)t >= classCount || (uint)p >= classCount)
                throw new ArgumentOutOfRangeException(nameof(truth), $"label {((uint)t >= classCount ? t : p)} is outside [0, {classCount}).");
            confusion[t][p]++;
            if (t == p) correct++;
        }
        return FromConfusion(confusion, truth.Length == 0 ? 0 : (double)correct / truth.Length);
    }

    private static ClassificationMetrics FromConfusion(int[][] confusion, double accuracy)
    {
        int n = confusion.Length;
        var precision = new double[n];
        var recall = new double[n];
        var f1 = new double[n];
        var support = new int[n];
        double macroSum = 0, weightedSum = 0;
        int present = 0, total = 0;
        for (int c = 0; c < n; c++)
        {
            int tp = confusion[c][c], predictedC = 0;
            for (int t = 0; t < n; t++) predictedC += confusion[t][c];
            support[c] = confusion[c].Sum();
            precision[c] = predictedC == 0 ? 0 : (double)tp / predictedC;
            recall[c] = support[c] == 0 ? 0 : (double)tp / support[c];
            // 2TP / (2TP + FP + FN) equals 2PR/(P+R) and stays defined when P or R is 0/0;
            // 2TP + FP + FN = (TP + FP) + (TP + FN) = predicted + support.
            int denominator = predictedC + support[c];
            f1[c] = denominator == 0 ? 0 : 2.0 * tp / denominator;
            if (support[c] > 0 || predictedC > 0)
            {
                present++;
                macroSum += f1[c];
            }
            weightedSum += f1[c] * support[c];
            total += support[c];
        }
        return new ClassificationMetrics(confusion, accuracy, precision, recall, f1, support,
            present == 0 ? 0 : macroSum / present, total == 0 ? 0 : weightedSum / total);
    }
}
