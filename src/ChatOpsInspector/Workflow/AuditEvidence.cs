using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Fills an audit record with what an auditor needs to tie it to findings: ARNs, resources, accounts,
/// regions, severity, first observation and SLA due date, and for suppressions and patches who
/// requested, who approved, until when, which filter, which documents and commands.
/// </summary>
internal static class AuditEvidence
{
    /// <summary>A group can hold tens of thousands of findings; a record lists this many and counts the rest.</summary>
    public const int MaxListed = 100;

    public static AuditActor Identity(Actor actor) => new(actor.Platform, actor.Workspace, actor.UserId, actor.DisplayName);

    /// <summary>The group's facts, over <paramref name="members"/> (default: all of them).</summary>
    public static AuditRecord About(this AuditRecord record, AlertGroup group, IReadOnlyCollection<GroupMember>? members = null)
    {
        var concerned = members ?? group.Members;
        var listed = concerned.OrderBy(m => m.FindingArn, StringComparer.Ordinal).Take(MaxListed).ToArray();
        return record with
        {
            GroupId = group.Id,
            Owner = group.Owner,
            VulnerabilityId = group.VulnerabilityId,
            Severity = (concerned.Count > 0 ? concerned.Max(m => m.Severity) : group.Severity).ToString().ToUpperInvariant(),
            FindingArns = [.. listed.Select(m => m.FindingArn)],
            FindingCount = concerned.Count,
            ResourceIds = Distinct(concerned.Select(m => m.ResourceId)),
            AccountIds = Distinct(concerned.Select(m => m.AccountId)),
            Regions = Distinct(concerned.Select(m => m.Region)),
            DetectedAt = concerned.Count > 0 ? concerned.Min(m => m.FirstObservedAt) : group.FirstSeenAt,
            SlaDueAt = group.Meta.SlaDueAt,
        };
    }

    /// <summary>The facts of the workflow step the record describes, taken from the state it leads to (or left).</summary>
    public static AuditRecord Of(this AuditRecord record, WorkflowState before, WorkflowState after, RemediationDocuments? documents = null)
    {
        var type = AuditControls.TypeOf(record.Action)?.Kind;
        switch (type)
        {
            case "suppressed":
                var s = after.Suppression ?? before.Suppression;
                return s is null ? record : record with
                {
                    Reason = s.Reason,
                    Until = s.ExpiresAt == DateTimeOffset.MaxValue ? null : s.ExpiresAt,
                    FilterArns = s.FilterArn is null ? null : [s.FilterArn],
                    RequestedBy = Identity(s.By),
                };
            case "patched" or "isolated":
                var p = after.Patch ?? before.Patch;
                if (p is null)
                {
                    return record;
                }
                var resources = p.InstanceIds.Take(MaxListed).ToArray();
                return record with
                {
                    PatchRequestId = p.Id,
                    RequestedBy = Identity(p.RequestedBy),
                    ApprovedBy = p is { Approved: true, DecidedBy: { } approver } ? Identity(approver) : null,
                    Documents = documents?.For(p.Kind) is { } doc ? [doc] : null,
                    CommandIds = p.CommandIds.Count > 0 ? [.. p.CommandIds] : null,
                    ResourceIds = resources,
                };
            case "verified_fixed":
                return record with { FixedAt = after.ResolvedAt, SlaMet = after.ResolvedAt is { } at && record.SlaDueAt is { } due ? at <= due : null };
            case "sla":
                return record with { SlaMet = false };
            default:
                return record;
        }
    }

    private static string[] Distinct(IEnumerable<string> values) =>
        [.. values.Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(MaxListed)];
}

/// <summary>The SSM documents a patch or an isolation runs, as configured.</summary>
internal sealed record RemediationDocuments(string Patch, string? Isolation)
{
    public string? For(string kind) => kind == "isolate" ? Isolation : Patch;
}
