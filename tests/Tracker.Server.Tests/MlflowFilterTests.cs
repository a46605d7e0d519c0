using Tracker.Core.Storage;
using Tracker.Server.Api.Mlflow;

namespace Tracker.Server.Tests;

/// <summary>The parser and evaluator of MLflow's search syntax (filters, order_by).</summary>
public sealed class MlflowFilterTests
{
    private static SearchFilter Parse(string text, SearchFields? fields = null)
    {
        Assert.True(SearchFilter.TryParse(text, fields ?? SearchFields.Runs, out var filter, out var error), error);
        return filter;
    }

    private static string Error(string text, SearchFields? fields = null)
    {
        Assert.False(SearchFilter.TryParse(text, fields ?? SearchFields.Runs, out _, out var error));
        return error!;
    }

    [Theory]
    [InlineData("metrics.f1 > 0.8", SearchEntity.Metric, "f1", SearchOperator.Greater)]
    [InlineData("metric.f1 >= 0.8", SearchEntity.Metric, "f1", SearchOperator.GreaterOrEqual)]
    [InlineData("metrics.f1<0.8", SearchEntity.Metric, "f1", SearchOperator.Less)]
    [InlineData("metrics.f1 <= 0.8", SearchEntity.Metric, "f1", SearchOperator.LessOrEqual)]
    [InlineData("metrics.f1 = 0.8", SearchEntity.Metric, "f1", SearchOperator.Equal)]
    [InlineData("metrics.f1 != 0.8", SearchEntity.Metric, "f1", SearchOperator.NotEqual)]
    [InlineData("metrics.val.f1 > 0.8", SearchEntity.Metric, "val.f1", SearchOperator.Greater)]
    [InlineData("metrics.val/f1-macro > 0.8", SearchEntity.Metric, "val/f1-macro", SearchOperator.Greater)]
    [InlineData("metrics.`f1 macro` > 0.8", SearchEntity.Metric, "f1 macro", SearchOperator.Greater)]
    [InlineData("metrics.\"f1 macro\" > 0.8", SearchEntity.Metric, "f1 macro", SearchOperator.Greater)]
    [InlineData("`metrics`.f1 > 0.8", SearchEntity.Metric, "f1", SearchOperator.Greater)]
    [InlineData("METRICS.f1 > 0.8", SearchEntity.Metric, "f1", SearchOperator.Greater)]
    public void Parse_MetricClause_NumberValue(string text, SearchEntity entity, string key, SearchOperator op)
    {
        var clause = Assert.Single(Parse(text).Clauses);
        Assert.Equal(new SearchClause(entity, key, op, SearchValue.Of(0.8)), clause);
    }

    [Theory]
    [InlineData("params.optimizer = 'adam'", SearchEntity.Param, "optimizer", SearchOperator.Equal, "adam")]
    [InlineData("param.optimizer != \"adam\"", SearchEntity.Param, "optimizer", SearchOperator.NotEqual, "adam")]
    [InlineData("parameters.optimizer like 'ad%'", SearchEntity.Param, "optimizer", SearchOperator.Like, "ad%")]
    [InlineData("parameter.optimizer ILIKE 'AD%'", SearchEntity.Param, "optimizer", SearchOperator.ILike, "AD%")]
    [InlineData("tags.`mlflow.runName` = 'it''s'", SearchEntity.Tag, "mlflow.runName", SearchOperator.Equal, "it's")]
    [InlineData("tag.team = ''", SearchEntity.Tag, "team", SearchOperator.Equal, "")]
    [InlineData("attributes.status = 'FINISHED'", SearchEntity.Attribute, "status", SearchOperator.Equal, "FINISHED")]
    [InlineData("status = 'FINISHED'", SearchEntity.Attribute, "status", SearchOperator.Equal, "FINISHED")]
    [InlineData("run.run_name = 'x'", SearchEntity.Attribute, "run_name", SearchOperator.Equal, "x")]
    [InlineData("attr.user_id = 'ada'", SearchEntity.Attribute, "user_id", SearchOperator.Equal, "ada")]
    [InlineData("\"run name\" = 'x'", SearchEntity.Attribute, "run_name", SearchOperator.Equal, "x")]
    [InlineData("attributes.`Run Name` LIKE 'x%'", SearchEntity.Attribute, "run_name", SearchOperator.Like, "x%")]
    public void Parse_StringClause_TextValue(string text, SearchEntity entity, string key, SearchOperator op, string value)
    {
        var clause = Assert.Single(Parse(text).Clauses);
        Assert.Equal(new SearchClause(entity, key, op, SearchValue.Of(value)), clause);
    }

