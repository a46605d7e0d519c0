using TorchSharp;
using TorchSharp.PyBridge;

namespace Tracker.Core.Training;

/// <summary>
/// Model weights on disk: a trial's checkpoints (<c>last.pt</c> after every epoch, <c>best.pt</c> at the best
/// epoch, both in TorchSharp's format) and pretrained weights brought by users.
/// </summary>
public static class Checkpoints
{
    /// <summary>The file name of the latest epoch's weights.</summary>
    public const string Last = "last.pt";

    /// <summary>The file name of the best epoch's weights.</summary>
    public const string Best = "best.pt";

    /// <summary>Writes <c>last.pt</c> (and <c>best.pt</c> when <paramref name="best"/>) atomically: a crash never leaves half a file.</summary>
    public static void Save(torch.nn.Module model, string folder, bool best)
    {
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, Last + ".tmp");
        model.save(temporary);
        File.Move(temporary, Path.Combine(folder, Last), overwrite: true);
        if (best) File.Copy(Path.Combine(folder, Last), Path.Combine(folder, Best), overwrite: true);
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/> into a model of the same architecture.</summary>
    public static void Load(torch.nn.Module model, string path, bool strict)
    {
        if (!File.Exists(path)) throw new TrainingFailedException($"the checkpoint {path} does not exist.");
        model.load(path, strict);
    }

    /// <summary>
    /// Loads pretrained weights for everything but the classifier head (<paramref name="skip"/>), from a PyTorch
    /// <c>state_dict</c> (<c>.pt</c>/<c>.pth</c>/<c>.bin</c>, through TorchSharp.PyBridge), a <c>.safetensors</c> file or a TorchSharp file.
    /// Fails when no parameter of the model was found in the file: that is a wrong file, not a fine-tune.
    /// </summary>
    public static void LoadPretrained(torch.nn.Module model, string path, IList<string> skip)
    {
        if (!File.Exists(path)) throw new TrainingFailedException($"the weights file {path} does not exist.");
        var loaded = new Dictionary<string, bool>();
        try
        {
            switch (Path.GetExtension(path).ToLowerInvariant())
            {
                case ".pt" or ".pth" or ".bin" when IsZip(path):
                    model.load_py(path, strict: false, skip: skip, loadedParameters: loaded);
                    break;
                case ".safetensors":
                    model.load_safetensors(path, strict: false, skip: skip, loadedParameters: loaded);
                    break;
                default:
                    model.load(path, strict: false, skip: skip, loadedParameters: loaded);
                    break;
            }
        }
        catch (Exception e) when (e is not TrainingFailedException)
        {
            throw new TrainingFailedException($"the weights file {Path.GetFileName(path)} could not be loaded: {e.Message}");
        }
        if (!loaded.Values.Any(v => v))
            throw new TrainingFailedException($"the weights file {Path.GetFileName(path)} has none of the model's parameter names; is it for another architecture?");
    }

    /// <summary>PyTorch's own format since 1.6 is a zip archive; TorchSharp's is not.</summary>
    private static bool IsZip(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        return file.Read(magic) == 2 && magic[0] == (byte)'P' && magic[1] == (byte)'K';
    }
}
