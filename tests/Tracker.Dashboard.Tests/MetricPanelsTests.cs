using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>How a run's metric keys are laid out as panels: grouped by folder or shared first word, ungrouped keys last.</summary>
public sealed class MetricPanelsTests
{
    // Each group as "name: key, key".
    private static List<string> Groups(params string[] keys) =>
        MetricPanels.Arrange(keys).Select(g => $"{g.Name}: {string.Join(", ", g.Keys)}").ToList();

    [Fact]
    public void Keys_GroupedByFolderOrSharedWord_UngroupedLast()
    {
        var groups = Groups("val_loss", "train/loss", "lr", "val_f1", "train/acc", "eval/per_class/f1_cat", "learning_rate", "loss");

        Assert.Equal(["eval/per_class: eval/per_class/f1_cat", "train: train/acc, train/loss", "val: val_f1, val_loss", "Metrics: learning_rate, loss, lr"], groups);
    }

    [Fact]
    public void AWordNoOtherKeyShares_StaysUngrouped_DuplicatesOnce()
    {
        Assert.Equal(["Metrics: learning_rate, val_loss"], Groups("learning_rate", "val_loss", "val_loss"));
        Assert.Empty(Groups());
    }
}
