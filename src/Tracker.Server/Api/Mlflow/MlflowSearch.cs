using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Experiments;
using Tracker.Core.Storage;
using Tracker.Core.Tracking;
using static Tracker.Core.Tracking.TrackingError;

namespace Tracker.Server.Api.Mlflow;

/// <summary>A search of runs (MLflow's runs/search).</summary>
public sealed record RunSearch
{
    /// <summary>The experiments to search; none gives no runs. Defaults to none.</summary>
    public IReadOnlyList<string> ExperimentIds { get; init; } = [];

    /// <summary>A filter in MLflow's syntax (see <see cref="SearchFilter"/>), or <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>Which lifecycle stages. Defaults to <see cref="ViewType.ActiveOnly"/>.</summary>
    public ViewType ViewType { get; init; } = ViewType.ActiveOnly;

    /// <summary>Runs per page, 1 to <see cref="MlflowRules.MaxSearchResults"/>. Defaults to <see cref="MlflowRules.DefaultSearchResults"/>.</summary>
    public int MaxResults { get; init; } = MlflowRules.DefaultSearchResults;

    /// <summary>Sort keys, e.g. <c>metrics.f1 DESC</c>; ties and the rest by start time (newest first), then id. Defaults to none.</summary>
    public IReadOnlyList<string> OrderBy { get; init; } = [];

    /// <summary>The token of the page to read (from the previous page), or <c>null</c> for the first. Defaults to <c>null</c>.</summary>
    public string? PageToken { get; init; }
}

/// <summary>A search of experiments (MLflow's experiments/search and experiments/list).</summary>
public sealed record ExperimentSearch
{
    /// <summary>A filter on <c>name</c>, <c>creation_time</c>, <c>last_update_time</c> and <c>tags.*</c>, or <c>null</c>. Defaults to <c>null</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>Which lifecycle stages. Defaults to <see cref="ViewType.ActiveOnly"/>.</summary>
    public ViewType ViewType { get; init; } = ViewType.ActiveOnly;

    /// <summary>Experiments per page, 1 to <see cref="MlflowRules.MaxSearchResults"/>. Defaults to <see cref="MlflowRules.DefaultSearchResults"/>.</summary>
    public int MaxResults { get; init; } = MlflowRules.DefaultSearchResults;

    /// <summary>Sort keys; ties and the rest by creation time (newest first), then id. Defaults to none.</summary>
    public IReadOnlyList<string> OrderBy { get; init; } = [];

    /// <summary>The token of the page to read, or <c>null</c> for the first. Defaults to <c>null</c>.</summary>
    public string? PageToken { get; init; }
}

/// <summary>
/// MLflow's searches over Core's <see cref="RunQueries"/>: parses the filter and order (MLflow's syntax and messages)
/// and translates a run search into the store's <see cref="TrialQuery"/>, so that one query engine, the store's,
/// answers both the runs browser and <c>runs/search</c>.
/// </summary>
public static class MlflowSearch
{
    private static readonly TrialState[] States = Enum.GetValues<TrialState>();

    /// <summary>Runs of logged experiments that match a search, one page.</summary>
    public static async Task<TrackingResult<Page<Trial>>> RunsAsync(RunQueries queries, RunSearch search, CancellationToken cancellationToken = default)
    {
        if (LoggingRules.CheckMaxResults(search.MaxResults, MlflowRules.MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Runs, out var filter, out var why)) return Invalid(why!);
        var orders = ParseOrder(search.OrderBy, SearchFields.Runs);
        if (!orders.Succeeded) return orders.Error!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        if (QueryOf(filter, orders.Value!, search.ExperimentIds, search.ViewType) is not { } query) return new Page<Trial>([], null);
        return await queries.SearchRunsAsync(query, offset, search.MaxResults, cancellationToken);
    }

    /// <summary>Logged experiments that match a search, one page.</summary>
    public static async Task<TrackingResult<Page<Experiment>>> ExperimentsAsync(RunQueries queries, ExperimentSearch search,
        CancellationToken cancellationToken = default)
    {
        if (LoggingRules.CheckMaxResults(search.MaxResults, MlflowRules.MaxSearchResults) is { } badSize) return badSize;
        if (!SearchFilter.TryParse(search.Filter, SearchFields.Experiments, out var filter, out var why)) return Invalid(why!);
        var orders = ParseOrder(search.OrderBy, SearchFields.Experiments);
        if (!orders.Succeeded) return orders.Error!;
        if (!PageToken.TryDecode(search.PageToken, out int offset, out var badToken)) return Invalid(badToken!);
        return await queries.SearchExperimentsAsync(search.ViewType, e => filter.Matches((entity, key) => ExperimentField(e, entity, key)),
            (a, b) => Compare(orders.Value!, ExperimentField, a, b), offset, search.MaxResults, cancellationToken);
    }

