using Microsoft.AspNetCore.Components;
using Tracker.Core.Experiments;

namespace Tracker.Server.Components.Pages;

/// <summary>
/// The analytics panel of the experiment page. Recomputed only when the set of completed trials changes, so that live
/// epoch updates of running trials cost nothing here; for large searches (the importance forest takes about a second
/// at 10,000 trials) off the circuit's thread, showing the previous figures meanwhile.
/// </summary>
public partial class ExperimentAnalytics : ComponentBase
{
    /// <summary>Above this many completed trials the analytics are computed in the background.</summary>
    public const int BackgroundThreshold = 300;

    /// <summary>The experiment. Defaults to none (nothing is shown).</summary>
    [Parameter] public Experiment? Experiment { get; set; }

    /// <summary>Its trials. Defaults to none.</summary>
    [Parameter] public IReadOnlyList<Trial> Trials { get; set; } = [];

    private ExperimentAnalyticsModel model = ExperimentAnalyticsModel.From(new ExperimentSpec(), []);
    private (string Id, int Count, int Hash)? computedFor;
    private bool computing, stale;

    /// <inheritdoc />
    protected override void OnParametersSet() => Refresh();

    private void Refresh()
    {
        if (Experiment is null) return;
        var scored = ExperimentAnalyticsModel.Scored(Trials);
        var hash = new HashCode();
        foreach (var t in scored) hash.Add(t.Id);
        var key = (Experiment.Id, scored.Count, hash.ToHashCode());
        if (key == computedFor) return;
        if (computing)
        {
            stale = true; // computed again, from the trials as they are then, when the running computation ends
            return;
        }
        computedFor = key;
        var spec = Experiment.Spec;
        if (scored.Count <= BackgroundThreshold)
        {
            model = ExperimentAnalyticsModel.From(spec, scored);
            return;
        }
        computing = true;
        _ = Task.Run(() => ExperimentAnalyticsModel.From(spec, scored)).ContinueWith(done => InvokeAsync(() =>
        {
            computing = false;
            if (done.IsCompletedSuccessfully) model = done.Result;
            if (stale)
            {
                stale = false;
                Refresh();
            }
            StateHasChanged();
        }), TaskScheduler.Default);
    }
}
