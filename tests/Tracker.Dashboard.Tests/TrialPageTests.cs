using System.Runtime.CompilerServices;
using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Live;
using Tracker.Core.Plugins;
using Tracker.Core.Tracking;
using Tracker.Server.Components.Pages;
using Tracker.Server.Components.Shared;

namespace Tracker.Dashboard.Tests;

/// <summary>
/// The run page of a run a script logged, over a real store: its name as the title, its tags, one chart per metric key
/// grouped by prefix (new keys appear live), its params as logged, and none of the sections or words that belong to the
/// server's own trials; an editor's changes to tags and params, which a viewer cannot make; the charts' x axis and
/// smoothing, kept in the URL.
/// </summary>
public sealed class TrialPageTests : StoreBackedTest, IAsyncLifetime
{
    private readonly RunRegistry registry;
    private readonly RunIngest ingest;
    private string runId = "";

    public TrialPageTests()
    {
        registry = new RunRegistry(Store, Store, Store, Store, Feed);
        ingest = new RunIngest(registry, Store, Store, Feed);
        Services.AddSingleton(registry);
        Services.AddSingleton(ingest);
        Services.AddSingleton(new RunArtifacts(Store, Store, registry, Feed, Options.Create(new TrackingOptions())));
        // The page's buttons and Grad-CAM dialog use these; a logged run shows neither.
        Services.AddSingleton((ExperimentService)RuntimeHelpers.GetUninitializedObject(typeof(ExperimentService)));
        Services.AddSingleton((PluginCatalog)RuntimeHelpers.GetUninitializedObject(typeof(PluginCatalog)));
    }

    public async ValueTask InitializeAsync()
    {
        var experiment = await registry.CreateExperimentAsync("scripts", cancellationToken: Xunit.TestContext.Current.CancellationToken);
        var run = await registry.CreateRunAsync(new RunCreate
        {
            ExperimentId = experiment.Value!.Id,
            Name = "baseline",
            Tags = new Dictionary<string, string> { ["team"] = "vision", ["mlflow.user"] = "ci" },
        }, Xunit.TestContext.Current.CancellationToken);
        runId = run.Value!.Id;
        Assert.True((await ingest.LogCheckedAsync(runId, [], [ParamWrite.OfText("lr", "0.001"), ParamWrite.OfText("optimizer", "adam")], [],
            Xunit.TestContext.Current.CancellationToken)).Succeeded);
        long t0 = 1_700_000_000_000;
        string[] keys = ["train/loss", "train/accuracy", "val_loss", "val_f1", "lr"];
        // A step every 30 seconds: step 2 is one minute in.
        var points = Enumerable.Range(0, 200).SelectMany(step => keys.Select(key => new LoggedMetric(key, 1.0 / (step + 1), t0 + step * 30_000L, step))).ToList();
        Assert.True((await ingest.LogMetricsAsync(runId, points, Xunit.TestContext.Current.CancellationToken)).Succeeded);
    }

    /// <summary>
    /// The page of <paramref name="id"/> (the run by default) at its URL with <paramref name="query"/>, interactive
    /// (bUnit does not route: the id is given as the router would).
    /// </summary>
    private IRenderedComponent<TrialPage> RenderRun(string query = "", string? id = null)
    {
        id ??= runId;
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/trials/{id}{query}");
        Render<MudPopoverProvider>();
        return Render<TrialPage>(p => p.Add(x => x.Id, id));
    }

    private Task<Trial?> StoredRunAsync() => Store.GetTrialAsync(runId, Xunit.TestContext.Current.CancellationToken);

    /// <summary>The chart component of <paramref name="key"/>'s panel.</summary>
    private static LineChart Chart(IRenderedComponent<TrialPage> page, string key) =>
        page.FindComponents<LineChart>().Single(c => c.Instance.TestId == $"metric-chart-{key}").Instance;

    /// <summary>The × of the tag <paramref name="key"/>'s chip.</summary>
    private static string RemoveButton(string key) => CloseButton($"[data-testid=run-tag][data-key='{key}']");

    /// <summary>The × of the chip <paramref name="chip"/>: MudBlazor puts it beside a clickable chip, inside another.</summary>
    private static string CloseButton(string chip) => $"{chip} + .mud-chip-close-button, {chip} .mud-chip-close-button";

