using System.Text.Json;
using Tracker.Abstractions;
using Tracker.Core.Storage;

namespace Tracker.Core.Tracking;

/// <summary>
/// Translates a parsed MLflow run search (filter, order, experiments, view) into the store's <see cref="TrialQuery"/>,
/// so that one query engine, the store's, answers both the runs browser and <c>runs/search</c>.
/// </summary>
public static class RunSearchQuery
{
    private static readonly TrialState[] States = Enum.GetValues<TrialState>();

    /// <summary>The query, or <c>null</c> when the filter can match no run (a status no state has).</summary>
    public static TrialQuery? From(SearchFilter filter, IReadOnlyList<SearchOrder> orders, IReadOnlyList<string> experimentIds, ViewType view)
    {
        var conditions = new List<TrialCondition>();
        foreach (var clause in filter.Clauses)
        {
            if (clause.Entity == SearchEntity.Attribute && clause.Key == "status")
            {
                // A status is a set of states: the clause keeps the states whose status it matches.
                var states = States.Where(s => clause.Matches(RunLog.StatusOf(s).ToString().ToUpperInvariant())).ToList();
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
            "status" => TrialField.Of(TrialAttribute.State),
            _ => null,
        },
    };

    private static string StateName(TrialState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());
}
