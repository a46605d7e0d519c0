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
        string file = Path.GetFileName(path);
        if (Path.GetExtension(path).ToLowerInvariant() is not (".pt" or ".pth" or ".bin" or ".safetensors") || !(IsZip(path) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
        {
            // TorchSharp's own format: its loader skips the head by name.
            var loaded = new Dictionary<string, bool>();
            try
            {
                model.load(path, strict: false, skip: skip, loadedParameters: loaded);
            }
            catch (Exception e)
            {
                throw new TrainingFailedException($"the weights file {file} could not be loaded: {FirstLine(e.Message)}");
            }
            if (!loaded.Values.Any(v => v))
                throw new TrainingFailedException($"the weights file {file} has none of the model's parameter names; is it for another architecture?");
            return;
        }

        // PyTorch and safetensors files: read the whole state dict, then copy what matches by name and shape. (The
        // PyBridge loader reads skipped entries into the model's tensors too, which fails when the head's shape differs.)
        Dictionary<string, torch.Tensor> state;
        try
        {
            state = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                ? Safetensors.LoadStateDict(path)
                : PyTorchUnpickler.UnpickleStateDict(path).Cast<System.Collections.DictionaryEntry>()
                    .ToDictionary(e => (string)e.Key, e => (torch.Tensor)e.Value!);
        }
        catch (Exception e)
        {
            throw new TrainingFailedException($"the weights file {file} could not be read: {FirstLine(e.Message)}");
        }
        try
        {
            int copied = 0;
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in model.state_dict())
            {
                if (skip.Contains(name) || !state.TryGetValue(name, out var source)) continue;
                if (!source.shape.SequenceEqual(target.shape))
                    throw new TrainingFailedException($"the weights file {file} gives '{name}' the shape [{string.Join(", ", source.shape)}] but the model has [{string.Join(", ", target.shape)}].");
                target.copy_(source);
                copied++;
            }
            if (copied == 0)
                throw new TrainingFailedException($"the weights file {file} has none of the model's parameter names; is it for another architecture?");
        }
        finally
        {
            foreach (var tensor in state.Values) tensor.Dispose();
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0];

    /// <summary>PyTorch's own format since 1.6 is a zip archive; TorchSharp's is not.</summary>
    private static bool IsZip(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        return file.Read(magic) == 2 && magic[0] == (byte)'P' && magic[1] == (byte)'K';
    }
}
