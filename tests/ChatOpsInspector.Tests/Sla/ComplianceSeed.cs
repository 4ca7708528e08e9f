using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Sla;

/// <summary>
/// Puts alert groups with a history into a running bot's store the way the bot would have: findings
/// through ingest, Inspector's verdict through the reconciler's own derivation, an acknowledgement and a
/// posted card through the store's workflow and card writes.
/// </summary>
internal static class ComplianceSeed
{
    public static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// November 2026 for "payments": CRITICAL a (met, TTA 1 h, TTF 12 h), CRITICAL b (fixed late, TTA 3 h,
    /// TTF 48 h), CRITICAL c (open past due), HIGH d (met, TTF 24 h, two findings); "security" CRITICAL e
    /// (open past due). Payments CRITICAL: 1 of 3 met = 33.3 %.
    /// </summary>
    public static async Task<string[]> NovemberAsync(TestApp app, string payments = "payments", string security = "security")
    {
        return
        [
            await GroupAsync(app, payments, "CVE-2026-1001", Severity.Critical, "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z",
                posted: "2026-11-02T00:00:00Z", acknowledged: "2026-11-02T01:00:00Z", closed: "2026-11-02T12:00:00Z"),
            await GroupAsync(app, payments, "CVE-2026-1002", Severity.Critical, "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z",
                posted: "2026-11-10T00:00:00Z", acknowledged: "2026-11-10T03:00:00Z", closed: "2026-11-12T00:00:00Z"),
            await GroupAsync(app, payments, "CVE-2026-1003", Severity.Critical, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
            await GroupAsync(app, payments, "CVE-2026-1004", Severity.High, "2026-11-05T00:00:00Z", "2026-11-08T00:00:00Z",
                closed: "2026-11-06T00:00:00Z", findings: 2),
            await GroupAsync(app, security, "CVE-2026-2001", Severity.Critical, "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"),
        ];
    }

    public static async Task<string> GroupAsync(
        TestApp app,
        string owner,
        string vulnerabilityId,
        Severity severity,
        string firstSeen,
        string due,
        string? posted = null,
        string? acknowledged = null,
        string? closed = null,
        int findings = 1,
        string? slackChannel = null)
    {
        var store = app.Service<IAlertStore>();
        var id = GroupIds.For(owner, vulnerabilityId);
        var seen = At(firstSeen);
        var meta = new GroupMeta
        {
            Owner = owner,
            VulnerabilityId = vulnerabilityId,
            Title = vulnerabilityId + " - openssl",
            Type = FindingType.PackageVulnerability,
            Severity = severity,
            FirstSeenAt = seen,
            SlaDueAt = At(due),
            SlackChannel = slackChannel,
        };
        for (var i = 0; i < findings; i++)
        {
            var findingId = FindingEvents.FindingId($"{owner}-{vulnerabilityId}-{i}");
            await store.IngestAsync(new IngestRecord(null, id, meta, new GroupMember
            {
                FindingArn = FindingEvents.Arn(findingId),
                ResourceType = ResourceTypes.Ec2Instance,
                ResourceId = $"i-{Math.Abs(findingId.GetHashCode()):x8}{i:x9}",
                Region = "eu-central-1",
                AccountId = "123456789012",
                Status = closed is null ? FindingStatus.Active : FindingStatus.Closed,
                Severity = severity,
                FirstObservedAt = seen,
                UpdatedAt = closed is null ? seen : At(closed),
            }), default);
        }
        if (posted is not null)
        {
            await store.SetCardRefAsync(id, new ChatMessageRef("slack", slackChannel ?? "C0SEED", "1700000000.000100") { PostedAt = At(posted) }, default);
        }
        // The dispatcher may reconcile the group at the same time: compare-and-set until it reads as wanted.
        await TestApp.Eventually(async () =>
        {
            var group = (await store.GetGroupAsync(id, default))!;
            var next = WorkflowReconciler.Derive(group)?.Next ?? group.Workflow;
            if (acknowledged is not null && next.AcknowledgedAt is null)
            {
                next = next with { AcknowledgedAt = At(acknowledged), State = next.State == GroupState.New ? GroupState.Acknowledged : next.State };
            }
            if (next == group.Workflow)
            {
                return true;
            }
            await store.TryUpdateWorkflowAsync(id, group.Version, next, new AuditRecord
            {
                At = At(firstSeen), Action = "seeded", ActorPlatform = "system", ActorId = "seed", ActorName = "seed", GroupId = id, Owner = owner,
            }, default);
            return false;
        }, $"group {vulnerabilityId} of {owner} seeded");
        return id;
    }
}
