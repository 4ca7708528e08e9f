using System.Globalization;
using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Tells people about the changes that matter, whoever made them (a click, a command, Inspector via the
/// reconciler): verified fixed, reopened, assigned, patch approved or rejected, suppressed. Each becomes
/// a note in the card's thread that mentions the people it concerns, and an assignment also a direct
/// message to the assignee. It reads the group's history after each publish and queues a note per new
/// entry in the durable outbox; a per-entry dedup key makes a repeated pass (a retry, two replicas)
/// queue nothing twice.
/// </summary>
internal sealed partial class WorkflowNotifier(
    ChatOutbox outbox,
    IKeyValueStore values,
    FindingRouter router,
    TimeProvider time,
    ILogger<WorkflowNotifier> logger) : IAlertGroupObserver
{
    /// <summary>Entries older than this are not announced when a group has no watermark yet (groups from before notifications).</summary>
    private static readonly TimeSpan Backfill = TimeSpan.FromHours(24);

    private static readonly TimeSpan WatermarkTtl = TimeSpan.FromDays(400);

    public async Task OnGroupChangedAsync(AlertGroup group, CancellationToken cancellationToken)
    {
        var history = group.Workflow.History;
        if (history.Count == 0)
        {
            return;
        }
        var key = "notified:" + group.Id;
        var watermark = await values.GetAsync(key, cancellationToken);
        if (watermark == KeyOf(history[^1]))
        {
            return;
        }
        var seen = watermark is null ? -1 : LastIndexOf(history, watermark);
        var floor = time.GetUtcNow() - Backfill;
        for (var i = seen + 1; i < history.Count; i++)
        {
            var entry = history[i];
            if (seen < 0 && watermark is null && entry.At < floor)
            {
                continue;
            }
            await AnnounceAsync(group, entry, cancellationToken);
        }
        await values.SetAsync(key, KeyOf(history[^1]), WatermarkTtl, cancellationToken);
    }

    private async Task AnnounceAsync(AlertGroup group, HistoryEntry entry, CancellationToken cancellationToken)
    {
        var route = router.FindOwner(group.Owner) ?? router.DefaultOwner;
        if (Note(group, entry, route) is not { } note)
        {
            return;
        }
        var dedup = $"note:{group.Id}:{KeyOf(entry)}";
        await outbox.EnqueueThreadNoteAsync(group.Id, note, cancellationToken, dedupKey: dedup);
        LogAnnounced(group.Id, group.Owner, entry.Action);
        if (entry.Action == "Assigned" && group.Workflow.AssignedTo is { } assignee && IsChatPlatform(assignee.Platform)
            && !assignee.SamePersonAs(entry.Actor))
        {
            var by = entry.Actor.DisplayName;
            var text = $"{by} assigned you {group.VulnerabilityId} ({Severity(group)}) of {group.Owner}: {group.OpenCount} open resource(s), "
                + $"SLA due {AlertCardBuilder.Format(group.Meta.SlaDueAt)}. The card is in the owner's channel; `vulns show {group.Id}` shows it here.";
            await outbox.EnqueueDirectMessageAsync(assignee.Platform, assignee.UserId, group.Id, new ChatNote(text), cancellationToken, dedupKey: dedup + ":dm");
        }
    }

    /// <summary>The thread note for one history entry, or null for entries that are not announced (or announced elsewhere).</summary>
    internal static ChatNote? Note(AlertGroup group, HistoryEntry entry, OwnerRoute route)
    {
        var wf = group.Workflow;
        var vuln = group.VulnerabilityId;
        var people = new People();
        switch (entry.Action)
        {
            case "Verified fixed":
                people.Add(wf.AssignedTo ?? wf.AcknowledgedBy);
                return people.Note($"{vuln} is verified fixed: {entry.Detail}.");

            case "Reopened":
                if (!people.Add(wf.AssignedTo))
                {
                    people.AddEntries(route.Approvers);
                }
                return people.Note($"{vuln} is open again: {entry.Detail}. It needs someone to look at it.");

            case "Assigned":
                people.Add(wf.AssignedTo);
                var assignee = wf.AssignedTo?.DisplayName ?? entry.Detail ?? "someone";
                return people.Note($"{entry.Actor.DisplayName} assigned {vuln} to {assignee}.");

            case "Approved" when wf.Patch is { } approved:
                people.Add(approved.RequestedBy);
                people.Add(wf.AssignedTo);
                return people.Note($"{entry.Actor.DisplayName} approved the {approved.Kind} of {approved.InstanceIds.Count} instance(s) "
                    + $"for {vuln} requested by {approved.RequestedBy.DisplayName}; it is starting.");

            case "Rejected" when wf.Patch is { } rejected:
                people.Add(rejected.RequestedBy);
                people.Add(wf.AssignedTo);
                return people.Note($"{entry.Actor.DisplayName} rejected the {rejected.Kind} request of {rejected.RequestedBy.DisplayName} for {vuln}"
                    + (string.IsNullOrWhiteSpace(entry.Detail) ? "." : $": {entry.Detail}"));

            case "Suppressed" when entry.Actor.Platform == Actor.System.Platform:
                people.Add(wf.AssignedTo);
                return people.Note($"{vuln} was suppressed in Inspector (a suppression rule there matches every open finding); the card stays closed while it does.");

            case "Suppressed":
                if (!people.Add(wf.AssignedTo))
                {
                    people.AddEntries(route.Approvers);
                }
                var suppression = wf.Suppression is { } s && s.At == entry.At ? s : null;
                var until = suppression is null ? "" : $" until {AlertCardBuilder.Format(suppression.ExpiresAt)}";
                var why = suppression?.Reason ?? entry.Detail;
                return people.Note($"Risk accepted: {entry.Actor.DisplayName} suppressed {vuln}{until}. Reason: {why}");

            case "Suppression failed":
                people.Add(entry.Actor);
                return people.Note($"The suppression of {vuln} did not take: {entry.Detail}");

            default:
                return null;
        }
    }

    /// <summary>A note that mentions the group's assignee, or the owner's approvers when nobody is assigned.</summary>
    internal static ChatNote ToAssigneeOrApprovers(string text, AlertGroup group, OwnerRoute? route, bool broadcast = false)
    {
        var people = new People();
        if (!people.Add(group.Workflow.AssignedTo) && route is not null)
        {
            people.AddEntries(route.Approvers);
        }
        return people.Note(text) with { Broadcast = broadcast };
    }

    private static string Severity(AlertGroup group) => group.Severity.ToString().ToUpperInvariant();

    private static bool IsChatPlatform(string platform) => platform is Platforms.Slack or Platforms.Teams;

    private static string KeyOf(HistoryEntry entry) =>
        string.Create(CultureInfo.InvariantCulture, $"{entry.At.UtcTicks}:{entry.Action}:{entry.Actor.UserId}");

    private static int LastIndexOf(IReadOnlyList<HistoryEntry> history, string key)
    {
        for (var i = history.Count - 1; i >= 0; i--)
        {
            if (KeyOf(history[i]) == key)
            {
                return i;
            }
        }
        // The watermark's entry left the capped history: everything still there is newer than it.
        return -1;
    }

    /// <summary>The people a note mentions: each by every id they are known by, so each platform can address them.</summary>
    private sealed class People
    {
        private readonly List<string> _ids = [];
        private readonly Dictionary<string, string> _names = new(StringComparer.OrdinalIgnoreCase);

        public bool Add(Actor? actor)
        {
            if (actor is null || actor.Platform == Actor.System.Platform)
            {
                return false;
            }
            AddId(actor.UserId, actor.DisplayName);
            if (actor.Email is { Length: > 0 } email)
            {
                AddId(email, actor.DisplayName);
            }
            return true;
        }

        public void AddEntries(IEnumerable<string> entries)
        {
            foreach (var id in entries.Select(Person.Parse).SelectMany(p => p.Ids))
            {
                AddId(id, null);
            }
        }

        public ChatNote Note(string text) => new(text, _ids.Count > 0 ? _ids.ToArray() : null) { Names = _names.Count > 0 ? _names : null };

        private void AddId(string id, string? name)
        {
            if (!_ids.Contains(id, StringComparer.OrdinalIgnoreCase))
            {
                _ids.Add(id);
            }
            if (name is not null && name != id)
            {
                _names[id] = name;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} of {Owner}: queued a thread note for '{Action}'")]
    private partial void LogAnnounced(string groupId, string owner, string action);
}
