using TorchSharp;

namespace Tracker.Core.Training;

/// <summary>
/// The one place that decides where trials run. "auto" means every CUDA device when the CUDA build of libtorch is
/// present and a GPU is visible, else the CPU; explicit names ("cpu", "cuda:0") are taken as they are.
/// </summary>
public static class TorchDevices
{
    /// <summary>Expands the configured device names into concrete TorchSharp device strings.</summary>
    public static IReadOnlyList<string> Resolve(IEnumerable<string> configured)
    {
        var result = new List<string>();
        foreach (var name in configured.DefaultIfEmpty("auto"))
        {
            if (!string.Equals(name, "auto", StringComparison.OrdinalIgnoreCase))
            {
                result.Add(name.Trim().ToLowerInvariant());
                continue;
            }
            if (torch.cuda.is_available())
                result.AddRange(Enumerable.Range(0, torch.cuda.device_count()).Select(i => $"cuda:{i}"));
            else
                result.Add("cpu");
        }
        return result.Distinct().ToList();
    }

    /// <summary>Whether a resolved device name is the CPU.</summary>
    public static bool IsCpu(string device) => device.StartsWith("cpu", StringComparison.Ordinal);
}
