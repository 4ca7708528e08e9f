using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.State;

/// <summary>Findings, alert groups and their workflow. Every write here is atomic in the store.</summary>
internal interface IAlertStore
{
    /// <summary>
    /// Records one finding in one round trip: drops it when the event id was seen or its
    /// <c>updatedAt</c> has not moved, else stores it in its group and marks the group for publishing.
    /// </summary>
    Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken);

    Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Each of the owner's groups with its remembered summary, in one round trip; the summary is null
    /// where none was remembered or the group changed since (<see cref="AlertQueries"/> reads those in full).
    /// </summary>
    Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the summary of a group just read in full, so the next list need not read it again; a
    /// hint, sent without waiting, and ignored once the group has changed since.
    /// </summary>
    void RememberSummary(AlertGroup group);

    Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the workflow document if it is still at <paramref name="expectedVersion"/>, appending
    /// <paramref name="audit"/> in the same atomic step. False means someone else changed it first.
    /// </summary>
    Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken);

    Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken);

    /// <summary>The group a finding belongs to, or null when the finding was never stored.</summary>
    Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken);

    /// <summary>
    /// Each owner's counters at <paramref name="now"/>, as the writes maintain them: the cost grows with
    /// the number of owners and partitions, never with the number of groups.
    /// </summary>
    Task<IReadOnlyList<OwnerCounts>> CountsAsync(IReadOnlyCollection<string> owners, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Ids of the owners' open groups due at or before <paramref name="until"/>, soonest first, at most
    /// <paramref name="max"/>: what <c>/vulns sla</c> shows without reading the other groups.
    /// </summary>
    Task<IReadOnlyList<string>> DueGroupIdsAsync(IReadOnlyCollection<string> owners, DateTimeOffset until, int max, CancellationToken cancellationToken);

    /// <summary>Ids of every group (any owner) of a vulnerability id, from the index ingest keeps.</summary>
    Task<IReadOnlyList<string>> GroupsOfVulnerabilityAsync(string vulnerabilityId, CancellationToken cancellationToken);

    /// <summary>
    /// Groups that changed (new finding, workflow step) since they were last taken off the list with
    /// <see cref="ForgetChangedAsync"/>, at most <paramref name="max"/>: what SLA planning looks at
    /// instead of every group.
    /// </summary>
    Task<IReadOnlyList<ChangedGroup>> ChangedGroupsAsync(int max, CancellationToken cancellationToken);

    /// <summary>Takes the groups off the changed list unless they changed again since they were listed.</summary>
    Task ForgetChangedAsync(IReadOnlyList<ChangedGroup> seen, CancellationToken cancellationToken);

    /// <summary>True when the store answers; used by /readyz.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>A changed group and its change mark, which grows with every change of the group.</summary>
internal sealed record ChangedGroup(string GroupId, double Mark);

internal sealed record SavedSummary(string GroupId, GroupSummary? Summary);

internal enum IngestOutcome
{
    New,
    Updated,
    Duplicate,
}

/// <summary>Everything <see cref="IAlertStore.IngestAsync"/> writes for one finding.</summary>
internal sealed record IngestRecord(
    string? EventId,
    string GroupId,
    GroupMeta Meta,
    GroupMember Member);
