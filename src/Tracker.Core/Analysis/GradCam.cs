using System.Runtime.CompilerServices;
using Tracker.Abstractions;
using Tracker.Core.Data;
using Tracker.Core.Experiments;
using Tracker.Core.Plugins;
using Tracker.Core.Running;
using Tracker.Core.Storage;
using Tracker.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Tracker.Core.Analysis;

/// <summary>A class-activation map of one image.</summary>
/// <param name="Cam">The map in [0, 1], row-major, <paramref name="Height"/> × <paramref name="Width"/> (the image's size).</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="TargetClass">The class whose evidence the map shows.</param>
/// <param name="PredictedClass">The class the model predicts.</param>
/// <param name="Confidence">The softmax probability of the predicted class.</param>
/// <param name="Layer">The module whose activations were used (the feature layer, or the last spatial map inside it).</param>
public sealed record ClassActivationMap(float[] Cam, int Height, int Width, int TargetClass, int PredictedClass, double Confidence, string Layer);

/// <summary>The outcome of a Grad-CAM request: the overlay and its map, or a problem with an HTTP-like status.</summary>
/// <param name="Png">The image with the map overlaid, as PNG.</param>
/// <param name="Map">The map itself.</param>
/// <param name="Status">200, or 404 (no such trial or image), 409 (not possible for this trial), 400 (bad class).</param>
/// <param name="Problem">Why there is no map, or <c>null</c>.</param>
public sealed record GradCamResult(byte[]? Png, ClassActivationMap? Map, int Status = 200, string? Problem = null)
{
    /// <summary>Whether there is a map.</summary>
    public bool Succeeded => Problem is null;

    internal static GradCamResult Fail(int status, string problem) => new(null, null, status, problem);
}

/// <summary>
/// Grad-CAM (Selvaraju et al. 2017) for trained trials: the activations A of the model's last convolutional layer
/// (named by <see cref="IHasFeatureLayer"/>), weighted by the spatial mean of the target class score's gradient with
/// respect to them, summed over channels, passed through ReLU, upsampled bilinearly to the image and scaled to
/// [0, 1]; drawn over the image in a jet colour map. Runs on the CPU with the trial's best checkpoint.
/// </summary>
/// <remarks>
/// The activations are taken with forward hooks, so they need a model whose forward calls its submodules with
/// <c>call</c> (hooks do not fire for <c>forward</c>). When the named layer's own output is not a spatial map (a
/// feature block that ends in pooling and flattening), the last spatial map (more than one pixel) produced inside it
/// is used.
/// </remarks>
public static class GradCam
{
    /// <summary>The opacity of the colour map over the image.</summary>
    public const float Alpha = 0.4f;

    // The training split's channel statistics, computed once per loaded data set (the catalog caches the splits).
    private static readonly ConditionalWeakTable<ImageSet, float[][]> Statistics = [];

    /// <summary>
    /// Whether a trial can have maps, without computing one (cheap: no model is built): <c>null</c> when it can, else
    /// the status and reason that <see cref="ForTrialAsync"/> would give.
    /// </summary>
    public static async Task<(int Status, string Problem)?> AvailabilityAsync(TrackerStores stores, PluginCatalog plugins, string trialId,
        CancellationToken cancellationToken = default) =>
        (await ResolveAsync(stores, plugins, trialId, cancellationToken)).Problem;

    private sealed record Resolved(Trial? Trial, Experiment? Experiment, IModelPlugin? Model, string? Checkpoint, (int Status, string Problem)? Problem);

    private static readonly string[] CheckpointPreference = [Checkpoints.Best, Checkpoints.Last];

    private static async Task<Resolved> ResolveAsync(TrackerStores stores, PluginCatalog plugins, string trialId, CancellationToken cancellationToken)
    {
        var trial = await stores.Trials.GetTrialAsync(trialId, cancellationToken);
        if (trial is null) return new(null, null, null, null, (404, $"There is no trial '{trialId}'."));
        var experiment = await stores.Experiments.GetExperimentAsync(trial.ExperimentId, cancellationToken);
        if (experiment is null) return new(trial, null, null, null, (404, $"The experiment of trial '{trialId}' is gone."));
        var spec = experiment.Spec;
        if (spec.Execution != TrialExecution.Builtin) return new(trial, experiment, null, null, (409, "The trial ran outside the server, so there is no model here to explain."));
        var model = plugins.FindModel(spec.Model);
        if (model is null) return new(trial, experiment, null, null, (409, $"The model plugin '{spec.Model}' is not loaded."));
        if (model is not IHasFeatureLayer) return new(trial, experiment, model, null, (409, NoFeatureLayer(model)));
        var files = (await stores.Artifacts.ListArtifactsAsync(trialId, "", cancellationToken)).Where(f => !f.IsFolder).Select(f => f.Path).ToHashSet();
        string? checkpoint = CheckpointPreference.FirstOrDefault(files.Contains);
        if (checkpoint is null) return new(trial, experiment, model, null, (409, $"Trial #{trial.Number} has no checkpoint yet (one is written after each epoch)."));
        return new(trial, experiment, model, checkpoint, null);
    }

