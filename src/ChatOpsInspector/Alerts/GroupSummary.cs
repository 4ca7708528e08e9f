using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// What lists and their order need of a group: small enough to read for every group of an owner in
/// one round trip, so <c>/vulns NAME</c> reads in full only the groups it shows.
/// </summary>
internal sealed record GroupSummary
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string VulnerabilityId { get; init; }
    public required GroupState State { get; init; }
    public int Priority { get; init; }
    public required Severity Severity { get; init; }
    public double? InspectorScore { get; init; }
    public required DateTimeOffset SlaDueAt { get; init; }
    public Actor? AssignedTo { get; init; }

    public bool IsOpen => State.IsOpen();

    public static GroupSummary Of(AlertGroup group) => new()
    {
        Id = group.Id,
        Owner = group.Owner,
        VulnerabilityId = group.VulnerabilityId,
        State = group.Workflow.State,
        Priority = group.Meta.Priority,
        Severity = group.Severity,
        InspectorScore = group.InspectorScore,
        SlaDueAt = group.Meta.SlaDueAt,
        AssignedTo = group.Workflow.AssignedTo,
    };

    /// <summary>Open first, then priority, severity and score, then the nearest SLA: the order every list uses.</summary>
    public static T[] WorstFirst<T>(IEnumerable<T> items, Func<T, GroupSummary> summary) => items
        .Select(item => (Item: item, Summary: summary(item)))
        .OrderByDescending(x => x.Summary.IsOpen)
        .ThenByDescending(x => x.Summary.Priority)
        .ThenByDescending(x => x.Summary.Severity)
        .ThenByDescending(x => x.Summary.InspectorScore ?? 0)
        .ThenBy(x => x.Summary.SlaDueAt)
        .Select(x => x.Item)
        .ToArray();
}
