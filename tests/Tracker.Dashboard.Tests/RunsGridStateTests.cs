using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Server.Components.Pages;

namespace Tracker.Dashboard.Tests;

/// <summary>The runs page's state: grid state → store query → URL → state, so that a view is a shareable link.</summary>
public sealed class RunsGridStateTests
{
    private static RunsGridState Everything() => new()
    {
        ExperimentIds = ["exp-1", "exp 2"],
        Model = "small-cnn",
        Strategy = "tpe",
        States = [TrialState.Completed, TrialState.Pruned],
        Tag = "baseline",
        Text = "adam & co",
        Ranges =
        [
            new RangeFilterRow { Name = "learning_rate", Text = "0.001..0.1" },
            new RangeFilterRow { Name = "optimizer", Text = "sgd" },
            new RangeFilterRow { IsMetric = true, Name = MetricNames.ValF1Macro, Text = "0.8.." },
        ],
        Columns = [RunColumn.RunName, RunColumn.Dataset, RunColumn.Parameter("learning_rate"), RunColumn.Metric(MetricNames.ValAccuracy)],
        SortBy = TrialSortField.Metric(MetricNames.ValF1Macro),
        Descending = false,
        Page = 4,
        PageSize = 100,
    };

    [Fact]
    public void ToQuery_EveryControl_BecomesTheStoreQuery()
    {
        var query = Everything().ToQuery();

        Assert.Equal(["exp-1", "exp 2"], query.ExperimentIds);
        Assert.Equal(("small-cnn", "tpe", "baseline", "adam & co"), (query.Model, query.Strategy, query.Tag, query.Text));
        Assert.Equal([TrialState.Completed, TrialState.Pruned], query.States);
        Assert.Equal(ValueFilter.Range(0.001, 0.1), query.Parameters["learning_rate"]);
        Assert.Equal(ValueFilter.Exactly("sgd"), query.Parameters["optimizer"]);
        Assert.Equal(ValueFilter.Range(0.8, null), query.Metrics[MetricNames.ValF1Macro]);
        Assert.Equal((TrialSortField.Metric(MetricNames.ValF1Macro), false, 4, 100), (query.SortBy, query.Descending, query.Page, query.PageSize));
    }

    [Fact]
    public void ToUrl_ThenFromUri_RoundTripsTheWholeState()
    {
        var state = Everything();

        var url = state.ToUrl();
        var back = RunsGridState.FromUri("https://tracker.example" + url);

        Assert.StartsWith("/runs?", url);
        Assert.Empty(back.UrlErrors);
        Assert.Equal(url, back.ToUrl());
        Assert.Equal(state.ExperimentIds, back.ExperimentIds);
        Assert.Equal(state.States, back.States);
        Assert.Equal(state.Columns, back.Columns);
        Assert.Equal(state.Ranges.Select(r => (r.IsMetric, r.Name, r.Text)).OrderBy(r => r.Name), back.Ranges.Select(r => (r.IsMetric, r.Name, r.Text)).OrderBy(r => r.Name));
        Assert.Equal((state.Model, state.Strategy, state.Tag, state.Text), (back.Model, back.Strategy, back.Tag, back.Text));
        Assert.Equal((state.SortBy, state.Descending, state.Page, state.PageSize), (back.SortBy, back.Descending, back.Page, back.PageSize));
        Assert.Equal(TrialQueryString.ToQueryString(state.ToQuery()), TrialQueryString.ToQueryString(back.ToQuery()));
    }

    [Fact]
    public void Grouping_KeptInTheUrl_AWrongOneReported()
    {
        var state = new RunsGridState { GroupBy = new Tracker.Core.Analysis.RunGrouping(Tracker.Core.Analysis.RunGroupingKind.Tag, "team"), GroupMetric = "val_loss" };

        var back = RunsGridState.FromUri(state.ToUrl());

        Assert.Equal(state.GroupBy, back.GroupBy);
        Assert.Equal("val_loss", back.GroupMetric);
        Assert.Equal(state.ToUrl(), back.ToUrl());
        var wrong = RunsGridState.FromUri("/runs?group=seed");
        Assert.Null(wrong.GroupBy);
        Assert.Contains("group", wrong.UrlErrors.Keys);
    }

    [Fact]
    public void ToUrl_Defaults_IsThePlainPath()
    {
        Assert.Equal("/runs", new RunsGridState().ToUrl());
        Assert.Equal("/runs", RunsGridState.FromUri("http://localhost/runs").ToUrl());
        Assert.Equal(RunsGridState.DefaultColumns, RunsGridState.FromUri("/runs").Columns);
    }

    [Fact]
    public void ToUrl_NoColumns_KeptApartFromTheDefault()
    {
        var state = new RunsGridState { Columns = [] };

        Assert.Equal("/runs?col=", state.ToUrl());
        Assert.Empty(RunsGridState.FromUri(state.ToUrl()).Columns);
    }

    [Fact]
    public void ShownColumns_Default_WhatTheRunIsThenEveryParameterInViewThenTheMetrics()
    {
        var shown = new RunsGridState().ShownColumns(["dropout", "lr"]);

        Assert.Equal(["runName", "model", "strategy", "dataset", "param:dropout", "param:lr", "metric:val_f1_macro", "metric:val_loss"], shown.Select(c => c.ToString()));
    }