    private static string NoFeatureLayer(IModelPlugin model) =>
        $"The model '{model.Name}' does not name its last convolutional layer, so it has no class-activation maps.";

    /// <summary>
    /// The Grad-CAM overlay of image <paramref name="index"/> of a trial's final evaluation split (the indices of its
    /// prediction gallery), for <paramref name="targetClass"/> or, when null, the predicted class. Uses the trial's
    /// <c>best.pt</c>, else its <c>last.pt</c>.
    /// </summary>
    public static async Task<GradCamResult> ForTrialAsync(TrackerStores stores, PluginCatalog plugins, DatasetCatalog datasets, string trialId, int index,
        int? targetClass, CancellationToken cancellationToken = default)
    {
        var resolved = await ResolveAsync(stores, plugins, trialId, cancellationToken);
        if (resolved.Problem is { } problem) return GradCamResult.Fail(problem.Status, problem.Problem);
        var spec = resolved.Experiment!.Spec;
        DatasetSplits data;
        try
        {
            data = datasets.Load(spec.Dataset.Name, spec.Dataset.Options, spec.Seed);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            return GradCamResult.Fail(409, $"The data set '{spec.Dataset.Name}' cannot be loaded: {e.Message}");
        }
        string? split = (await stores.Evaluations.GetPredictionsAsync(trialId, cancellationToken))?.Split;
        string folder = CheckpointTransfer.NewWorkFolder(trialId);
        try
        {
            string? checkpoint = await CheckpointTransfer.DownloadAsync(stores.Artifacts, trialId, folder, [resolved.Checkpoint!], cancellationToken);
            if (checkpoint is null) return GradCamResult.Fail(409, $"Trial #{resolved.Trial!.Number} has no checkpoint yet (one is written after each epoch).");
            return Compute(resolved.Model!, resolved.Trial!.ResolvedParameters, data, checkpoint, index, targetClass, split);
        }
        finally
        {
            CheckpointTransfer.DeleteWorkFolder(folder);
        }
    }

    /// <summary>
    /// The Grad-CAM overlay of image <paramref name="index"/> of <paramref name="data"/>'s evaluation split (test when
    /// there is one, else validation, unless <paramref name="split"/> names it) for a model loaded from <paramref name="checkpoint"/>.
    /// </summary>
    public static GradCamResult Compute(IModelPlugin plugin, IReadOnlyDictionary<string, ParameterValue> parameters, DatasetSplits data,
        string checkpoint, int index, int? targetClass, string? split = null)
    {
        if (plugin is not IHasFeatureLayer layer) return GradCamResult.Fail(409, NoFeatureLayer(plugin));
        var set = split == "validation" || data.Test is not { Count: > 0 } ? data.Validation : data.Test;
        if (index < 0 || index >= set.Count)
            return GradCamResult.Fail(404, $"There is no image {index} in the evaluation split ({set.Count} images).");
        int classes = data.ClassNames.Count;
        if (targetClass is { } c && (c < 0 || c >= classes))
            return GradCamResult.Fail(400, $"The class must be between 0 and {classes - 1} (got {c}).");
        if (set.Shape.Channels is not (1 or 3))
            return GradCamResult.Fail(409, $"Overlays need grey or RGB images; these have {set.Shape.Channels} channels.");

        using var scope = torch.NewDisposeScope();
        using var model = Trainer.BuildForWeights(plugin, parameters, data.Shape, classes);
        try
        {
            Checkpoints.Load(model, checkpoint, strict: true);
        }
        catch (Exception e)
        {
            return GradCamResult.Fail(409, $"The checkpoint cannot be loaded into the model: {e.Message.Split('\n')[0]}");
        }
        model.eval();

        var s = set.Shape;
        var (mean, std) = ChannelStatistics(data.Train);
        using var image = torch.tensor(set.Pixels.AsSpan(index * set.ImageSize, set.ImageSize).ToArray(), [1, s.Channels, s.Height, s.Width]);
        var input = (image - torch.tensor(mean, [1, s.Channels, 1, 1])) / torch.tensor(std, [1, s.Channels, 1, 1]);
        int inputSize = TrainingSettings.From(parameters).InputSize;
        if (inputSize > 0 && (s.Height != inputSize || s.Width != inputSize))
            input = nn.functional.interpolate(input, [inputSize, inputSize], mode: InterpolationMode.Bilinear, align_corners: false); // as BatchSource does

        var map = Map(model, layer.FeatureLayer, input, targetClass, s.Height, s.Width);
        if (map.Problem is not null) return GradCamResult.Fail(409, map.Problem);
        var pixels = set.Pixels.AsSpan(index * set.ImageSize, set.ImageSize);
        return new GradCamResult(Overlay(pixels, s, map.Value!.Cam), map.Value);
    }

