namespace Tracker.Abstractions;

/// <summary>
/// Optional capability of an <see cref="IModelPlugin"/>: names the classifier head, so that the trainer can load
/// pretrained weights for everything else (transfer learning) and freeze the backbone for the first epochs.
/// </summary>
public interface IHasClassifierHead
{
    /// <summary>
    /// The prefix of the head's parameter names in the built module's state dict (e.g. <c>classifier.</c> or
    /// <c>fc.</c>). Guarantee: every parameter whose name starts with it belongs to the layers that map features to
    /// class logits, and no other parameter does.
    /// </summary>
    string ClassifierPrefix { get; }
}

/// <summary>
/// Optional capability of an <see cref="IModelPlugin"/>: names the last convolutional layer, whose activations feed
/// class-activation maps (Grad-CAM).
/// </summary>
public interface IHasFeatureLayer
{
    /// <summary>The name of the last convolutional feature block in the built module (as in <c>named_modules()</c>).</summary>
    string FeatureLayer { get; }
}