    /// <summary>The store's query of a parsed run search, or <c>null</c> when the filter can match no run (a status no state has).</summary>
    public static TrialQuery? QueryOf(SearchFilter filter, IReadOnlyList<SearchOrder> orders, IReadOnlyList<string> experimentIds, ViewType view)
    {
        var conditions = new List<TrialCondition>();
        foreach (var clause in filter.Clauses)
        {
            if (clause.Entity == SearchEntity.Attribute && clause.Key == "status")
            {
                // A status is a set of states: the clause keeps the states whose status it matches.
                var states = States.Where(s => clause.Matches(MlflowRules.StatusText(s))).ToList();
                if (states.Count == 0) return null;
                conditions.Add(new TrialCondition(TrialField.Of(TrialAttribute.State), SearchOperator.In,
                    SearchValue.Of(states.Select(StateName).ToList())));
                continue;
            }
            if (FieldOf(clause.Entity, clause.Key) is not { } field) return null; // a field no run has never matches
            conditions.Add(new TrialCondition(field, clause.Operator, clause.Value));
        }
        return new TrialQuery
        {
            ExperimentIds = experimentIds,
            LoggedOnly = true,
            Lifecycles = view switch
            {
                ViewType.ActiveOnly => [LifecycleStage.Active],
                ViewType.DeletedOnly => [LifecycleStage.Deleted],
                _ => [],
            },
            Conditions = conditions,
            OrderBy = [.. orders.Select(o => FieldOf(o.Entity, o.Key) is { } field ? new TrialOrder(field, o.Ascending) : null).OfType<TrialOrder>()],
        };
    }

    private static TrackingResult<List<SearchOrder>> ParseOrder(IReadOnlyList<string> clauses, SearchFields fields)
    {
        var orders = new List<SearchOrder>();
        foreach (var clause in clauses)
        {
            if (!SearchOrder.TryParse(clause, fields, out var order, out var why)) return Invalid(why!);
            orders.Add(order);
        }
        return orders;
    }

    // The first of the orders that tells a from b apart.
    private static int Compare<T>(IReadOnlyList<SearchOrder> orders, Func<T, SearchEntity, string, object?> field, T a, T b)
    {
        foreach (var order in orders)
        {
            int c = order.Compare(field(a, order.Entity, order.Key), field(b, order.Entity, order.Key));
            if (c != 0) return c;
        }
        return 0;
    }

    private static object? ExperimentField(Experiment e, SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Tag => e.ExperimentTags.TryGetValue(key, out var tag) ? tag : null,
        SearchEntity.Attribute => key switch
        {
            "name" => e.Spec.Name,
            "experiment_id" => e.Id,
            "creation_time" => e.CreatedAt.ToUnixTimeMilliseconds(),
            "last_update_time" => (e.UpdatedAt ?? e.CreatedAt).ToUnixTimeMilliseconds(),
            _ => null,
        },
        _ => null,
    };

    private static TrialField? FieldOf(SearchEntity entity, string key) => entity switch
    {
        SearchEntity.Metric => TrialField.Metric(key),
        SearchEntity.Param => TrialField.Param(key),
        SearchEntity.Tag => TrialField.RunTag(key),
        _ => key switch
        {
            "start_time" => TrialField.Of(TrialAttribute.StartTime),
            "end_time" => TrialField.Of(TrialAttribute.EndTime),
            "run_name" => TrialField.Of(TrialAttribute.RunName),
            "run_id" => TrialField.Of(TrialAttribute.Id),
            "user_id" => TrialField.Of(TrialAttribute.UserId),
            "artifact_uri" => TrialField.Of(TrialAttribute.ArtifactUri),
            "experiment_id" => TrialField.Of(TrialAttribute.ExperimentId),
            "lifecycle_stage" => TrialField.Of(TrialAttribute.LifecycleStage),
            "status" => TrialField.Of(TrialAttribute.RunStatus),
            _ => null,
        },
    };

    private static string StateName(TrialState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());
}