    /// <summary>
    /// Computes the class-activation map of one standardised input [1, C, H', W'] for <paramref name="targetClass"/>
    /// (the predicted class when null), upsampled to <paramref name="height"/> × <paramref name="width"/>.
    /// </summary>
    internal static (ClassActivationMap? Value, string? Problem) Map(nn.Module<Tensor, Tensor> model, string featureLayer, Tensor input, int? targetClass, int height, int width)
    {
        var hooked = model.named_modules().Where(m => m.name == featureLayer || m.name.StartsWith(featureLayer + ".", StringComparison.Ordinal)).ToList();
        if (hooked.Count == 0)
            return (null, $"The model has no module named '{featureLayer}' (its feature layer).");

        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var activations = new List<(string Name, Tensor Value)>();
        var removers = new List<Action>();
        foreach (var (name, module) in hooked)
        {
            if (module is not nn.Module<Tensor, Tensor> m) continue;
            string moduleName = name;
            var remover = m.register_forward_hook((_, _, output) =>
            {
                if (output.dim() == 4 && output.shape[2] * output.shape[3] > 1 && output.requires_grad)
                {
                    // A handle of our own: the model may dispose its intermediate tensors before the backward pass.
                    var kept = output.alias();
                    kept.retain_grad();
                    activations.Add((moduleName, kept));
                }
                return output;
            });
            removers.Add(remover.remove);
        }

        Tensor logits;
        try
        {
            logits = model.call(input);
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        if (activations.Count == 0)
            return (null, $"No spatial activation of '{featureLayer}' was seen: its output is not an image-shaped map, or the model calls it with forward() instead of call(), so no hook fires.");

        var (layer, a) = activations[^1];
        using var probabilities = nn.functional.softmax(logits.detach(), 1);
        int predicted = (int)probabilities.argmax(1).item<long>();
        double confidence = probabilities[0, predicted].item<float>();
        int target = targetClass ?? predicted;
        logits[0, target].backward();
        if (a.grad is not { } g) return (null, $"No gradient reached '{layer}'.");

        using var noGrad = torch.no_grad();
        var weights = g.mean([2, 3], keepdim: true);                           // [1, K, 1, 1]: spatial mean of the gradients
        var cam = nn.functional.relu((weights * a).sum(1, keepdim: true));     // [1, 1, h, w]
        cam = nn.functional.interpolate(cam, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        float low = cam.min().item<float>(), high = cam.max().item<float>();
        cam = high - low > 1e-12f ? (cam - low) / (high - low) : torch.zeros_like(cam);
        var values = cam.to(ScalarType.Float32).cpu().data<float>().ToArray();
        return (new ClassActivationMap(values, height, width, target, predicted, confidence, layer), null);
    }

    /// <summary>Draws <paramref name="cam"/> (H×W in [0, 1]) over a channel-first image in a jet colour map; grey images become RGB.</summary>
    public static byte[] Overlay(ReadOnlySpan<float> chw, InputShape shape, float[] cam)
    {
        int plane = shape.Height * shape.Width;
        if (cam.Length != plane) throw new ArgumentException("the map must have the image's size.", nameof(cam));
        var rgb = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            var (r, g, b) = Jet(cam[p]);
            for (int c = 0; c < 3; c++)
            {
                float pixel = chw[(shape.Channels == 1 ? 0 : c) * plane + p];
                rgb[c * plane + p] = (1 - Alpha) * pixel + Alpha * (c == 0 ? r : c == 1 ? g : b);
            }
        }
        return Png.Encode(rgb, 3, shape.Height, shape.Width);
    }

    /// <summary>The jet colour map: blue at 0, through cyan, yellow, to red at 1.</summary>
    internal static (float R, float G, float B) Jet(float t)
    {
        t = Math.Clamp(t, 0, 1);
        static float Band(float v) => Math.Clamp(1.5f - Math.Abs(v), 0, 1);
        return (Band(4 * t - 3), Band(4 * t - 2), Band(4 * t - 1));
    }

    /// <summary>The training split's channel mean and standard deviation, exactly as the trainer standardises.</summary>
    private static (float[] Mean, float[] Std) ChannelStatistics(ImageSet train)
    {
        var stats = Statistics.GetValue(train, set =>
        {
            using var scope = torch.NewDisposeScope();
            var (mean, std) = Standardisation.Statistics(Standardisation.AsTensor(set));
            return [mean.data<float>().ToArray(), std.data<float>().ToArray()];
        });
        return (stats[0], stats[1]);
    }
}
