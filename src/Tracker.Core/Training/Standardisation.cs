using Tracker.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Core.Training;

/// <summary>
/// The per-channel standardisation every model sees: images minus the training split's channel mean, divided by its
/// channel standard deviation. One implementation, so that training, evaluation and Grad-CAM agree.
/// </summary>
internal static class Standardisation
{
    /// <summary>Images as an [N, C, H, W] tensor, standardised with the given statistics or, when null, their own.</summary>
    public static (Tensor X, Tensor Mean, Tensor Std) Normalised(ImageSet set, Tensor? mean, Tensor? std)
    {
        var x = AsTensor(set);
        if (mean is null || std is null)
        {
            var (m, s) = Statistics(x);
            (mean, std) = (mean ?? m, std ?? s);
        }
        return ((x - mean) / std, mean, std);
    }

    /// <summary>The channel mean and standard deviation of [N, C, H, W] images, each shaped [1, C, 1, 1].</summary>
    public static (Tensor Mean, Tensor Std) Statistics(Tensor x) =>
        (x.mean([0, 2, 3], keepdim: true), x.std([0, 2, 3], keepdim: true).clamp_min(1e-6));

    /// <summary>The images of <paramref name="set"/> as an [N, C, H, W] float tensor in [0, 1].</summary>
    public static Tensor AsTensor(ImageSet set)
    {
        var s = set.Shape;
        return torch.tensor(set.Pixels, [set.Count, s.Channels, s.Height, s.Width]);
    }
}