    /// <summary>
    /// Types <paramref name="value"/> (none for a label) and <paramref name="key"/> (when adding) into the open field
    /// dialog and saves.
    /// </summary>
    private static void SaveField(IRenderedComponent<MudDialogProvider> dialogs, string? key, string? value)
    {
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid=run-field-save]")));
        if (key is not null) dialogs.Find("[data-testid=run-field-key] input, input[data-testid=run-field-key]").Input(key);
        if (value is not null) dialogs.Find("[data-testid=run-field-value] input, input[data-testid=run-field-value]").Input(value);
        else Assert.Empty(dialogs.FindAll("[data-testid=run-field-value]"));
        dialogs.Find("[data-testid=run-field-save]").Click();
    }

    [Fact]
    public void LoggedRun_EveryKeyGetsAChart_GroupedByPrefix()
    {
        var page = RenderRun();

        page.WaitForAssertion(() =>
        {
            var charts = page.FindAll("[data-testid^='metric-chart-']").Select(c => c.GetAttribute("data-testid")).ToList();
            Assert.Equal(["metric-chart-train/accuracy", "metric-chart-train/loss", "metric-chart-val_f1", "metric-chart-val_loss", "metric-chart-lr"], charts);
        });
        Assert.Equal(["train", "val", "Metrics"], page.FindAll("[data-testid='panel-group']").Select(g => g.TextContent.Trim()));
        // Each chart draws the run's own series: 200 steps, from 0 to 199, with both axes titled.
        var valF1 = page.FindComponents<LineChart>().Single(c => c.Instance.TestId == "metric-chart-val_f1").Instance;
        var points = valF1.Layout.Series.Single().Points;
        Assert.Equal((0, 199), (points[0].X, points[^1].X));
        var figure = valF1.Figure.Layout;
        Assert.Equal(("step", "val_f1"), (figure.XAxis.Single().Title.Text, figure.YAxis.Single().Title.Text));
    }

    [Fact]
    public void LoggedRun_NameTagsAndParamsShown_NothingOfBuiltInTrials()
    {
        var page = RenderRun();

        page.WaitForAssertion(() => Assert.Equal("baseline", page.Find("[data-testid='run-title']").TextContent.Trim()));
        Assert.Equal(["team: vision"], page.FindAll("[data-testid='run-tag']").Select(t => t.TextContent.Trim()));
        Assert.Contains("logged run · steps 0–199", page.Find("[data-testid='run-progress']").TextContent);
        string parameters = page.Find("[data-testid='parameters']").TextContent;
        Assert.Contains("lr", parameters);
        Assert.Contains("adam", parameters);
        Assert.DoesNotContain("searched", page.Markup);
        Assert.DoesNotContain("epochs", page.Markup);
        Assert.Empty(page.FindAll("[data-testid='confusion-section']"));
        Assert.Empty(page.FindAll("[data-testid='gallery']"));
        Assert.DoesNotContain("Appears after the first epoch", page.Markup);
        Assert.DoesNotContain("Shown when the trial has finished", page.Markup);
    }

    [Fact]
    public async Task LoggedRun_ANewKeyGetsItsChartLive()
    {
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Equal(5, page.FindAll("[data-testid^='metric-chart-']").Count));

        Assert.True((await ingest.LogMetricsAsync(runId, [new LoggedMetric("grad_norm", 3.5, 1_700_000_001_000, 200)], Xunit.TestContext.Current.CancellationToken)).Succeeded);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid='metric-chart-grad_norm']")));
        var chart = page.FindComponents<LineChart>().Single(c => c.Instance.TestId == "metric-chart-grad_norm").Instance;
        Assert.Equal((200, 3.5), (chart.Layout.Series.Single().Points.Single().X, chart.Layout.Series.Single().Points.Single().Y));
    }

    [Fact]
    public async Task Editor_ChangesAddsAndRemovesTags_StoreHoldsThem()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=run-tag]")));

        page.Find("[data-testid=run-tag][data-key=team]").Click();
        SaveField(dialogs, key: null, "audio");
        page.WaitForAssertion(() => Assert.Equal(["team: audio"], page.FindAll("[data-testid=run-tag]").Select(t => t.TextContent.Trim())));
        Assert.Equal("audio", (await StoredRunAsync())!.RunTags["team"]);

        page.Find("[data-testid=add-tag]").Click();
        SaveField(dialogs, "owner", "ana");
        page.WaitForAssertion(() => Assert.Equal("ana", StoredRunAsync().GetAwaiter().GetResult()!.RunTags.GetValueOrDefault("owner")));
        page.WaitForAssertion(() => Assert.Equal(["owner: ana", "team: audio"], page.FindAll("[data-testid=run-tag]").Select(t => t.TextContent.Trim())));

        page.Find(RemoveButton("team")).Click();
        page.WaitForAssertion(() => Assert.Equal(["owner: ana"], page.FindAll("[data-testid=run-tag]").Select(t => t.TextContent.Trim())));
        var stored = (await StoredRunAsync())!;
        Assert.False(stored.RunTags.ContainsKey("team"));
        Assert.Equal("ci", stored.RunTags["mlflow.user"]); // the system tags stay as the client set them
        Assert.Equal("baseline", stored.RunTags[RunRegistry.RunNameTag]);
    }

    [Fact]
    public async Task Editor_AddsASystemTag_Refused()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=add-tag]")));

        page.Find("[data-testid=add-tag]").Click();
        SaveField(dialogs, RunRegistry.RunNameTag, "renamed");

        page.WaitForAssertion(() => Assert.Contains("mlflow.", page.Find("[data-testid=edit-error]").TextContent));
        Assert.Equal("baseline", (await StoredRunAsync())!.RunTags[RunRegistry.RunNameTag]);
    }

    [Fact]
    public async Task Editor_CorrectsAParam_StoreHoldsTheNewValueAndTheCorrection()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=edit-param]").Count));

        page.Find("[data-testid=edit-param][data-key=lr]").Click();
        SaveField(dialogs, key: null, "0.01");

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=param-edits] li")));
        var stored = (await StoredRunAsync())!;
        Assert.Equal("0.01", stored.Logged!.Params["lr"]);
        Assert.Equal(0.01, stored.Parameters["lr"].Number); // a number again, so the runs grid filters it by range
        Assert.Equal("adam", stored.Logged.Params["optimizer"]);
        var edit = Assert.Single(stored.Logged.ParamEdits);
        Assert.Equal(("lr", "0.001", "0.01", "tester"), (edit.Key, edit.OldText, edit.NewText, edit.By));
        Assert.Contains("lr: 0.001 → 0.01", page.Find("[data-testid=param-edits]").TextContent);
        Assert.Contains("0.01", page.Find("[data-testid=parameters]").TextContent);
    }

    [Fact]
    public async Task Editor_AddsAParam_Stored_AValuePastTheLimitRefused()
    {
        var dialogs = Render<MudDialogProvider>();
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=add-param]")));

        page.Find("[data-testid=add-param]").Click();
        // The field stops typing at the limit; a value past it, as a crafted request would send, is refused below it.
        SaveField(dialogs, "notes", "ok");
        page.WaitForAssertion(() => Assert.Equal("ok", StoredRunAsync().GetAwaiter().GetResult()!.Logged!.Params.GetValueOrDefault("notes")));
        var refused = await ingest.EditParamsAsync(runId, new Dictionary<string, string> { ["notes"] = new string('x', LoggingRules.MaxParamValueLength + 1) }, "tester",
            Xunit.TestContext.Current.CancellationToken);

        Assert.Equal(TrackingErrorKind.InvalidParameter, refused.Error?.Kind);
        Assert.Equal("ok", (await StoredRunAsync())!.Logged!.Params["notes"]);
    }

    [Fact]
    public async Task Viewer_SeesTagsLabelsAndParams_NoEditControls()
    {
        await Store.UpdateTrialAnnotationsAsync(runId, ["keep"], null, Xunit.TestContext.Current.CancellationToken);
        Authorization.SetPolicies(); // a viewer: signed in, admitted by no role policy

        var page = RenderRun();

        page.WaitForAssertion(() => Assert.Equal(["team: vision"], page.FindAll("[data-testid=run-tag]").Select(t => t.TextContent.Trim())));
        Assert.Equal("keep", page.Find("[data-testid=run-label]").TextContent.Trim());
        Assert.Contains("adam", page.Find("[data-testid=parameters]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=add-tag], [data-testid=add-param], [data-testid=edit-param], .mud-chip-close-button"));
        Assert.Empty(page.FindAll("[data-testid=run-tag].mud-clickable"));
    }

    [Fact]
    public async Task RoleLostWhileThePageIsOpen_EditRefused_StoreUnchanged()
    {
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(RemoveButton("team"))));

        Authorization.SetPolicies(); // the controls are still on the page; the edit must ask again
        page.Find(RemoveButton("team")).Click();

        page.WaitForAssertion(() => Assert.Contains("editor role", page.Find("[data-testid=edit-error]").TextContent));
        Assert.Equal("vision", (await StoredRunAsync())!.RunTags["team"]);
    }

    [Fact]
    public async Task BuiltInTrial_ParamsReadOnly_TagsAddedAndRemovedAsLabels()
    {
        var trial = new Trial
        {
            Id = "builtin", ExperimentId = "searched", Number = 3, Epochs = 5, State = TrialState.Completed,
            Parameters = new() { ["lr"] = 0.1 }, ResolvedParameters = new() { ["lr"] = 0.1, ["batch_size"] = 64 },
        };
        await Store.SaveTrialAsync(trial, cancellationToken: Xunit.TestContext.Current.CancellationToken);
        await Store.UpdateTrialAnnotationsAsync("builtin", ["baseline"], null, Xunit.TestContext.Current.CancellationToken);
        var dialogs = Render<MudDialogProvider>();

        var page = RenderRun(id: "builtin");

        page.WaitForAssertion(() => Assert.Contains("(searched)", page.Find("[data-testid=parameters]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=add-param], [data-testid=edit-param]"));
        page.Find("[data-testid=add-tag]").Click();
        SaveField(dialogs, "seed-study", value: null);
        page.WaitForAssertion(() => Assert.Equal(["baseline", "seed-study"], page.FindAll("[data-testid=run-label]").Select(l => l.TextContent.Trim())));
        Assert.Equal(["baseline", "seed-study"], (await Store.GetTrialAsync("builtin", Xunit.TestContext.Current.CancellationToken))!.Tags);

        page.Find(CloseButton("[data-testid=run-label][data-label=baseline]")).Click();
        page.WaitForAssertion(() => Assert.Equal(["seed-study"], page.FindAll("[data-testid=run-label]").Select(l => l.TextContent.Trim())));
        Assert.Equal(["seed-study"], (await Store.GetTrialAsync("builtin", Xunit.TestContext.Current.CancellationToken))!.Tags);
    }

    [Fact]
    public void XAxisTimeInTheUrl_ChartsGetMinutesSinceTheRunsFirstPoint()
    {
        var page = RenderRun("?x=time");

        page.WaitForAssertion(() => Assert.Equal(200, Chart(page, "val_f1").Series.Single().Points.Count));
        var chart = Chart(page, "val_f1");
        Assert.Equal("wall time (minutes)", chart.XLabel);
        Assert.Equal((0.0, 1.0), chart.Series[0].Points[0]);
        Assert.Equal(1.0, chart.Series[0].Points[2].X, 9);
        Assert.Equal(99.5, chart.Series[0].Points[199].X, 9);
    }

    [Fact]
    public void XAxisChosen_ChartsSwitch_ChoiceKeptInTheUrl()
    {
        var page = RenderRun();
        page.WaitForAssertion(() => Assert.Equal("step", Chart(page, "lr").XLabel));
        Assert.Equal(199.0, Chart(page, "lr").Series[0].Points[^1].X);

        page.Find("[data-testid=x-time]").Click();

        page.WaitForAssertion(() => Assert.Equal(99.5, Chart(page, "lr").Series[0].Points[^1].X, 9));
        Assert.Contains("x=time", Services.GetRequiredService<NavigationManager>().Uri);
        page.Find("[data-testid=x-step]").Click();
        page.WaitForAssertion(() => Assert.Equal(199.0, Chart(page, "lr").Series[0].Points[^1].X));
        Assert.DoesNotContain("x=", Services.GetRequiredService<NavigationManager>().Uri);
    }

    [Fact]
    public void SmoothingInTheUrl_SmoothedCurveOverTheFaintLoggedOne()
    {
        var page = RenderRun("?smooth=0.6");

        page.WaitForAssertion(() => Assert.Equal(2, Chart(page, "val_loss").Series.Count));
        var (raw, smoothed) = (Chart(page, "val_loss").Series[0], Chart(page, "val_loss").Series[1]);
        Assert.Equal("val_loss (raw)", raw.Name);
        Assert.StartsWith("rgba(", raw.Color);
        Assert.False(raw.Markers);
        Assert.Equal(1.0 / 3, raw.Points[2].Y, 12); // as logged
        Assert.Equal("val_loss", smoothed.Name);
        Assert.Equal(raw.Points.Select(p => p.X), smoothed.Points.Select(p => p.X));
        // The page's curve is the helper's: 1, then (0.24·1 + 0.4·0.5) / (1 − 0.36) = 0.6875.
        Assert.Equal(1.0, smoothed.Points[0].Y, 12);
        Assert.Equal(0.6875, smoothed.Points[1].Y, 12);
        Assert.Equal(Smoothing.Ema(raw.Points.Select(p => p.Y).ToList(), 0.6), smoothed.Points.Select(p => p.Y));
        Assert.Equal("0.60", page.Find("[data-testid=smoothing-value]").TextContent.Trim());
    }

    [Theory]
    [InlineData("?smooth=abc")]
    [InlineData("?smooth=0")]
    [InlineData("?smooth=-1")]
    public void SmoothingOffOrUnreadable_OneCurveAsLogged(string query)
    {
        var page = RenderRun(query);

        page.WaitForAssertion(() => Assert.Equal(200, Chart(page, "val_loss").Series.Single().Points.Count));
        Assert.Equal(0.5, Chart(page, "val_loss").Series[0].Points[1].Y);
    }
}
