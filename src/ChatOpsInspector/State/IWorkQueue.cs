namespace ChatOpsInspector.State;

/// <summary>
/// A durable, scheduled work queue shared by all replicas. Items are claimed with a lease: an item
/// whose worker dies comes back when the lease ends, so nothing is lost across restarts.
/// </summary>
internal interface IWorkQueue
{
    /// <summary>
    /// Marks <paramref name="id"/> as needing work (no payload). Touching an item that is already
    /// pending or being worked on coalesces: it is worked on once more, not once per touch.
    /// </summary>
    Task TouchAsync(string queue, string id, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Adds or replaces an item with a payload, due at <paramref name="dueAt"/>.</summary>
    Task EnqueueAsync(string queue, string id, string payload, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Claims up to <paramref name="max"/> due items for <paramref name="lease"/>; no two callers get the same item.</summary>
    Task<IReadOnlyList<WorkItem>> ClaimAsync(string queue, int max, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes a finished item, unless it was touched after it was claimed: then it is due again now.</summary>
    Task CompleteAsync(string queue, WorkItem item, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Puts a claimed item back, due at <paramref name="dueAt"/> (retry, rate limit).</summary>
    Task RescheduleAsync(string queue, WorkItem item, DateTimeOffset dueAt, CancellationToken cancellationToken);

    /// <summary>Removes an item whether or not it is claimed (a reminder that no longer applies).</summary>
    Task RemoveAsync(string queue, string id, CancellationToken cancellationToken);

    Task<long> CountAsync(string queue, CancellationToken cancellationToken);
}

internal sealed record WorkItem(string Id, string? Payload, long Generation, DateTimeOffset DueAt);

/// <summary>Queue names, so that all replicas agree.</summary>
internal static class Queues
{
    /// <summary>Alert groups whose card must be posted or updated.</summary>
    public const string Groups = "groups";

    /// <summary>Chat messages other than cards: thread notes, approvals, digests.</summary>
    public const string Outbox = "outbox";

    /// <summary>SLA reminders, escalations and daily digests.</summary>
    public const string Sla = "schedule:sla";

    /// <summary>Remediation steps: suppression expiry, filter clean-up, approval expiry, patch progress polling.</summary>
    public const string Remediation = "remediation";
}
