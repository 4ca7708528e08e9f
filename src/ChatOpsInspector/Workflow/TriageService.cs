using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Runs triage actions on alert groups for every chat platform. Each change is a compare-and-set on
/// the group's workflow document plus an audit record in one atomic store step, so a double click or
/// two replicas cannot apply an action twice.
/// </summary>
internal sealed partial class TriageService(
    IAlertStore store,
    IWorkQueue queue,
    FindingRouter router,
    TimeProvider time,
    ILogger<TriageService> logger)
{
    private const int MaxAttempts = 5;

    public async Task<TriageResult> ExecuteAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var group = await store.GetGroupAsync(request.GroupId, cancellationToken);
            if (group is null)
            {
                return TriageResult.Refused($"No alert group '{request.GroupId}'. Try `/vulns show CVE-…` to find it.");
            }
            var route = router.FindOwner(group.Owner) ?? router.DefaultOwner;
            var now = time.GetUtcNow();
            var decision = Decide(group, route, request, now);
            if (decision.Refusal is { } refusal)
            {
                return TriageResult.Refused(refusal, group);
            }
            var next = decision.Next!.Record(new HistoryEntry(now, decision.Verb, request.Actor, decision.Detail));
            var audit = new AuditRecord
            {
                At = now,
                Action = decision.Verb.ToLowerInvariant().Replace(' ', '_'),
                ActorPlatform = request.Actor.Platform,
                ActorId = request.Actor.UserId,
                ActorName = request.Actor.DisplayName,
                Channel = request.Actor.Channel,
                GroupId = group.Id,
                Owner = group.Owner,
                VulnerabilityId = group.VulnerabilityId,
                Detail = decision.Detail,
            };
            if (await store.TryUpdateWorkflowAsync(group.Id, group.Version, next, audit, cancellationToken))
            {
                LogTransition(group.Id, group.Owner, request.Action, group.Workflow.State, next.State);
                await queue.TouchAsync(Queues.Groups, group.Id, now, cancellationToken);
                var updated = group with { Workflow = next, Version = group.Version + 1 };
                return TriageResult.Done(decision.Message, updated);
            }
            // Lost a race: re-read and decide again, so a second identical click sees the first one's result.
        }
        return TriageResult.Refused("The alert is changing right now; try again in a moment.");
    }

    /// <summary>True when <paramref name="actor"/> may use <paramref name="action"/> on this group at all.</summary>
    public bool IsAllowed(CardAction action, Actor actor, OwnerRoute route) => action switch
    {
        CardAction.Suppress or CardAction.Unsuppress =>
            actor.IsListedIn(route.Suppressors) || actor.IsListedIn(router.DefaultOwner.Suppressors),
        CardAction.ApprovePatch or CardAction.RejectPatch => actor.IsListedIn(route.Approvers),
        _ => true,
    };

    private Decision Decide(AlertGroup group, OwnerRoute route, TriageRequest request, DateTimeOffset now)
    {
        var wf = group.Workflow;
        var actor = request.Actor;
        if (!IsAllowed(request.Action, actor, route))
        {
            return request.Action is CardAction.Suppress or CardAction.Unsuppress
                ? Decision.Refuse($"Only the suppressors of {route.Owner} or the security team may suppress. Ask one of them, or request a patch instead.")
                : Decision.Refuse($"Only the approvers of {route.Owner} may decide patch requests.");
        }
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
                if (wf.State is GroupState.Suppressed or GroupState.PatchRequested or GroupState.Patching)
                {
                    return new(wf with { AssignedTo = assignee, AssignedBy = actor, AssignedAt = now },
                        "Assigned", assignee.DisplayName, $"Assigned {group.VulnerabilityId} to {assignee.DisplayName}.");
                }
                return new(wf with
                {
                    State = wf.State == GroupState.Resolved ? GroupState.Resolved : GroupState.Assigned,
                    AssignedTo = assignee,
                    AssignedBy = actor,
                    AssignedAt = now,
                    AcknowledgedBy = wf.AcknowledgedBy ?? actor,
                    AcknowledgedAt = wf.AcknowledgedAt ?? now,
                }, "Assigned", assignee.DisplayName, $"Assigned {group.VulnerabilityId} to {assignee.DisplayName}.");

            default:
                return Decision.Refuse($"'{request.Action}' is not available yet.");
        }
    }

    private sealed record Decision(WorkflowState? Next, string Verb, string? Detail, string Message, string? Refusal = null)
    {
        public static Decision Refuse(string why) => new(null, "", null, "", why);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} of {Owner}: {Action} moved {From} → {To}")]
    private partial void LogTransition(string groupId, string owner, CardAction action, GroupState from, GroupState to);
}
