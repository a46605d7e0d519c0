using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Components.Pages;
using Tracker.Server.SavedViews;

namespace Tracker.Dashboard.Tests;

/// <summary>The runs page over a real LiteDB store in a temporary folder.</summary>
public sealed class RunsPageTests : StoreBackedTest
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);

    public RunsPageTests() => Services.AddSingleton<ISavedViews>(new JsonFileSavedViews(Path.Combine(Folder, "saved-views.json")));

    private async Task SeedAsync()
    {
        await Store.SaveExperimentAsync(new Experiment { Id = "e1", CreatedAt = T0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "Shapes sweep", Model = "small-cnn", Strategy = "random" } });
        await Store.SaveTrialsAsync(
        [
            Trial("t0", 0, TrialState.Completed, 0.72, 0.001),
            Trial("t1", 1, TrialState.Completed, 0.91, 0.01),
            Trial("t2", 2, TrialState.Failed, null, 0.3),
        ]);
        await Store.UpdateTrialAnnotationsAsync("t1", ["best"], "keep this one");
    }

    private static Trial Trial(string id, int number, TrialState state, double? f1, double lr) => new()
    {
        Id = id,
        ExperimentId = "e1",
        Number = number,
        Parameters = new() { ["learning_rate"] = lr },
        State = state,
        Epochs = 2,
        Objective = f1,
        FinalMetrics = f1 is { } f ? new() { [MetricNames.ValF1Macro] = f } : [],
        CreatedAt = T0.AddMinutes(number),
    };

    private IRenderedComponent<Runs> RenderAt(string relativeUrl) => RenderAt<Runs>(relativeUrl);

    // As RenderAt, keeping the popover host, where open menus and pickers render their items.
    private (IRenderedComponent<Runs> Page, IRenderedComponent<MudPopoverProvider> Popovers) RenderWithPopoversAt(string relativeUrl)
    {
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Services.GetRequiredService<NavigationManager>().NavigateTo(relativeUrl);
        var popovers = Render<MudPopoverProvider>();
        return (Render<Runs>(), popovers);
    }

    // The stored views once the page's save or delete (which the test cannot await) has made them so, or as they are after 10 s.
    private async Task<IReadOnlyList<SavedView>> SavedViewsWhenAsync(Func<IReadOnlyList<SavedView>, bool> done)
    {
        var views = Services.GetRequiredService<ISavedViews>();
        for (int wait = 0; ; wait += 50)
        {
            var stored = await views.ListAsync(Xunit.TestContext.Current.CancellationToken);
            if (done(stored) || wait >= 10_000) return stored;
            await Task.Delay(50, Xunit.TestContext.Current.CancellationToken);
        }
    }

    private static string[] HeaderTexts(IRenderedComponent<Runs> cut) =>
        cut.FindAll("[data-testid=runs] thead th").Select(th => th.TextContent.Trim()).ToArray();

    // The text of each row's cell in the column named by its text form, e.g. "runName" or "param:lr".
    private static string[] Cells(IRenderedComponent<Runs> cut, string column) =>
        cut.FindAll($"[data-testid=runs] tbody td[data-column='{column}']").Select(td => td.TextContent.Trim()).ToArray();

    private static string[] TrialLinks(IRenderedComponent<Runs> cut) =>
        cut.FindAll("[data-testid=trial-link]").Select(a => a.GetAttribute("href")!).ToArray();

    [Fact]
    public async Task Render_TrialsInStore_RowsNewestFirstLinkedToTheirPages()
    {
        await SeedAsync();

        var cut = RenderAt("/runs");

        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2", "/trials/t1", "/trials/t0"], TrialLinks(cut)));
        Assert.Contains("Shapes sweep", cut.Find("[data-testid=runs]").TextContent);
        Assert.Equal("best", cut.FindAll("[data-testid=tags]")[1].TextContent.Trim());
        Assert.Equal("keep this one", cut.FindAll("[data-testid=notes]")[1].TextContent.Trim());
        Assert.Contains("1–3 of 3 trials", cut.Find("[data-testid=page-summary]").TextContent);
        Assert.Contains("0.9100", cut.Find("[data-testid=runs]").TextContent); // the default val_f1_macro column
    }

    [Fact]
    public async Task Render_FiltersAndSortInUrl_AppliedByTheStore()
    {
        await SeedAsync();

        var cut = RenderAt("/runs?state=completed&sort=metric:val_f1_macro&desc=false&col=param:learning_rate");

        cut.WaitForAssertion(() => Assert.Equal(["/trials/t0", "/trials/t1"], TrialLinks(cut)));
        var header = cut.Find("[data-testid=runs] thead").TextContent;
        Assert.Contains("learning_rate (param)", header);
        Assert.Contains(MetricNames.ValF1Macro, header); // the sort key's column is added so that it can show its direction
        Assert.Contains("1–2 of 2 trials", cut.Find("[data-testid=page-summary]").TextContent);
        Assert.Contains("format=csv&state=completed&sort=metric%3Aval_f1_macro&desc=false", cut.Find("[data-testid=export-csv]").GetAttribute("href"));
    }

    [Fact]
    public async Task ChooseRuns_TwoTicked_CompareLinksThemInTheOrderTicked()
    {
        await SeedAsync();
        var cut = RenderAt("/runs");
        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2", "/trials/t1", "/trials/t0"], TrialLinks(cut)));
        Assert.Contains("Compare (0)", cut.Find("[data-testid=compare-runs]").TextContent);

        cut.FindAll("input[data-testid=choose-run]")[1].Change(true); // t1
        cut.FindAll("input[data-testid=choose-run]")[2].Change(true); // t0
        cut.FindAll("input[data-testid=choose-run]")[0].Change(true); // t2, then untick it again
        cut.FindAll("input[data-testid=choose-run]")[0].Change(false);

        var compare = cut.Find("[data-testid=compare-runs]");
        Assert.Contains("Compare (2)", compare.TextContent);
        Assert.Equal("/runs/compare?t=t1&t=t0", compare.GetAttribute("href"));
    }

    [Fact]
    public async Task Render_RunDeletedThroughMlflow_ListedAndMarkedDeleted()
    {
        await SeedAsync();
        await Store.SaveTrialAsync((await Store.GetTrialAsync("t0"))! with { LifecycleStage = Tracker.Core.Tracking.LifecycleStage.Deleted });

        var cut = RenderAt("/runs");

        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2", "/trials/t1", "/trials/t0"], TrialLinks(cut)));
        var rows = cut.FindAll("[data-testid=runs] tbody tr");
        Assert.Equal([false, false, true], rows.Select(r => r.QuerySelector("[data-testid=deleted]") is not null));
    }

    [Fact]
    public void ExperimentChoices_DeletedOnes_OfferedOnlyWhenAlreadyChosen()
    {
        Experiment Named(string id, string name, bool deleted) => new()
        {
            Id = id, CreatedAt = T0, Spec = new ExperimentSpec { Name = name, Model = "m", Strategy = "s" },
            LifecycleStage = deleted ? Tracker.Core.Tracking.LifecycleStage.Deleted : Tracker.Core.Tracking.LifecycleStage.Active,
        };
        Experiment[] all = [Named("b", "beta", false), Named("x", "deleted script", true), Named("a", "Alpha", false)];

        Assert.Equal(["a", "b"], ExperimentChoices.Offered(all, []).Select(e => e.Id));
        Assert.Equal(["a", "b", "x"], ExperimentChoices.Offered(all, ["x"]).Select(e => e.Id));
    }

    [Fact]
    public void Render_EmptyStore_SaysHowTrialsArrive()
    {
        var cut = RenderAt("/runs");

        cut.WaitForAssertion(() => Assert.Contains("No trials yet", cut.Find("[data-testid=no-runs]").TextContent));
    }

    [Fact]
    public async Task Render_FilterMatchesNothing_SaysSo()
    {
        await SeedAsync();

        var cut = RenderAt("/runs?tag=nothing-has-this");

        cut.WaitForAssertion(() => Assert.Contains("No trials match these filters.", cut.Find("[data-testid=no-runs]").TextContent));
        Assert.NotNull(cut.Find("[data-testid=clear-filters]"));
    }

    [Fact]
    public async Task Render_BadUrlParts_ShownAndIgnored()
    {
        await SeedAsync();

        var cut = RenderAt("/runs?state=done&param.learning_rate=1..x");

        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));
        var alert = cut.Find("[data-testid=url-errors]").TextContent;
        Assert.Contains("state", alert);
        Assert.Contains("param.learning_rate", alert);
    }

    [Fact]
    public async Task Load_StateChanges_WrittenBackToTheUrl()
    {
        await SeedAsync();
        var navigation = Services.GetRequiredService<NavigationManager>();

        var cut = RenderAt("/runs?pageSize=25&desc=true");

        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));
        // The URL is normalised to the state it shows (the default order drops out).
        cut.WaitForAssertion(() => Assert.EndsWith("/runs?pageSize=25", navigation.Uri));
    }

    [Fact]
    public async Task LocationChanged_BackToAnotherView_ReloadsIt()
    {
        await SeedAsync();
        var navigation = Services.GetRequiredService<NavigationManager>();
        var cut = RenderAt("/runs");
        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));

        await cut.InvokeAsync(() => navigation.NavigateTo("/runs?state=failed"));

        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2"], TrialLinks(cut)));
    }

    [Fact]
    public async Task EditAnnotations_SaveInDialog_StoredAndShown()
    {
        await SeedAsync();
        var dialogs = Render<MudDialogProvider>();
        var cut = RenderAt("/runs?state=failed");
        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2"], TrialLinks(cut)));

        cut.Find("[data-testid=edit-annotations]").Click();
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid=annotation-save]")));
        dialogs.Find("input[data-testid=annotation-tags], [data-testid=annotation-tags] input").Input("oom, retry");
        dialogs.Find("textarea[data-testid=annotation-notes], [data-testid=annotation-notes] textarea").Input("ran out of memory");
        dialogs.Find("[data-testid=annotation-save]").Click();

        cut.WaitForAssertion(() => Assert.Equal(["oom", "retry"], Store.GetTrialAsync("t2").GetAwaiter().GetResult()!.Tags));
        Assert.Equal("ran out of memory", (await Store.GetTrialAsync("t2"))!.Notes);
        cut.WaitForAssertion(() => Assert.Equal("oomretry", cut.Find("[data-testid=tags]").TextContent.Replace(" ", "").Trim()));
    }

    [Fact]
    public async Task GroupedByAParameter_MeanAndSdOfF1PerGroup_OverEveryMatchingRun_KeptInTheUrl()
    {
        await Store.SaveExperimentAsync(new Experiment { Id = "e1", CreatedAt = T0, State = ExperimentState.Completed, Spec = new ExperimentSpec { Name = "Seeds", Model = "small-cnn", Strategy = "grid" } });
        // Three seeds at each of two learning rates; more runs than one page of 25.
        var trials = new List<Trial>();
        for (int seed = 0; seed < 15; seed++)
        {
            trials.Add(Trial($"a{seed}", 2 * seed, TrialState.Completed, 0.80 + (seed % 3 - 1) * 0.02, 0.01));
            trials.Add(Trial($"b{seed}", 2 * seed + 1, TrialState.Completed, 0.60 + (seed % 3 - 1) * 0.04, 0.1));
        }
        await Store.SaveTrialsAsync(trials);

        var cut = RenderAt("/runs?pageSize=25&group=param:learning_rate");

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=run-group]").Count));
        var rows = cut.FindAll("[data-testid=run-group]").Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToArray()).ToList();
        Assert.Equal(["0.01", "15", "0.8000 ± 0.0169", "0.7800", "0.8200"], rows[0]);
        Assert.Equal(["0.1", "15", "0.6000 ± 0.0338", "0.5600", "0.6400"], rows[1]);
        Assert.Equal(25, cut.FindAll("[data-testid=trial-link]").Count); // the grid still pages
        Assert.Contains("group=param%3Alearning_rate", Services.GetRequiredService<NavigationManager>().Uri.Replace(":", "%3A"));
    }

    [Fact]
    public async Task Render_DefaultColumns_WhatEachRunIsAndEveryParameter_BlankWhereItDoesNotApply()
    {
        await Store.SaveExperimentAsync(new Experiment
        {
            Id = "e1", CreatedAt = T0, State = ExperimentState.Completed,
            Spec = new ExperimentSpec { Name = "Shapes sweep", Model = "small-cnn", Strategy = "random", Dataset = new DatasetSpec { Name = "fashion-mnist" } },
        });
        // A script's runs: no model, strategy or data set of the server's, though the spec keeps the record's default data set.
        await Store.SaveExperimentAsync(new Experiment { Id = "s1", CreatedAt = T0, Spec = new ExperimentSpec { Name = "notebook", Execution = TrialExecution.Logged } });
        await Store.SaveTrialsAsync(
        [
            Trial("t0", 0, TrialState.Completed, 0.72, 0.001),
            Trial("r0", 0, TrialState.Completed, 0.5, 0.1) with
            {
                ExperimentId = "s1", CreatedAt = T0.AddHours(1),
                Parameters = new() { ["batch_size"] = 64 },
                RunTags = new() { [Tracker.Core.Tracking.RunRegistry.RunNameTag] = "bright-fox-1" },
            },
        ]);

        var cut = RenderAt("/runs");

        cut.WaitForAssertion(() => Assert.Equal(["/trials/r0", "/trials/t0"], TrialLinks(cut)));
        cut.WaitForAssertion(() => Assert.Equal(
            ["", "Experiment", "#", "State", "Objective", "Run name", "Model", "Strategy", "Data set", "batch_size (param)", "learning_rate (param)",
             MetricNames.ValF1Macro, MetricNames.ValLoss, "Created", "Finished", "Tags", "Notes", ""],
            HeaderTexts(cut)));
        Assert.Equal(["bright-fox-1", ""], Cells(cut, "runName"));
        Assert.Equal(["", "small-cnn"], Cells(cut, "model"));
        Assert.Equal(["", "random"], Cells(cut, "strategy"));
        Assert.Equal(["", "fashion-mnist"], Cells(cut, "dataset"));
        Assert.Equal(["64", "–"], Cells(cut, "param:batch_size"));
        Assert.Equal(["–", "0.001"], Cells(cut, "param:learning_rate"));
        Assert.EndsWith("/runs", Services.GetRequiredService<NavigationManager>().Uri); // the default columns need no words in the URL
    }

    [Fact]
    public async Task Render_DefaultColumns_OnlyTheParametersOfTheRunsInView()
    {
        await SeedAsync();
        await Store.SaveExperimentAsync(new Experiment { Id = "s1", CreatedAt = T0, Spec = new ExperimentSpec { Name = "notebook", Execution = TrialExecution.Logged } });
        await Store.SaveTrialAsync(Trial("r0", 0, TrialState.Completed, 0.5, 0.1) with { ExperimentId = "s1", Parameters = new() { ["batch_size"] = 64 } });

        var cut = RenderAt("/runs?experiment=e1");

        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));
        cut.WaitForAssertion(() => Assert.Contains("learning_rate (param)", HeaderTexts(cut)));
        Assert.DoesNotContain("batch_size (param)", HeaderTexts(cut));
    }

    [Fact]
    public async Task ColumnPicker_Opened_NamesColumnsForPeople()
    {
        await SeedAsync();
        var (cut, popovers) = RenderWithPopoversAt("/runs");
        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));

        var picker = cut.FindComponents<MudSelect<string>>().Single(s => Equals(s.Instance.UserAttributes.GetValueOrDefault("data-testid"), "column-picker"));
        await cut.InvokeAsync(picker.Instance.OpenMenu);

        popovers.WaitForAssertion(() => Assert.NotEmpty(popovers.FindAll(".mud-list-item")));
        var labels = popovers.FindAll(".mud-list-item").Select(i => i.TextContent.Trim()).ToArray();
        Assert.Equal(["Run name", "Model", "Strategy", "Data set", "Param: learning_rate"], labels[..5]);
        Assert.Contains("Metric: val_f1_macro", labels);
        Assert.DoesNotContain(labels, l => l.StartsWith("metric:", StringComparison.Ordinal) || l.StartsWith("param:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExperimentFilter_ChosenInTheUrl_ShowsTheExperimentsName()
    {
        await SeedAsync();

        var cut = RenderAt("/runs?experiment=e1");

        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));
        Assert.Equal("Shapes sweep", cut.Find("input[data-testid=filter-experiments]").GetAttribute("value"));
        Assert.Equal("Shapes sweep", cut.FindAll("[data-testid=experiment-link]")[0].TextContent.Trim());
        Assert.Equal("Shapes sweep", cut.FindAll("[data-testid=experiment-link]")[0].ParentElement!.GetAttribute("title"));
    }

    [Fact]
    public async Task SaveView_ThenOpenItFromAnotherView_RestoresColumnsFiltersAndSort()
    {
        await SeedAsync();
        var dialogs = Render<MudDialogProvider>();
        var (cut, popovers) = RenderWithPopoversAt("/runs?state=completed&sort=metric:val_f1_macro&desc=false&col=runName&col=param:learning_rate");
        cut.WaitForAssertion(() => Assert.Equal(["/trials/t0", "/trials/t1"], TrialLinks(cut)));

        cut.Find("[data-testid=saved-views] button").Click();
        popovers.WaitForAssertion(() => Assert.NotNull(popovers.Find("[data-testid=save-view]")));
        popovers.Find("[data-testid=save-view]").Click();
        dialogs.WaitForAssertion(() => Assert.NotNull(dialogs.Find("[data-testid=view-save]")));
        dialogs.Find("input[data-testid=view-name], [data-testid=view-name] input").Input("  worst completed first ");
        dialogs.Find("[data-testid=view-save]").Click();

        var stored = await SavedViewsWhenAsync(views => views.Count == 1);
        Assert.Equal("worst completed first", stored[0].Name);
        Assert.Equal("/runs?state=completed&sort=metric%3Aval_f1_macro&desc=false&col=runName&col=param%3Alearning_rate", stored[0].Url);

        // Elsewhere: every run, the default columns, newest first.
        var navigation = Services.GetRequiredService<NavigationManager>();
        await cut.InvokeAsync(() => navigation.NavigateTo("/runs"));
        cut.WaitForAssertion(() => Assert.Equal(["/trials/t2", "/trials/t1", "/trials/t0"], TrialLinks(cut)));
        Assert.Contains("Model", HeaderTexts(cut));

        cut.Find("[data-testid=saved-views] button").Click();
        popovers.WaitForAssertion(() => Assert.Equal("worst completed first", popovers.Find("[data-testid=saved-view]").TextContent.Trim()));
        popovers.Find("[data-testid=saved-view]").Click();

        cut.WaitForAssertion(() => Assert.Equal(["/trials/t0", "/trials/t1"], TrialLinks(cut)));
        cut.WaitForAssertion(() => Assert.Equal(
            ["", "Experiment", "#", "State", "Objective", "Run name", "learning_rate (param)", MetricNames.ValF1Macro, "Created", "Finished", "Tags", "Notes", ""],
            HeaderTexts(cut)));
        Assert.Contains("state=completed", navigation.Uri);
    }

    [Fact]
    public async Task DeleteView_FromTheMenu_GoneFromTheStoreAndTheMenu()
    {
        await SeedAsync();
        var views = Services.GetRequiredService<ISavedViews>();
        await views.SaveAsync(new SavedView("failed", "/runs?state=failed", T0), Xunit.TestContext.Current.CancellationToken);
        await views.SaveAsync(new SavedView("best", "/runs?tag=best", T0), Xunit.TestContext.Current.CancellationToken);
        var (cut, popovers) = RenderWithPopoversAt("/runs");
        cut.WaitForAssertion(() => Assert.Equal(3, TrialLinks(cut).Length));

        cut.Find("[data-testid=saved-views] button").Click();
        popovers.WaitForAssertion(() => Assert.Equal(["best", "failed"], popovers.FindAll("[data-testid=saved-view]").Select(v => v.TextContent.Trim())));
        popovers.FindAll("[data-testid=delete-view]")[1].Click();

        Assert.Equal(["best"], (await SavedViewsWhenAsync(v => v.Count < 2)).Select(v => v.Name));
        Assert.Equal(3, TrialLinks(cut).Length); // deleting a view does not open it
        Assert.EndsWith("/runs", Services.GetRequiredService<NavigationManager>().Uri);
    }
}
