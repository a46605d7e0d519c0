using Tracker.Core.Metrics;

namespace Tracker.Core.Experiments;

/// <summary>
/// A classification report of one trial on one split at one step: per-class precision, recall, F1 and support,
/// the averages and the confusion matrix. The trainer stores one for the validation split every epoch and one for
/// the evaluation split (test, else validation) at the end.
/// </summary>
/// <param name="TrialId">The trial.</param>
/// <param name="Split">"validation" or "test".</param>
/// <param name="Step">The epoch it describes.</param>
/// <param name="ClassNames">Class names, index = label.</param>
/// <param name="Scores">The scores.</param>
public sealed record EvaluationReport(string TrialId, string Split, int Step, IReadOnlyList<string> ClassNames, ClassificationMetrics Scores);

/// <summary>One evaluation image's prediction.</summary>
/// <param name="Index">Its index in the evaluation split.</param>
/// <param name="TrueLabel">The true label.</param>
/// <param name="PredictedLabel">The predicted label.</param>
/// <param name="Confidence">The softmax probability of the predicted label.</param>
public sealed record Prediction(int Index, int TrueLabel, int PredictedLabel, double Confidence);

/// <summary>A trial's predictions on its evaluation split, and which of them have a stored thumbnail.</summary>
/// <param name="TrialId">The trial.</param>
/// <param name="Split">"test" or "validation".</param>
/// <param name="ClassNames">Class names, index = label.</param>
/// <param name="Items">Every prediction, in split order.</param>
/// <param name="SampleIndices">The indices with a stored thumbnail (see <c>IEvaluationStore.GetSampleImageAsync</c>).</param>
public sealed record PredictionSet(string TrialId, string Split, IReadOnlyList<string> ClassNames, IReadOnlyList<Prediction> Items, IReadOnlyList<int> SampleIndices);
