using Tracker.Core.Metrics;

namespace Tracker.Core.Tests;

public sealed class ClassificationMetricsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void Compute_PerfectClassifier_AllScoresOne()
    {
        int[] labels = [0, 1, 2, 2, 1, 0, 2];

        var m = ClassificationMetrics.Compute(labels, labels, 3);

        Assert.Equal(1.0, m.Accuracy, Tolerance);
        Assert.Equal([1.0, 1.0, 1.0], m.Precision);
        Assert.Equal([1.0, 1.0, 1.0], m.Recall);
        Assert.Equal([1.0, 1.0, 1.0], m.F1);
        Assert.Equal([2, 2, 3], m.Support);
        Assert.Equal(1.0, m.MacroF1, Tolerance);
        Assert.Equal(1.0, m.WeightedF1, Tolerance);
        Assert.Equal([[2, 0, 0], [0, 2, 0], [0, 0, 3]], m.Confusion);
    }

    [Fact]
    public void Compute_ThreeClasses_MatchesHandComputation()
    {
        int[] truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
        int[] predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
        // Confusion[t][p]:      predicted 0  1  2   support
        //   true 0                        2  1  1   4
        //   true 1                        1  2  0   3
        //   true 2                        0  1  2   3
        //   predicted count               3  4  3
        // precision = TP / predicted: 2/3, 2/4, 2/3
        // recall    = TP / support:   2/4, 2/3, 2/3
        // F1 = 2PR / (P + R)  (= 2TP / (predicted + support)):
        //   class 0: 2 * 2/3 * 1/2 / (2/3 + 1/2) = (2/3) / (7/6) = 4/7    check: 4 / (3 + 4) = 4/7
        //   class 1: 2 * 1/2 * 2/3 / (1/2 + 2/3) = 4/7                     check: 4 / (4 + 3) = 4/7
        //   class 2: 2 * 2/3 * 2/3 / (4/3)        = 2/3                     check: 4 / (3 + 3) = 2/3
        // accuracy = 6/10
        // macro F1    = (4/7 + 4/7 + 2/3) / 3 = (12/21 + 12/21 + 14/21) / 3 = 38/63
        // weighted F1 = (4 * 4/7 + 3 * 4/7 + 3 * 2/3) / 10 = (4 + 2) / 10 = 3/5
        var m = ClassificationMetrics.Compute(truth, predicted, 3);

        Assert.Equal([[2, 1, 1], [1, 2, 0], [0, 1, 2]], m.Confusion);
        Assert.Equal([4, 3, 3], m.Support);
        Assert.Equal(0.6, m.Accuracy, Tolerance);
        Assert.Equal(2.0 / 3, m.Precision[0], Tolerance);
        Assert.Equal(0.5, m.Precision[1], Tolerance);
        Assert.Equal(2.0 / 3, m.Precision[2], Tolerance);
        Assert.Equal(0.5, m.Recall[0], Tolerance);
        Assert.Equal(2.0 / 3, m.Recall[1], Tolerance);
        Assert.Equal(2.0 / 3, m.Recall[2], Tolerance);
        Assert.Equal(4.0 / 7, m.F1[0], Tolerance);
        Assert.Equal(4.0 / 7, m.F1[1], Tolerance);
        Assert.Equal(2.0 / 3, m.F1[2], Tolerance);
        Assert.Equal(38.0 / 63, m.MacroF1, Tolerance);
        Assert.Equal(0.6, m.WeightedF1, Tolerance);
    }

    [Fact]
    public void Compute_ClassNeverPredicted_ScoresZeroAndCountsInMacro()
    {
        int[] truth = [0, 0, 1, 1, 2];
        int[] predicted = [0, 0, 1, 1, 1];
        // class 0: TP 2, predicted 2, support 2 -> P 1, R 1, F1 1
        // class 1: TP 2, predicted 3, support 2 -> P 2/3, R 1, F1 2 * 2/3 / (5/3) = 4/5
        // class 2: TP 0, predicted 0, support 1 -> P 0 (0/0 taken as 0), R 0, F1 0
        // macro F1 = (1 + 4/5 + 0) / 3 = 3/5;  weighted F1 = (2 * 1 + 2 * 4/5 + 1 * 0) / 5 = 18/25
        var m = ClassificationMetrics.Compute(truth, predicted, 3);

        Assert.Equal(0.0, m.Precision[2], Tolerance);
        Assert.Equal(0.0, m.Recall[2], Tolerance);
        Assert.Equal(0.0, m.F1[2], Tolerance);
        Assert.Equal(1.0, m.F1[0], Tolerance);
        Assert.Equal(2.0 / 3, m.Precision[1], Tolerance);
        Assert.Equal(1.0, m.Recall[1], Tolerance);
        Assert.Equal(0.8, m.F1[1], Tolerance);
        Assert.Equal(0.6, m.MacroF1, Tolerance);
        Assert.Equal(18.0 / 25, m.WeightedF1, Tolerance);
        Assert.Equal(0.8, m.Accuracy, Tolerance);
    }

    [Fact]
    public void Compute_ClassInNeitherTruthNorPredictions_ExcludedFromMacro()
    {
        int[] truth = [0, 1, 0, 1];
        int[] predicted = [0, 1, 1, 1];
        // class 0: TP 1, predicted 1, support 2 -> P 1, R 1/2, F1 2 * 1/2 / (3/2) = 2/3
        // class 1: TP 2, predicted 3, support 2 -> P 2/3, R 1, F1 4/5
        // class 2: absent from both -> F1 0, left out of the macro average (scikit-learn's default labels)
        // macro F1 = (2/3 + 4/5) / 2 = 11/15 (not / 3 = 22/45);  weighted F1 = (2 * 2/3 + 2 * 4/5) / 4 = 11/15
        var m = ClassificationMetrics.Compute(truth, predicted, 3);

        Assert.Equal(0, m.Support[2]);
        Assert.Equal(0.0, m.F1[2], Tolerance);
        Assert.Equal(2.0 / 3, m.F1[0], Tolerance);
        Assert.Equal(0.8, m.F1[1], Tolerance);
        Assert.Equal(11.0 / 15, m.MacroF1, Tolerance);
        Assert.Equal(11.0 / 15, m.WeightedF1, Tolerance);
        Assert.Equal(0.75, m.Accuracy, Tolerance);
    }

    [Fact]
    public void Compute_NoSamples_ZeroScoresAndEmptyMatrix()
    {
        var m = ClassificationMetrics.Compute(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, 2);

        Assert.Equal(0.0, m.Accuracy);
        Assert.Equal(0.0, m.MacroF1);
        Assert.Equal(0.0, m.WeightedF1);
        Assert.Equal([[0, 0], [0, 0]], m.Confusion);
    }

    [Fact]
    public void Compute_MismatchedLengths_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([0, 1, 1], [0, 1], 2));
        Assert.Contains("3", e.Message);
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(0, 3)]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    public void Compute_LabelOutOfRange_Throws(int badTruth, int badPredicted)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute([0, badTruth], [1, badPredicted], 3));
    }

    [Fact]
    public void Compute_ZeroClasses_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.Compute(ReadOnlySpan<int>.Empty, ReadOnlySpan<int>.Empty, 0));
    }
}
