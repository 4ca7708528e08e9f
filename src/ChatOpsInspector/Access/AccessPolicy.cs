using ChatOpsInspector.Routing;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Access;

/// <summary>
/// Who may see and act on an owner's alerts: anyone in one of its channels, its Members, Approvers and
/// Suppressors, and the security team (<c>Routing:Default</c>: its people and its channels), which sees
/// every owner. <c>Access:Open</c> lets everyone of the allowed workspaces and tenants see everything.
/// </summary>
internal sealed class AccessPolicy(FindingRouter router, IOptions<AccessOptions> options)
{
    public bool IsOpen => options.Value.Open;

    public bool MaySee(Actor actor, string owner)
    {
        if (IsOpen || actor == Actor.System)
        {
            return true;
        }
        var security = router.DefaultOwner;
        return IsPersonOf(actor, security) || InChannelOf(actor.Channel, security)
            || (router.FindOwner(owner) is { } route && (IsPersonOf(actor, route) || InChannelOf(actor.Channel, route)));
    }

    /// <summary>True when a reply about <paramref name="owner"/> may be posted for everyone in <paramref name="channel"/>.</summary>
    public bool MayShareIn(string? channel, string owner) =>
        IsOpen || InChannelOf(channel, router.DefaultOwner) || (router.FindOwner(owner) is { } route && InChannelOf(channel, route));

    private static bool IsPersonOf(Actor actor, OwnerRoute route) =>
        actor.IsListedIn(route.Members) || actor.IsListedIn(route.Approvers) || actor.IsListedIn(route.Suppressors);

    /// <summary>Teams names a channel thread <c>19:…@thread.tacv2;messageid=…</c>; the channel is the part before the ';'.</summary>
    private static bool InChannelOf(string? channel, OwnerRoute route)
    {
        if (string.IsNullOrEmpty(channel))
        {
            return false;
        }
        var id = channel.Split(';')[0];
        return string.Equals(id, route.SlackChannel, StringComparison.Ordinal) || string.Equals(id, route.TeamsChannel, StringComparison.Ordinal);
    }
}
