using System.Text.Json;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Operations;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// Drains the durable group and outbox queues: reconciles each changed group's workflow with what
/// Inspector reported, then posts or updates its card on every platform, one call per channel per
/// <see cref="DispatchOptions.ChannelInterval"/>, retrying throttled and failed calls later.
/// Work claimed by a replica that dies comes back when its lease ends.
/// </summary>
internal sealed partial class AlertDispatcher(
    IWorkQueue queue,
    IAlertStore store,
    IKeyValueStore values,
    IAuditLog audit,
    IEnumerable<IChatAdapter> adapters,
    IEnumerable<IAlertGroupObserver> observers,
    WorkflowReconciler reconciler,
    FindingRouter router,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    IOptions<Aws.RemediationOptions> remediation,
    ILogger<AlertDispatcher> logger) : BackgroundService
{
    private readonly IChatAdapter[] _adapters = adapters.ToArray();
    private readonly IAlertGroupObserver[] _observers = observers.ToArray();
    private readonly DispatchOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var worked = 0;
            try
            {
                worked += await DrainGroupsAsync(stoppingToken);
                worked += await DrainOutboxAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The store is down or a bug: the claimed items come back after their lease.
                AppMetrics.Errors.WithLabels("dispatcher").Inc();
                LogLoopFailed(ex);
                await Delay(_options.ErrorBackoff, stoppingToken);
                continue;
            }
            if (worked == 0)
            {
                await Delay(_options.PollInterval, stoppingToken);
            }
        }
    }

    /// <summary>One pass over due groups; returns how many were handled. Public for tests and tools.</summary>
    public async Task<int> DrainGroupsAsync(CancellationToken cancellationToken)
    {
        var items = await queue.ClaimAsync(Queues.Groups, _options.BatchSize, _options.Lease, time.GetUtcNow(), cancellationToken);
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
            async (item, ct) => await PublishGroupAsync(item, ct));
        return items.Count;
    }

    public async Task<int> DrainOutboxAsync(CancellationToken cancellationToken)
    {
        var items = await queue.ClaimAsync(Queues.Outbox, _options.BatchSize, _options.Lease, time.GetUtcNow(), cancellationToken);
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = cancellationToken },
            async (item, ct) => await SendOutboxAsync(item, ct));
        return items.Count;
    }

    private async Task PublishGroupAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var group = await store.GetGroupAsync(item.Id, cancellationToken);
        if (group is null)
        {
            await queue.CompleteAsync(Queues.Groups, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        group = await reconciler.ReconcileAsync(group, cancellationToken);
        store.RememberSummary(group);
        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnGroupChangedAsync(group, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An observer's failure must not hold the card back; its own periodic scan catches up.
                AppMetrics.Errors.WithLabels("observer").Inc();
                LogObserverFailed(ex, observer.GetType().Name, group.Id);
            }
        }
        if (!group.Meta.Alerting && group.Cards.Count == 0)
        {
            // Below the alert threshold and never posted: kept for digests and /vulns, no card.
            await queue.CompleteAsync(Queues.Groups, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        var route = router.FindOwner(group.Owner);
        if (_adapters.Length == 0)
        {
            LogWouldPost(group.Id, group.Owner, AlertCardBuilder.Build(group, time.GetUtcNow(), CardFeatures.From(remediation.Value)).FallbackText);
            await queue.CompleteAsync(Queues.Groups, item, time.GetUtcNow(), cancellationToken);
            return;
        }

        DateTimeOffset? retryAt = null;
        AlertCardView? card = null;
        foreach (var adapter in _adapters)
        {
            var channel = ChannelOf(adapter, group, route);
            if (channel is null)
            {
                continue;
            }
            var existing = group.Cards.GetValueOrDefault(adapter.Platform);
            // Built before the slot is taken, so that the call follows its slot as closely as it can.
            card ??= AlertCardBuilder.Build(group, time.GetUtcNow(), CardFeatures.From(remediation.Value));
            if (await ChannelSlotAsync(adapter.Platform, channel, "g:" + group.Id, cancellationToken) is { } slot)
            {
                retryAt = Min(retryAt, slot);
                continue;
            }
            var operation = existing is null ? "post" : "update";
            var result = existing is null
                ? await adapter.PostCardAsync(channel, card, cancellationToken)
                : await adapter.UpdateCardAsync(existing, card, cancellationToken);
            AppMetrics.ChatCalls.WithLabels(adapter.Platform, operation, result.Outcome.ToString()).Inc();
            if (result.MessageGone && existing is not null)
            {
                // Someone deleted the card: post it again and point the stored ref (later updates, thread notes) at the new one.
                LogCardGone(group.Id, adapter.Platform, existing.Channel, existing.MessageId, result.Error);
                operation = "repost";
                result = await adapter.PostCardAsync(existing.Channel, card, cancellationToken);
                AppMetrics.ChatCalls.WithLabels(adapter.Platform, operation, result.Outcome.ToString()).Inc();
                existing = null;
            }
            switch (result.Outcome)
            {
                case ChatOutcome.Ok when existing is null && result.Message is { } posted:
                    await StoreCardRefAsync(group.Id, posted with { PostedAt = time.GetUtcNow() }, cancellationToken);
                    var alerted = new AuditRecord
                    {
                        At = time.GetUtcNow(),
                        Action = "alerted",
                        ActorPlatform = adapter.Platform,
                        ActorId = Actor.System.UserId,
                        ActorName = Actor.System.DisplayName,
                        Channel = posted.Channel,
                        MessageId = posted.MessageId,
                        Detail = $"card posted to {adapter.Platform}",
                    }.About(group, [.. group.OpenMembers]);
                    await RetryWhileStoreIsDownAsync(() => audit.AppendAsync(alerted, cancellationToken), group.Id, adapter.Platform, cancellationToken);
                    AppMetrics.AlertsPosted.WithLabels(adapter.Platform).Inc();
                    LogPosted(group.Id, group.Owner, adapter.Platform, channel);
                    break;
                case ChatOutcome.RetryLater:
                    retryAt = Min(retryAt, time.GetUtcNow() + (result.RetryAfter ?? _options.RetryBackoff));
                    LogRetry(adapter.Platform, operation, group.Id, result.Error, result.RetryAfter ?? _options.RetryBackoff);
                    break;
                case ChatOutcome.Failed:
                    await RecordFailureAsync(adapter.Platform, operation, channel, group.Id, group.Owner, result.Error, cancellationToken);
                    break;
            }
        }
        if (retryAt is { } due)
        {
            await queue.RescheduleAsync(Queues.Groups, item, due, cancellationToken);
        }
        else
        {
            await queue.CompleteAsync(Queues.Groups, item, time.GetUtcNow(), cancellationToken);
        }
    }

    private async Task SendOutboxAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var message = item.Payload is null ? null : JsonSerializer.Deserialize(item.Payload, OutboxJson.Default.OutboxMessage);
        if (message is null)
        {
            await queue.CompleteAsync(Queues.Outbox, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        var group = message.GroupId is null ? null : await store.GetGroupAsync(message.GroupId, cancellationToken);
        var route = group is null ? null : router.FindOwner(group.Owner);
        var delivered = message.Delivered.ToList();
        DateTimeOffset? retryAt = null;
        var note = new ChatNote(message.Text, message.Mentions) { Names = message.Names, Broadcast = message.Broadcast };
        foreach (var adapter in _adapters)
        {
            if (delivered.Contains(adapter.Platform) || (message.Platform is { } only && only != adapter.Platform))
            {
                continue;
            }
            if (message.DirectTo is { } person)
            {
                var home = group is null ? null : ChannelOf(adapter, group, route);
                if (await ChannelSlotAsync(adapter.Platform, "dm:" + person, "o:" + item.Id, cancellationToken) is { } dmSlot)
                {
                    retryAt = Min(retryAt, dmSlot);
                    continue;
                }
                var direct = await adapter.DirectMessageAsync(person, home, note, cancellationToken);
                AppMetrics.ChatCalls.WithLabels(adapter.Platform, "direct", direct.Outcome.ToString()).Inc();
                switch (direct.Outcome)
                {
                    case ChatOutcome.Ok:
                        delivered.Add(adapter.Platform);
                        break;
                    case ChatOutcome.RetryLater:
                        retryAt = Min(retryAt, time.GetUtcNow() + (direct.RetryAfter ?? _options.RetryBackoff));
                        break;
                    case ChatOutcome.Failed:
                        delivered.Add(adapter.Platform);
                        await RecordFailureAsync(adapter.Platform, "direct", "dm:" + person, message.GroupId, group?.Owner, direct.Error, cancellationToken);
                        break;
                }
                continue;
            }
            var thread = group?.Cards.GetValueOrDefault(adapter.Platform);
            if (thread is null && message.Channel is null && group is { Meta.Alerting: true }
                && message.CreatedAt is { } created && time.GetUtcNow() - created < NoteWaitsForCard)
            {
                // The group's card is still queued behind the channel's rate limit or a retry: posted now,
                // the note (an SLA reminder fired at once for an old finding) would land outside its thread.
                retryAt = Min(retryAt, time.GetUtcNow() + (_options.ChannelInterval > TimeSpan.Zero ? _options.ChannelInterval : _options.RetryBackoff));
                continue;
            }
            var channel = message.Channel ?? thread?.Channel ?? (group is null ? null : ChannelOf(adapter, group, route));
            if (channel is null)
            {
                continue;
            }
            if (await ChannelSlotAsync(adapter.Platform, channel, "o:" + item.Id, cancellationToken) is { } slot)
            {
                retryAt = Min(retryAt, slot);
                continue;
            }
            var result = await adapter.PostNoteAsync(channel, thread, note, cancellationToken);
            AppMetrics.ChatCalls.WithLabels(adapter.Platform, "note", result.Outcome.ToString()).Inc();
            switch (result.Outcome)
            {
                case ChatOutcome.Ok:
                    delivered.Add(adapter.Platform);
                    break;
                case ChatOutcome.RetryLater:
                    retryAt = Min(retryAt, time.GetUtcNow() + (result.RetryAfter ?? _options.RetryBackoff));
                    break;
                case ChatOutcome.Failed:
                    delivered.Add(adapter.Platform);
                    await RecordFailureAsync(adapter.Platform, "note", channel, message.GroupId, group?.Owner, result.Error, cancellationToken);
                    break;
            }
        }
        if (retryAt is { } due)
        {
            var remaining = message with { Delivered = delivered };
            await queue.EnqueueAsync(Queues.Outbox, item.Id, JsonSerializer.Serialize(remaining, OutboxJson.Default.OutboxMessage),
                due, cancellationToken);
        }
        else
        {
            await queue.CompleteAsync(Queues.Outbox, item, time.GetUtcNow(), cancellationToken);
        }
    }

    /// <summary>
    /// The card exists on the platform now; if its ref is lost the group is posted again when its item
    /// comes back. So a store outage right after the post is waited out (within half the lease, before
    /// another replica may claim the item) instead of failing the pass.
    /// </summary>
    private Task StoreCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken) =>
        RetryWhileStoreIsDownAsync(() => store.SetCardRefAsync(groupId, card, cancellationToken), groupId, card.Platform, cancellationToken);

    /// <summary>
    /// A write that follows a card already posted (its ref, its "alerted" audit record): the post cannot be
    /// undone, so the write waits out a short store outage (half a lease) rather than fail the publish and
    /// leave the group claimed, or lose the record.
    /// </summary>
    private async Task RetryWhileStoreIsDownAsync(Func<Task> write, string groupId, string platform, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + _options.Lease / 2;
        while (true)
        {
            try
            {
                await write();
                return;
            }
            catch (Exception ex) when (Operations.StoreUnavailableHandler.IsStoreFailure(ex) && time.GetUtcNow() < deadline)
            {
                AppMetrics.Errors.WithLabels("dispatcher").Inc();
                LogCardRefRetry(groupId, platform, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Platform} card of group {GroupId} ({Channel} {MessageId}) is gone ({Error}); posting it again")]
    private partial void LogCardGone(string groupId, string platform, string channel, string messageId, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Posted the card of group {GroupId} to {Platform} but could not store its ref or record yet; retrying: {Error}")]
    private partial void LogCardRefRetry(string groupId, string platform, string error);

    /// <summary>How long a thread note waits for its group's card before it is posted on its own.</summary>
    private static readonly TimeSpan NoteWaitsForCard = TimeSpan.FromMinutes(10);

    private static string? ChannelOf(IChatAdapter adapter, AlertGroup group, OwnerRoute? route) =>
        group.Cards.GetValueOrDefault(adapter.Platform)?.Channel
        ?? (route is null ? null : adapter.ChannelFor(route))
        ?? adapter.ChannelFor(new OwnerRoute(group.Owner, group.Meta.SlackChannel, group.Meta.TeamsChannel, [], [], [], group.Meta.Environment, "stored"));

    /// <summary>
    /// Null when the call may go now; otherwise the time of the slot held for this item. Slots are shared
    /// by all replicas, so together they stay under the platform's per-channel rate limit. Holding the
    /// next free slot and coming back exactly then means a queued card is read twice, not once per
    /// interval while it waits.
    /// </summary>
    private async Task<DateTimeOffset?> ChannelSlotAsync(string platform, string channel, string holder, CancellationToken cancellationToken)
    {
        if (_options.ChannelInterval <= TimeSpan.Zero)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var slot = await values.ReserveSlotAsync($"{platform}:{channel}", holder, _options.ChannelInterval + SlotMargin, now, cancellationToken);
        return slot <= now ? null : slot;
    }

    /// <summary>
    /// Slots are this much wider than the interval: a call leaves a few milliseconds after its slot is
    /// granted, and the next one must still not come sooner than the interval after it.
    /// </summary>
    private TimeSpan SlotMargin => _options.ChannelInterval / 20;

    private async Task RecordFailureAsync(string platform, string operation, string channel, string? groupId, string? owner, string? error, CancellationToken cancellationToken)
    {
        AppMetrics.Errors.WithLabels(platform).Inc();
        LogChatFailed(platform, operation, channel, groupId, owner, error);
        await audit.AppendAsync(new AuditRecord
        {
            At = time.GetUtcNow(),
            Action = $"chat_{operation}_failed",
            ActorPlatform = platform,
            ActorId = Actor.System.UserId,
            ActorName = Actor.System.DisplayName,
            Channel = channel,
            GroupId = groupId,
            Owner = owner,
            Detail = error,
            Outcome = "failed",
        }, cancellationToken);
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;

    private async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No chat platform configured; would post for {Owner} (group {GroupId}): {Text}")]
    private partial void LogWouldPost(string groupId, string owner, string text);

    [LoggerMessage(Level = LogLevel.Information, Message = "Posted card for group {GroupId} of {Owner} to {Platform} channel {Channel}")]
    private partial void LogPosted(string groupId, string owner, string platform, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Platform} {Operation} for group {GroupId} will be retried in {Delay}: {Error}")]
    private partial void LogRetry(string platform, string operation, string groupId, string? error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Platform} {Operation} to {Channel} failed for group {GroupId} of {Owner}: {Error}")]
    private partial void LogChatFailed(string platform, string operation, string channel, string? groupId, string? owner, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Observer} failed for group {GroupId}")]
    private partial void LogObserverFailed(Exception ex, string observer, string groupId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dispatcher pass failed; claimed work will be retried")]
    private partial void LogLoopFailed(Exception ex);
}

/// <summary>Section <c>Dispatch</c>: how the outbound queue is drained.</summary>
internal sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>At least this long between two chat calls to one channel, across replicas (Slack allows ~1/s).</summary>
    public TimeSpan ChannelInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan ErrorBackoff { get; set; } = TimeSpan.FromSeconds(2);
    public int BatchSize { get; set; } = 64;
    public int Parallelism { get; set; } = 8;
}
