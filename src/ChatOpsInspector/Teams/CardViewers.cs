using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Decides which buttons a card shows to whom. The card posted to a channel carries what anyone may
/// do; people with extra rights (approvers, suppressors) are listed in the card's refresh so their
/// Teams client fetches a card with their own buttons.
/// </summary>
internal sealed class CardViewers(TriageService triage, FindingRouter router, TimeProvider time)
{
    public const string AssignToMe = "me";

    /// <summary>Teams shows user-specific views to at most 60 people.</summary>
    private const int MaxRefreshUsers = 60;

    private static readonly Actor Anyone = new("teams", "", "anyone");

    public OwnerRoute RouteOf(string owner) => router.FindOwner(owner) ?? router.DefaultOwner;

    /// <summary>The card everyone in the channel sees.</summary>
    public CardViewer ForChannel(AlertCardView view) => For(view, Anyone, RouteOf(view.Owner), patchRequestId: null);

    /// <summary>The card <paramref name="actor"/> sees, with a message about their last action.</summary>
    public CardViewer ForUser(AlertGroup group, Actor actor, string? notice = null, bool noticeIsError = false) =>
        For(triage.Card(group, time.GetUtcNow()), actor, RouteOf(group.Owner), group.Workflow.Patch?.Id) with
        {
            Notice = notice,
            NoticeIsError = noticeIsError,
        };

    /// <summary>The card <paramref name="actor"/> sees when it comes from a command rather than a stored group.</summary>
    public CardViewer ForUser(AlertCardView view, Actor actor) => For(view, actor, RouteOf(view.Owner), view.PatchRequestId);

    private CardViewer For(AlertCardView view, Actor actor, OwnerRoute route, string? patchRequestId) => new()
    {
        Allowed = view.Actions.Where(a => triage.IsAllowed(a, actor, route)).ToHashSet(),
        Assignees = Assignees(route),
        RefreshUserIds = RefreshUsers(route),
        PatchRequestId = patchRequestId,
        Today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime),
    };

    /// <summary>Configured people as Teams can name them: by e-mail, else by Entra object id; Slack-only people are left out.</summary>
    private static AssignChoice[] Assignees(OwnerRoute route) =>
    [
        new(AssignToMe, "Me"),
        .. route.Members.Concat(route.Approvers)
            .Select(Person.Parse)
            .Select(p => p.Emails.Count > 0 ? p.Emails[0] : p.EntraIds.Count > 0 ? p.EntraIds[0] : null)
            .OfType<string>()
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(p => new AssignChoice(p, p)),
    ];

    /// <summary>Configured people that Teams can address: Entra object ids, as user MRIs (8:orgid:…).</summary>
    private string[] RefreshUsers(OwnerRoute route) => route.Approvers
        .Concat(route.Suppressors)
        .Concat(router.DefaultOwner.Suppressors)
        .SelectMany(p => Person.Parse(p).EntraIds)
        .Select(p => "8:orgid:" + p.ToLowerInvariant())
        .Distinct(StringComparer.Ordinal)
        .Take(MaxRefreshUsers)
        .ToArray();
}
