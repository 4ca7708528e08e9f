using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Workflow;

/// <summary>Who may do what: suppress needs a suppressor (or the security team), deciding a patch an approver.</summary>
internal sealed class TriagePermissions(FindingRouter router)
{
    public bool IsAllowed(CardAction action, Actor actor, OwnerRoute route) => action switch
    {
        CardAction.Suppress or CardAction.Unsuppress =>
            actor.IsListedIn(route.Suppressors) || actor.IsListedIn(router.DefaultOwner.Suppressors),
        CardAction.ApprovePatch or CardAction.RejectPatch or CardAction.Release => actor.IsListedIn(route.Approvers),
        _ => true,
    };

    public OwnerRoute RouteOf(AlertGroup group) => router.FindOwner(group.Owner) ?? router.DefaultOwner;

    public string RefusalFor(CardAction action, OwnerRoute route) => action switch
    {
        CardAction.Suppress or CardAction.Unsuppress =>
            $"Only the suppressors of {route.Owner} or the security team may suppress. Ask one of them, or request a patch instead.",
        CardAction.Release => $"Only the approvers of {route.Owner} may release isolated instances.",
        _ => $"Only the approvers of {route.Owner} may decide patch requests.",
    };
}