    [Fact]
    public void Parse_NumericAttributeAndAlias_Number()
    {
        Assert.Equal(new SearchClause(SearchEntity.Attribute, "start_time", SearchOperator.GreaterOrEqual, SearchValue.Of(1.7e12)),
            Assert.Single(Parse("created >= 1700000000000").Clauses));
        Assert.Equal(SearchValue.Of(-2.5e-3), Assert.Single(Parse("attributes.end_time > -2.5e-3").Clauses).Value);
        Assert.Equal(SearchValue.Of(0.5), Assert.Single(Parse("metrics.f1 > .5").Clauses).Value);
    }

    [Fact]
    public void Parse_InAndNotIn_Lists()
    {
        var clauses = Parse("attributes.run_id IN ('a', \"b\") and run_name not   in ('c')").Clauses;
        Assert.Equal(new SearchClause(SearchEntity.Attribute, "run_id", SearchOperator.In, SearchValue.Of(["a", "b"])), clauses[0]);
        Assert.Equal(new SearchClause(SearchEntity.Attribute, "run_name", SearchOperator.NotIn, SearchValue.Of(["c"])), clauses[1]);
    }

    [Fact]
    public void Parse_AndOfThree_ThreeClausesInOrder()
    {
        var clauses = Parse("metrics.f1 > 0.8 AND params.lr = '0.1' And tags.team ILIKE '%vision%'").Clauses;
        Assert.Equal([SearchEntity.Metric, SearchEntity.Param, SearchEntity.Tag], clauses.Select(c => c.Entity));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Parse_Blank_MatchesEverything(string? text)
    {
        Assert.True(SearchFilter.TryParse(text, SearchFields.Runs, out var filter, out _));
        Assert.Empty(filter.Clauses);
        Assert.True(filter.Matches((_, _) => null));
    }

    [Theory]
    [InlineData("metrics.f1 > 'x'", "is a number", 14)]
    [InlineData("metrics.f1 LIKE '%'", "is a number", 12)]
    [InlineData("params.lr > 1", "is a string", 11)]
    [InlineData("params.lr = 1", "quoted string", 13)]
    [InlineData("params.lr = adam", "strings must be quoted", 13)]
    [InlineData("tags.t IN ('a')", "is a string", 8)]
    [InlineData("attributes.run_id IN 'a'", "parenthesised list", 22)]
    [InlineData("attributes.status = ('a')", "quoted string", 21)]
    [InlineData("nothing.x = 'a'", "not an entity type", 1)]
    [InlineData("attributes.color = 'red'", "not an attribute", 1)]
    [InlineData("metrics.f1 > 1 OR metrics.f1 < 0", "OR is not supported", 16)]
    [InlineData("metrics.f1 > 1 metrics.f1 < 0", "expected AND", 16)]
    [InlineData("metrics.f1 ~ 1", "expected a comparison", 12)]
    [InlineData("metrics.f1 NOT LIKE '1'", "expected a comparison", 12)]
    [InlineData("metrics.f1 >", "found the end", 13)]
    [InlineData("metrics.f1 > 1abc", "expected a number or a quoted string", 14)]
    [InlineData("params.lr = 'open", "never closed", 13)]
    [InlineData("metrics.`open > 1", "never closed", 9)]
    [InlineData("attributes.run_id IN ('a',)", "expected a quoted string in the list", 27)]
    [InlineData("attributes.run_id IN ('a' 'b')", "expected ',' or ')'", 27)]
    [InlineData("dataset.name = 'x'", "dataset filters are not supported", 1)]
    [InlineData("= 1", "expected a key", 1)]
    [InlineData("metrics.f1 > 1 AND", "expected a key", 19)]
    public void Parse_Invalid_SaysWhatAndWhere(string text, string what, int position)
    {
        string error = Error(text);
        Assert.StartsWith($"Invalid filter '{text}': ", error);
        Assert.Contains(what, error);
        Assert.EndsWith($"(at position {position})", error);
    }

    [Fact]
    public void Parse_ExperimentFields_OnlyNameTimesAndTags()
    {
        Assert.Equal(2, Parse("name LIKE 'a%' AND tags.team = 'x'", SearchFields.Experiments).Clauses.Count);
        Assert.Single(Parse("attributes.creation_time > 5", SearchFields.Experiments).Clauses);
        Assert.Contains("metrics cannot be used here", Error("metrics.f1 > 1", SearchFields.Experiments));
        Assert.Contains("not an attribute", Error("status = 'x'", SearchFields.Experiments));
    }

    [Theory]
    [InlineData("metrics.f1 > 0.5", 0.6, true)]
    [InlineData("metrics.f1 > 0.5", 0.5, false)]
    [InlineData("metrics.f1 != 0.5", double.NaN, true)]
    [InlineData("metrics.f1 = 0.5", double.NaN, false)]
    [InlineData("attributes.start_time >= 100", 100L, true)]
    [InlineData("params.p LIKE 'a.c'", "abc", false)] // '.' is a character, not a regex wildcard
    [InlineData("params.p LIKE 'a.c'", "a.c", true)]
    [InlineData("params.p LIKE 'a_c'", "abc", true)]
    [InlineData("params.p LIKE 'a%'", "A-team", false)]
    [InlineData("params.p ILIKE 'a%'", "A-team", true)]
    [InlineData("params.p LIKE '%(x)%'", "f(x)=1", true)]
    [InlineData("params.p LIKE 'line%'", "line1\nline2", true)]
    [InlineData("params.p = 'x'", "X", false)]
    [InlineData("attributes.run_id NOT IN ('a', 'b')", "c", true)]
    [InlineData("attributes.run_id IN ('a', 'b')", "c", false)]
    public void Matches_Values(string text, object actual, bool expected)
    {
        Assert.Equal(expected, Parse(text).Matches((_, _) => actual));
    }

    [Theory]
    [InlineData("metrics.f1 != 0.5")]
    [InlineData("params.p != 'x'")]
    [InlineData("attributes.run_id NOT IN ('a')")]
    public void Matches_MissingField_NeverMatches(string text)
    {
        Assert.False(Parse(text).Matches((_, _) => null));
    }

    [Fact]
    public void Matches_And_EveryClauseMustHold()
    {
        var filter = Parse("metrics.f1 > 0.5 AND params.opt = 'adam'");
        Assert.True(filter.Matches((entity, _) => entity == SearchEntity.Metric ? 0.9 : "adam"));
        Assert.False(filter.Matches((entity, _) => entity == SearchEntity.Metric ? 0.9 : "sgd"));
    }

    [Theory]
    [InlineData("metrics.f1 DESC", SearchEntity.Metric, "f1", false)]
    [InlineData("metrics.f1 asc", SearchEntity.Metric, "f1", true)]
    [InlineData("metrics.`f1 macro`", SearchEntity.Metric, "f1 macro", true)]
    [InlineData("params.lr Desc", SearchEntity.Param, "lr", false)]
    [InlineData("tags.team", SearchEntity.Tag, "team", true)]
    [InlineData("attributes.start_time ASC", SearchEntity.Attribute, "start_time", true)]
    [InlineData("start_time DESC", SearchEntity.Attribute, "start_time", false)]
    [InlineData("created DESC", SearchEntity.Attribute, "start_time", false)]
    [InlineData("attributes.experiment_id", SearchEntity.Attribute, "experiment_id", true)]
    public void OrderBy_Parses(string text, SearchEntity entity, string key, bool ascending)
    {
        Assert.True(SearchOrder.TryParse(text, SearchFields.Runs, out var order, out var error), error);
        Assert.Equal(new SearchOrder(entity, key, ascending), order);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("metrics.f1 UP", "ASC or DESC")]
    [InlineData("metrics.f1 DESC now", "unexpected")]
    [InlineData("attributes.color", "not an attribute")]
    public void OrderBy_Invalid(string text, string what)
    {
        Assert.False(SearchOrder.TryParse(text, SearchFields.Runs, out _, out var error));
        Assert.Contains(what, error);
        Assert.StartsWith("Invalid order_by clause", error);
    }

    [Fact]
    public void OrderBy_Compare_MissingAndNaNLastInBothDirections()
    {
        object?[] values = [0.5, null, double.NaN, 0.9, 0.1];
        var ascending = new SearchOrder(SearchEntity.Metric, "f1", true);
        var descending = ascending with { Ascending = false };
        Assert.Equal(new object?[] { 0.1, 0.5, 0.9 }, values.Order(Comparer<object?>.Create(ascending.Compare)).Take(3));
        Assert.Equal(new object?[] { 0.9, 0.5, 0.1 }, values.Order(Comparer<object?>.Create(descending.Compare)).Take(3));
        Assert.All(values.Order(Comparer<object?>.Create(descending.Compare)).Skip(3), v => Assert.True(v is null || v is double.NaN));
        Assert.True(ascending.Compare("a", "b") < 0);
        Assert.True(ascending.Compare("B", "a") < 0); // ordinal
        Assert.True(ascending.Compare(5L, 7.5) < 0);
    }
}