    [Fact]
    public void ShownColumns_SortedByAColumnNotShown_AddsItsColumnOnly()
    {
        var state = new RunsGridState { Columns = [RunColumn.Parameter("lr")], SortBy = TrialSortField.Metric("val_loss") };

        Assert.Equal([RunColumn.Parameter("lr"), RunColumn.Metric("val_loss")], state.ShownColumns(["lr", "seed"]));
        Assert.Equal([RunColumn.Parameter("lr")], state.Columns);
        Assert.DoesNotContain("col=metric", state.ToUrl());
    }

    [Theory]
    [InlineData("runName", RunColumnKind.RunName, "", "Run name")]
    [InlineData("DataSet", RunColumnKind.Dataset, "", "Data set")]
    [InlineData("params", RunColumnKind.SearchedParameters, "", "Parameters")]
    [InlineData("param:lr", RunColumnKind.Parameter, "lr", "Param: lr")]
    [InlineData("metric:val_f1_macro", RunColumnKind.Metric, "val_f1_macro", "Metric: val_f1_macro")]
    public void RunColumn_TryParse_ReadsTheTextFormAndNamesItForPeople(string text, RunColumnKind kind, string name, string label)
    {
        Assert.True(RunColumn.TryParse(text, out var column));

        Assert.Equal((kind, name, label), (column.Kind, column.Name, column.Label));
        Assert.True(RunColumn.TryParse(column.ToString(), out var back));
        Assert.Equal(column, back);
        Assert.False(RunColumn.TryParse("param:", out _));
        Assert.False(RunColumn.TryParse("loss", out _));
    }

    [Fact]
    public void ToUrl_WithoutPage_DropsOnlyThePage()
    {
        var state = Everything();

        var url = state.ToUrl(withPage: false);

        Assert.Equal(0, RunsGridState.FromUri(url).Page);
        Assert.Equal(state.ToUrl().Replace("&page=4", ""), url);
    }

    [Fact]
    public void ToQuery_IncompleteOrWrongRanges_DoNotFilter()
    {
        var state = new RunsGridState
        {
            Ranges =
            [
                new RangeFilterRow { Name = "learning_rate", Text = "" },
                new RangeFilterRow { Name = "", Text = "1..2" },
                new RangeFilterRow { Name = "width", Text = "8..abc" },
                new RangeFilterRow { IsMetric = true, Name = MetricNames.ValLoss, Text = "low" },
                new RangeFilterRow { Name = "dropout", Text = "..0.3" },
            ],
        };

        var query = state.ToQuery();

        Assert.Equal(["dropout"], query.Parameters.Keys);
        Assert.Empty(query.Metrics);
        Assert.Equal([null, null, "'abc' is not a number.", "'low' is not a number or a range such as 0.8.. or 0.1..0.5.", null], state.Ranges.Select(r => r.Error));
        Assert.DoesNotContain("width", state.ToUrl());
    }

    [Fact]
    public void FromUri_WrongParts_ReportedAndLeftAtDefaults()
    {
        var state = RunsGridState.FromUri("/runs?state=done&param.lr=1..x&sort=speed&col=loss&tag=keep");

        Assert.Equal(["col", "param.lr", "sort", "state"], state.UrlErrors.Keys.Order());
        Assert.Equal("keep", state.Tag);
        Assert.Empty(state.States);
        Assert.Equal(TrialSortField.CreatedAt, state.SortBy);
    }

    [Fact]
    public void ExportUrl_FiltersAndOrderWithoutPaging()
    {
        var url = Everything().ExportUrl("csv");

        Assert.StartsWith("/api/trials/export?format=csv&", url);
        Assert.Contains("experiment=exp-1%2Cexp%202", url);
        Assert.Contains("param.learning_rate=0.001..0.1", url);
        Assert.Contains("metric.val_f1_macro=0.8..", url);
        Assert.Contains("sort=metric%3Aval_f1_macro", url);
        Assert.DoesNotContain("page", url);
        Assert.DoesNotContain("col=", url);
    }

    [Fact]
    public void SortChanged_NewKeyOrDirection_BackToFirstPage()
    {
        var state = new RunsGridState { Page = 3 };

        state.SortChanged("createdAt", true);
        Assert.Equal(3, state.Page); // unchanged: still on page 3

        state.SortChanged("metric:val_loss", false);
        Assert.Equal((TrialSortField.Metric("val_loss"), false, 0), (state.SortBy, state.Descending, state.Page));

        state.Page = 2;
        state.SortChanged("metric:val_loss", null); // unsorted: back to newest first
        Assert.Equal((TrialSortField.CreatedAt, true, 0), (state.SortBy, state.Descending, state.Page));
    }

    [Fact]
    public void FromQuery_ThenToQuery_SameQuery()
    {
        var query = new TrialQuery
        {
            ExperimentIds = ["a"],
            States = [TrialState.Failed],
            Parameters = new Dictionary<string, ValueFilter> { ["lr"] = ValueFilter.Range(null, 0.5) },
            Metrics = new Dictionary<string, ValueFilter> { ["acc"] = ValueFilter.Range(0.9, 1) },
            SortBy = new TrialSortField(TrialSortKind.FinishedAt),
            Page = 2,
        };

        Assert.Equal(TrialQueryString.ToQueryString(query), TrialQueryString.ToQueryString(RunsGridState.FromQuery(query).ToQuery()));
    }
}
