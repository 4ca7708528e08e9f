using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Runs triage actions on alert groups for every chat platform. Each change is a compare-and-set on
/// the group's workflow document plus an audit record in one atomic store step, so a double click or
/// two replicas cannot apply an action twice.
/// </summary>
internal sealed class TriageService(
    WorkflowTransitions transitions,
    SuppressionWorkflow suppressions,
    PatchWorkflow patches,
    TriagePermissions permissions,
    AccessPolicy access)
{
    /// <summary>
    /// The refusal for an alert the actor may not see, byte for byte the same as for one that does not
    /// exist (it echoes nothing of the request), so a refusal never confirms that a group id exists.
    /// </summary>
    public const string NotVisible = "Alert not found or not visible to you.";

    public async Task<TriageResult> ExecuteAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(request.GroupId, cancellationToken);
        if (group is null || (!access.IsOpen && !access.MaySee(request.Actor, group.Owner)))
        {
            return TriageResult.Refused(NotVisible);
        }
        return await RunAsync(request, cancellationToken);
    }

    /// <summary>The card content of a group, with the remediation this deployment offers.</summary>
    public AlertCardView Card(AlertGroup group, DateTimeOffset now) => AlertCardBuilder.Build(group, now, patches.Features);

    /// <summary>True when <paramref name="actor"/> may see (and so act on) <paramref name="group"/> at all.</summary>
    public bool MaySee(Actor actor, AlertGroup group) => access.MaySee(actor, group.Owner);

    private Task<TriageResult> RunAsync(TriageRequest request, CancellationToken cancellationToken) => request.Action switch
    {
        CardAction.Suppress => suppressions.SuppressAsync(request, cancellationToken),
        CardAction.Unsuppress => suppressions.UnsuppressAsync(request, cancellationToken),
        CardAction.RequestPatch or CardAction.RequestIsolation => patches.RequestAsync(request, cancellationToken),
        CardAction.ApprovePatch => patches.ApproveAsync(request, cancellationToken),
        CardAction.RejectPatch => patches.RejectAsync(request, cancellationToken),
        CardAction.Release => patches.ReleaseAsync(request, cancellationToken),
        _ => transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) => Decide(group, request, now), cancellationToken),
    };

    /// <summary>True when <paramref name="actor"/> may use <paramref name="action"/> on this group at all.</summary>
    public bool IsAllowed(CardAction action, Actor actor, OwnerRoute route) => permissions.IsAllowed(action, actor, route);

    /// <summary>The owner's route for a group, falling back to the default (security) owner.</summary>
    public OwnerRoute RouteOf(AlertGroup group) => permissions.RouteOf(group);

    private static Decision Decide(AlertGroup group, TriageRequest request, DateTimeOffset now)
    {
        var wf = group.Workflow;
        var actor = request.Actor;
        if (wf.State == GroupState.Resolved && request.Action is not CardAction.Assign)
        {
            return Decision.Refuse("This alert is already resolved: Inspector reports every finding fixed.");
        }
        switch (request.Action)
        {
            case CardAction.Acknowledge:
                if (wf.AcknowledgedBy is { } by)
                {
                    return Decision.Refuse($"Already acknowledged by {by.DisplayName} at {AlertCardBuilder.Format(wf.AcknowledgedAt!.Value)}.");
                }
                return new(wf with
                {
                    State = wf.State == GroupState.New ? GroupState.Acknowledged : wf.State,
                    AcknowledgedBy = actor,
                    AcknowledgedAt = now,
                }, "Acknowledged", null, $"You acknowledged {group.VulnerabilityId}.");

            case CardAction.Assign:
                if (request.Assignee is not { } assignee)
                {
                    return Decision.Refuse("Say who to assign: pick a person.");
                }
                if (wf.AssignedTo is { } current && current.SamePersonAs(assignee))
                {
                    return Decision.Refuse($"{group.VulnerabilityId} is already assigned to {assignee.DisplayName}.");
                }
                if (wf.State is GroupState.Suppressed or GroupState.PatchRequested or GroupState.Patching or GroupState.Isolated)
                {
                    return new(wf with { AssignedTo = assignee, AssignedBy = actor, AssignedAt = now },
                        "Assigned", "to " + assignee.DisplayName, $"Assigned {group.VulnerabilityId} to {assignee.DisplayName}.");
                }
                return new(wf with
                {
                    State = wf.State == GroupState.Resolved ? GroupState.Resolved : GroupState.Assigned,
                    AssignedTo = assignee,
                    AssignedBy = actor,
                    AssignedAt = now,
                    AcknowledgedBy = wf.AcknowledgedBy ?? actor,
                    AcknowledgedAt = wf.AcknowledgedAt ?? now,
                }, "Assigned", "to " + assignee.DisplayName, $"Assigned {group.VulnerabilityId} to {assignee.DisplayName}.");

            default:
                return Decision.Refuse($"'{request.Action}' is not available yet.");
        }
    }
}
