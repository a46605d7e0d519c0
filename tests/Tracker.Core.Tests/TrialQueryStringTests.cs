using Tracker.Abstractions;
using Tracker.Core.Storage;

namespace Tracker.Core.Tests;

public sealed class TrialQueryStringTests
{
    private static TrialQueryParse Parse(string queryString) => TrialQueryString.Parse(
        queryString.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Select(kv => new KeyValuePair<string, string?>(Uri.UnescapeDataString(kv[0]), kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "")));

    [Fact]
    public void Parse_EveryParameter_FillsTheQuery()
    {
        var parse = Parse("experiment=e1,e2&experiment=e3&model=small-cnn&strategy=tpe&state=completed,Pruned&tag=keep&q=adam"
                          + "&param.learning_rate=0.001..0.1&param.optimizer=sgd&param.width=32&metric.val_f1_macro=0.8..&metric.val_loss=..0.5"
                          + "&sort=metric:val_f1_macro&desc=false&page=2&pageSize=100&cols=ignored");

        Assert.True(parse.Succeeded);
        var q = parse.Query;
        Assert.Equal(["e1", "e2", "e3"], q.ExperimentIds);
        Assert.Equal(("small-cnn", "tpe", "keep", "adam"), (q.Model, q.Strategy, q.Tag, q.Text));
        Assert.Equal([TrialState.Completed, TrialState.Pruned], q.States);
        Assert.Equal((0.001, 0.1), (q.Parameters["learning_rate"].Min, q.Parameters["learning_rate"].Max));
        Assert.Equal("sgd", q.Parameters["optimizer"].Text);
        Assert.Equal((32.0, 32.0), (q.Parameters["width"].Min, q.Parameters["width"].Max));
        Assert.Equal((0.8, null), (q.Metrics["val_f1_macro"].Min, q.Metrics["val_f1_macro"].Max));
        Assert.Equal((null, 0.5), (q.Metrics["val_loss"].Min, q.Metrics["val_loss"].Max));
        Assert.Equal(TrialSortField.Metric("val_f1_macro"), q.SortBy);
        Assert.Equal((false, 2, 100), (q.Descending, q.Page, q.PageSize));
    }

    [Theory]
    [InlineData("param.lr=0.001..abc", "param.lr")]
    [InlineData("metric.val_f1_macro=high", "metric.val_f1_macro")]
    [InlineData("metric.val_loss=0.9..0.1", "metric.val_loss")]
    [InlineData("state=done", "state")]
    [InlineData("sort=loss", "sort")]
    [InlineData("desc=maybe", "desc")]
    [InlineData("page=-1", "page")]
    [InlineData("pageSize=501", "pageSize")]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("param.=1", "param.")]
    public void Parse_BadValue_NamesTheParameter(string queryString, string parameter)
    {
        var parse = Parse(queryString);

        Assert.False(parse.Succeeded);
        Assert.Equal([parameter], parse.Errors.Keys);
        Assert.NotEmpty(parse.Errors[parameter][0]);
    }

    [Fact]
    public void ToQueryString_ThenParse_RoundTrips()
    {
        var query = new TrialQuery
        {
            ExperimentIds = ["e1", "e 2"],
            Model = "small-cnn",
            States = [TrialState.Running, TrialState.Interrupted],
            Tag = "a&b",
            Text = "50% = half",
            Parameters = new Dictionary<string, ValueFilter> { ["learning_rate"] = ValueFilter.Range(1.2345678901234e-5, 0.1), ["head.drop-out"] = ValueFilter.Exactly("x=y") },
            Metrics = new Dictionary<string, ValueFilter> { ["val_f1_macro"] = ValueFilter.Range(0.8, null) },
            SortBy = TrialSortField.Parameter("learning_rate"),
            Descending = false,
            Page = 3,
            PageSize = 25,
        };

        var text = TrialQueryString.ToQueryString(query);
        var back = Parse(text);

        Assert.True(back.Succeeded, string.Join("; ", back.Errors.SelectMany(e => e.Value)));
        Assert.Equal(text, TrialQueryString.ToQueryString(back.Query));
        Assert.Equal(1.2345678901234e-5, back.Query.Parameters["learning_rate"].Min);
        Assert.Equal("x=y", back.Query.Parameters["head.drop-out"].Text);
        Assert.Equal("50% = half", back.Query.Text);
        Assert.Equal(["e1", "e 2"], back.Query.ExperimentIds);
    }

    [Fact]
    public void ToQueryString_Defaults_IsEmpty()
    {
        Assert.Equal("", TrialQueryString.ToQueryString(new TrialQuery()));
        Assert.Equal("page=1", TrialQueryString.ToQueryString(new TrialQuery { Page = 1 }));
        Assert.Equal("", TrialQueryString.ToQueryString(new TrialQuery { Page = 1 }, paging: false));
    }

    [Theory]
    [InlineData("0.001..0.1", 0.001, 0.1, null)]
    [InlineData(" 0.8.. ", 0.8, null, null)]
    [InlineData("..-1e-3", null, -0.001, null)]
    [InlineData("..", null, null, null)]
    [InlineData("7", 7.0, 7.0, null)]
    [InlineData("adam", null, null, "adam")]
    public void ValueFilter_TryParse_ReadsRangesNumbersAndText(string text, double? min, double? max, string? exact)
    {
        Assert.True(ValueFilter.TryParse(text, out var filter, out _));
        Assert.Equal((min, max, exact), (filter.Min, filter.Max, filter.Text));
        Assert.True(ValueFilter.TryParse(filter.ToString(), out var again, out _));
        Assert.Equal(filter, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1..x")]
    [InlineData("NaN..1")]
    [InlineData("2..1")]
    public void ValueFilter_TryParse_Rejects(string text)
    {
        Assert.False(ValueFilter.TryParse(text, out _, out var error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("number", TrialSortKind.Number, null)]
    [InlineData("CreatedAt", TrialSortKind.CreatedAt, null)]
    [InlineData("finishedAt", TrialSortKind.FinishedAt, null)]
    [InlineData("objective", TrialSortKind.Objective, null)]
    [InlineData("state", TrialSortKind.State, null)]
    [InlineData("metric:val_f1_macro", TrialSortKind.Metric, "val_f1_macro")]
    [InlineData("param:head.drop-out", TrialSortKind.Parameter, "head.drop-out")]
    public void TrialSortField_TryParse_RoundTrips(string text, TrialSortKind kind, string? name)
    {
        Assert.True(TrialSortField.TryParse(text, out var field));
        Assert.Equal(new TrialSortField(kind, name), field);
        Assert.True(TrialSortField.TryParse(field.ToString(), out var again));
        Assert.Equal(field, again);
    }
}
