using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Operations;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Sla;

/// <summary>
/// Keeps every open group's SLA points (reminders, escalation) and every owner's daily digest in a
/// durable schedule in the store, and fires what is due. Items are claimed with a lease, so with
/// several replicas each fires on one of them, and an item whose replica dies fires elsewhere after
/// the lease. A "fired" marker written after the message is queued keeps a re-delivered item from
/// posting twice.
/// </summary>
internal sealed partial class SlaScheduler(
    IWorkQueue queue,
    IAlertStore store,
    IKeyValueStore values,
    AlertQueries queries,
    ChatOutbox outbox,
    FindingRouter router,
    DigestService digests,
    TimeProvider time,
    IOptions<SlaOptions> sla,
    IOptions<SlaSchedulerOptions> options,
    WorkflowTransitions transitions,
    ILogger<SlaScheduler> logger) : BackgroundService
{
    /// <summary>
    /// The SLA's own part of the timed-event schedule. Other features' timed events live in their own
    /// queues so that no consumer claims, and holds under lease, an item it cannot handle.
    /// </summary>
    public const string Queue = Queues.Sla;

    private readonly SlaStages _stages = new(sla.Value);
    private readonly SlaSchedulerOptions _options = options.Value;
    private DateTimeOffset _nextScanAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            int fired;
            try
            {
                fired = await RunDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Store down or a bug: claimed items come back after their lease.
                AppMetrics.Errors.WithLabels("sla").Inc();
                LogPassFailed(ex);
                fired = 0;
            }
            if (fired == 0)
            {
                try
                {
                    await Task.Delay(_options.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>
    /// One pass: plans what is not planned yet (at most once per <see cref="SlaSchedulerOptions.ScanInterval"/>),
    /// then fires the due items. Returns how many items were claimed.
    /// </summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        if (time.GetUtcNow() >= _nextScanAt)
        {
            await PlanAsync(cancellationToken);
            _nextScanAt = time.GetUtcNow() + _options.ScanInterval;
        }
        var items = await queue.ClaimAsync(Queue, _options.BatchSize, _options.Lease, time.GetUtcNow(), cancellationToken);
        foreach (var item in items)
        {
            try
            {
                await HandleAsync(item, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Left claimed: it comes back after the lease and is tried again.
                AppMetrics.Errors.WithLabels("sla").Inc();
                LogItemFailed(item.Id, ex);
            }
        }
        return items.Count;
    }

    /// <summary>
    /// Schedules the SLA points of the groups that changed since the last pass, and the next digest of
    /// every owner. One replica at a time plans, under a lease renewed after each batch; the others
    /// skip the pass. Every group is read only once per store, the first time planning runs on it
    /// (groups stored before the changed list existed); after that a pass costs what changed.
    /// </summary>
    public async Task<int> PlanAsync(CancellationToken cancellationToken)
    {
        if (!await values.TrySetIfAbsentAsync(PlanLeaseKey, _replica, _options.PlanLease, cancellationToken))
        {
            return 0;
        }
        var planned = 0;
        try
        {
            if (await values.GetAsync(BackfilledKey, cancellationToken) is null)
            {
                foreach (var group in await queries.AllGroupsAsync(cancellationToken))
                {
                    if (group.Workflow.IsOpen && await PlanGroupAsync(group, cancellationToken))
                    {
                        planned++;
                    }
                }
                await values.SetAsync(BackfilledKey, time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), null, cancellationToken);
            }
            while (true)
            {
                var changed = await store.ChangedGroupsAsync(_options.PlanBatchSize, cancellationToken);
                foreach (var item in changed)
                {
                    if (await store.GetGroupAsync(item.GroupId, cancellationToken) is { Workflow.IsOpen: true } group
                        && await PlanGroupAsync(group, cancellationToken))
                    {
                        planned++;
                    }
                }
                // Taken off the list only once planned: a replica that dies here leaves them for the next pass.
                await store.ForgetChangedAsync(changed, cancellationToken);
                GroupsReadByPlanning += changed.Count;
                if (changed.Count < _options.PlanBatchSize || !await values.TryRenewAsync(PlanLeaseKey, _replica, _options.PlanLease, cancellationToken))
                {
                    break;
                }
            }
            planned += await digests.PlanAsync(Queue, cancellationToken);
        }
        finally
        {
            // Handed back at once, so the next replica whose pass comes does not wait for the lease to lapse.
            await values.TryRenewAsync(PlanLeaseKey, _replica, TimeSpan.Zero, CancellationToken.None);
        }
        return planned;
    }

    /// <summary>Groups read by planning since start: what a pass costs, for the bench.</summary>
    internal long GroupsReadByPlanning { get; private set; }

    private const string PlanLeaseKey = "sla:plan-lease";
    private const string BackfilledKey = "sla:plan-backfilled";
    private readonly string _replica = Guid.NewGuid().ToString("N");

    /// <summary>
    /// Schedules <c>sla:{groupId}:{percent}</c> for each SLA point; a no-op when already planned for this
    /// SLA. Cheap enough to call whenever a group changes.
    /// </summary>
    public async Task<bool> PlanGroupAsync(AlertGroup group, CancellationToken cancellationToken)
    {
        var stamp = string.Create(CultureInfo.InvariantCulture, $"{group.FirstSeenAt.ToUnixTimeMilliseconds()}-{group.Meta.SlaDueAt.ToUnixTimeMilliseconds()}");
        var marker = PlannedKey(group.Id);
        if (await values.GetAsync(marker, cancellationToken) == stamp)
        {
            return false;
        }
        foreach (var percent in _stages.Percents)
        {
            await queue.EnqueueAsync(Queue, SlaStages.ItemId(group.Id, percent), stamp, SlaStages.DueAt(group, percent), cancellationToken);
        }
        // Written last: a replica that dies half-way leaves the group unplanned, and the next scan finishes it.
        await values.SetAsync(marker, stamp, MarkerTtl(group), cancellationToken);
        LogPlanned(group.Id, group.Owner, group.Meta.SlaDueAt);
        return true;
    }

    private async Task HandleAsync(WorkItem item, CancellationToken cancellationToken)
    {
        if (SlaStages.TryParse(item.Id, out var groupId, out var percent))
        {
            await FireSlaPointAsync(item, groupId, percent, cancellationToken);
        }
        else if (DigestService.TryParse(item.Id, out var owner, out var day))
        {
            await digests.SendAsync(item, owner, day, cancellationToken);
            await queue.CompleteAsync(Queue, item, time.GetUtcNow(), cancellationToken);
        }
        else
        {
            LogUnknownItem(item.Id);
            await queue.CompleteAsync(Queue, item, time.GetUtcNow(), cancellationToken);
        }
    }

    private async Task FireSlaPointAsync(WorkItem item, string groupId, int percent, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var group = await store.GetGroupAsync(groupId, cancellationToken);
        if (group is null)
        {
            await queue.CompleteAsync(Queue, item, now, cancellationToken);
            return;
        }
        var dueAt = SlaStages.DueAt(group, percent);
        if (dueAt > now)
        {
            // The group's SLA moved since this item was planned.
            await queue.RescheduleAsync(Queue, item, dueAt, cancellationToken);
            return;
        }
        var step = _stages.Decide(group, percent, now);
        switch (step.Kind)
        {
            case SlaStepKind.Skip:
                if (!group.Workflow.IsOpen)
                {
                    // Should the group come back (reopened, unsuppressed), the next scan plans it again:
                    // points skipped while it was closed get their chance, points already fired stay fired.
                    await values.DeleteAsync(PlannedKey(group.Id), cancellationToken);
                }
                LogSkipped(group.Id, group.Owner, percent, step.Reason);
                break;

            case SlaStepKind.Remind:
                if (QuietHours.For(sla.Value, group.Owner)?.EndsAfter(now) is { } quietUntil)
                {
                    await queue.RescheduleAsync(Queue, item, quietUntil, cancellationToken);
                    LogDeferred(group.Id, group.Owner, percent, quietUntil);
                    return;
                }
                if (await NotifyOnceAsync(item, group, ReminderNote(group, router.FindOwner(group.Owner), percent, now), cancellationToken))
                {
                    LogReminded(group.Id, group.Owner, percent);
                }
                break;

            case SlaStepKind.Escalate:
                var route = router.FindOwner(group.Owner);
                if (await NotifyOnceAsync(item, group, EscalationNote(group, route, now), cancellationToken))
                {
                    LogEscalated(group.Id, group.Owner, route?.Approvers.Count ?? 0);
                }
                await MarkBreachedAsync(group.Id, cancellationToken);
                break;

            case SlaStepKind.MarkBreached:
                await MarkBreachedAsync(group.Id, cancellationToken);
                break;
        }
        await queue.CompleteAsync(Queue, item, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Queues the note unless this item already fired. The note's outbox id is the item id, so a replica
    /// that dies between queuing and marking only leads to a second post if its note already left the
    /// outbox before the lease ran out; otherwise the two coalesce.
    /// </summary>
    private async Task<bool> NotifyOnceAsync(WorkItem item, AlertGroup group, ChatNote note, CancellationToken cancellationToken)
    {
        var firedKey = "sla:fired:" + item.Id;
        if (await values.GetAsync(firedKey, cancellationToken) is not null)
        {
            return false;
        }
        await outbox.EnqueueThreadNoteAsync(group.Id, note, cancellationToken, dedupKey: item.Id);
        await values.SetAsync(firedKey, time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), MarkerTtl(group), cancellationToken);
        return true;
    }

    /// <summary>Sets <see cref="WorkflowState.SlaBreached"/> by compare-and-set with an audit record, and re-renders the card.</summary>
    private async Task MarkBreachedAsync(string groupId, CancellationToken cancellationToken)
    {
        var result = await transitions.ApplyAsync(groupId, Actor.System, (group, _) =>
            !group.Workflow.IsOpen || group.Workflow.SlaBreached
                ? Decision.Refuse("already breached or closed")
                : new Decision(group.Workflow with { SlaBreached = true }, "SLA breached",
                    $"SLA was due {AlertCardBuilder.Format(group.Meta.SlaDueAt)}", "") { AuditAction = "sla_breached" },
            cancellationToken);
        if (!result.Succeeded && result.Group is null)
        {
            LogBreachContended(groupId);
        }
    }

    internal static ChatNote ReminderNote(AlertGroup group, OwnerRoute? route, int percent, DateTimeOffset now)
    {
        var wf = group.Workflow;
        var due = group.Meta.SlaDueAt;
        var left = due > now ? $"in {AlertCardBuilder.FormatDuration(due - now)}" : "now";
        var status = wf.AssignedTo is { } assignee ? $"Assigned to {assignee.DisplayName}; not fixed yet."
            : wf.AcknowledgedBy is { } by ? $"Acknowledged by {by.DisplayName}; not fixed yet."
            : "Nobody has acknowledged it yet.";
        var text = $"SLA reminder: {percent} % of the fix time for {group.VulnerabilityId} ({group.Severity.ToString().ToUpperInvariant()}, "
            + $"{group.OpenCount} open resource(s)) has passed. Due {AlertCardBuilder.Format(due)}, {left}. {status}";
        // The assignee is the one to act; with nobody assigned, the owner's approvers are asked to find someone.
        return WorkflowNotifier.ToAssigneeOrApprovers(text, group, route);
    }

    internal static ChatNote EscalationNote(AlertGroup group, OwnerRoute? route, DateTimeOffset now)
    {
        var wf = group.Workflow;
        var who = wf.AssignedTo is { } assignee ? $" Assigned to {assignee.DisplayName}." : " Nobody is assigned.";
        // An approver entry may name one person by several ids ("U…, ana@…"); each platform mentions the ones it can address.
        var mentions = (route?.Approvers ?? []).Select(Access.Person.Parse).SelectMany(p => p.Ids).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var escalation = mentions.Count > 0 ? " Escalating to on-call." : $" No on-call approvers are configured for {group.Owner}.";
        var text = $"SLA breached: {group.VulnerabilityId} ({group.Severity.ToString().ToUpperInvariant()}) of {group.Owner} was due "
            + $"{AlertCardBuilder.Format(group.Meta.SlaDueAt)} ({AlertCardBuilder.FormatDuration(now - group.Meta.SlaDueAt)} ago) and "
            + $"{group.OpenCount} resource(s) are still affected.{who}{escalation}";
        if (MentionOf(wf.AssignedTo) is { } mention && !mentions.Contains(mention, StringComparer.OrdinalIgnoreCase))
        {
            mentions.Add(mention);
        }
        // Broadcast: the breach shows in the channel itself, not only in the card's thread.
        return new ChatNote(text, mentions.Count > 0 ? mentions : null) { Broadcast = true };
    }

    private static string PlannedKey(string groupId) => "sla:planned:" + groupId;

    private static string? MentionOf(Actor? actor) => actor is null ? null : actor.Email ?? actor.UserId;

    /// <summary>Markers outlive the SLA by a margin; after that a stale point is superseded by the escalation anyway.</summary>
    private TimeSpan MarkerTtl(AlertGroup group)
    {
        var left = group.Meta.SlaDueAt - time.GetUtcNow();
        return (left > TimeSpan.Zero ? left : TimeSpan.Zero) + TimeSpan.FromDays(30);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Planned SLA points of group {GroupId} of {Owner}, due {SlaDueAt}")]
    private partial void LogPlanned(string groupId, string owner, DateTimeOffset slaDueAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "SLA reminder at {Percent} % queued for group {GroupId} of {Owner}")]
    private partial void LogReminded(string groupId, string owner, int percent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SLA breached for group {GroupId} of {Owner}; escalated to {Approvers} approver(s)")]
    private partial void LogEscalated(string groupId, string owner, int approvers);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SLA point {Percent} % of group {GroupId} of {Owner} skipped: {Reason}")]
    private partial void LogSkipped(string groupId, string owner, int percent, string? reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "SLA reminder {Percent} % of group {GroupId} of {Owner} held for quiet hours until {Until}")]
    private partial void LogDeferred(string groupId, string owner, int percent, DateTimeOffset until);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark group {GroupId} as SLA breached: its workflow kept changing")]
    private partial void LogBreachContended(string groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped schedule item {ItemId}: not an SLA point or digest")]
    private partial void LogUnknownItem(string itemId);

    [LoggerMessage(Level = LogLevel.Error, Message = "SLA schedule item {ItemId} failed; it is retried after its lease")]
    private partial void LogItemFailed(string itemId, Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "SLA scheduler pass failed; claimed items are retried after their lease")]
    private partial void LogPassFailed(Exception ex);
}
