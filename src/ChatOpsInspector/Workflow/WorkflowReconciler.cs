using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Moves a group's workflow to follow what Inspector reports: every finding CLOSED → resolved with
/// time-to-fix ("verified fixed"); a finding open again after that → reopened; every open finding
/// SUPPRESSED in Inspector → suppressed. Runs before each publish, by compare-and-set.
/// </summary>
internal sealed partial class WorkflowReconciler(IAlertStore store, TimeProvider time, ILogger<WorkflowReconciler> logger)
{
    public async Task<AlertGroup> ReconcileAsync(AlertGroup group, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var change = Derive(group);
            if (change is null)
            {
                return group;
            }
            var (next, action, detail, members) = change.Value;
            // Recorded now; Inspector's own time of the change is in the record (detectedAt, fixedAt).
            var now = time.GetUtcNow();
            var audit = new AuditRecord
            {
                At = now,
                Action = action,
                ActorPlatform = Actor.System.Platform,
                ActorId = Actor.System.UserId,
                ActorName = Actor.System.DisplayName,
                Detail = detail,
            }.About(group, members).Of(group.Workflow, next);
            if (await store.TryUpdateWorkflowAsync(group.Id, group.Version, next, audit, cancellationToken))
            {
                LogReconciled(group.Id, group.Owner, action, detail);
                group = group with { Workflow = next, Version = group.Version + 1 };
                continue;
            }
            group = await store.GetGroupAsync(group.Id, cancellationToken) ?? group;
        }
        return group;
    }

    /// <summary>The derived change, timed by Inspector's own timestamps so replays give the same result.</summary>
    internal static (WorkflowState Next, string Action, string Detail, IReadOnlyCollection<GroupMember>? Members)? Derive(AlertGroup group)
    {
        var wf = group.Workflow;
        if (group.Members.Count == 0)
        {
            return null;
        }
        // Evidence of receipt comes first, so the audit shows a finding arriving before what it causes.
        var received = group.Members.Where(m => wf.ReceivedThrough is not { } through || m.UpdatedAt > through).ToArray();
        if (received.Length > 0)
        {
            var action = wf.ReceivedThrough is null ? "detected" : "received";
            var detail = $"{received.Length} finding(s) from Inspector"
                + string.Concat(received.GroupBy(m => m.Status).OrderBy(g => g.Key).Select(g => $", {g.Count()} {g.Key.ToString().ToUpperInvariant()}"));
            return (wf with { ReceivedThrough = received.Max(m => m.UpdatedAt) }, action, detail, received);
        }
        var allClosed = group.OpenCount == 0 && group.SuppressedCount == 0;
        var lastUpdate = group.Members.Max(m => m.UpdatedAt);
        if (allClosed && wf.State != GroupState.Resolved)
        {
            var ttf = lastUpdate - group.FirstSeenAt;
            var detail = $"{group.FixedCount} finding(s) closed by Inspector; time to fix {Cards.AlertCardBuilder.FormatDuration(ttf)}";
            var next = wf with { State = GroupState.Resolved, ResolvedAt = lastUpdate, TimeToFix = ttf };
            return (next.Record(new HistoryEntry(lastUpdate, "Verified fixed", Actor.System, detail)), "verified_fixed", detail, null);
        }
        if (!allClosed && wf.State == GroupState.Resolved)
        {
            var detail = $"{group.OpenCount + group.SuppressedCount} finding(s) open again";
            var next = wf with
            {
                State = GroupState.New,
                ResolvedAt = null,
                TimeToFix = null,
                AcknowledgedBy = null,
                AcknowledgedAt = null,
                Patch = null,
                ReopenCount = wf.ReopenCount + 1,
            };
            return (next.Record(new HistoryEntry(lastUpdate, "Reopened", Actor.System, detail)), "reopened", detail, group.OpenMembers.ToArray());
        }
        if (group.OpenCount == 0 && group.SuppressedCount > 0 && wf.IsOpen
            && !(wf.UnsuppressedAt is { } lifted && lastUpdate <= lifted))
        {
            const string detail = "suppressed in Inspector";
            var next = wf with
            {
                State = GroupState.Suppressed,
                Suppression = new Suppression("Suppressed in Inspector", DateTimeOffset.MaxValue, Actor.System, lastUpdate, null, wf.State),
            };
            return (next.Record(new HistoryEntry(lastUpdate, "Suppressed", Actor.System, detail)), "suppressed_in_inspector", detail, null);
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {GroupId} of {Owner}: {Action} ({Detail})")]
    private partial void LogReconciled(string groupId, string owner, string action, string detail);
}
