using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Sla;

public sealed class SlaReportTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static readonly AlertGroup[] Groups =
    [
        Group("g-overdue", "payments", Severity.Critical, firstSeen: Now.AddHours(-26), due: Now.AddHours(-2), new WorkflowState { SlaBreached = true }),
        Group("g-soon", "payments", Severity.High, firstSeen: Now.AddHours(-67), due: Now.AddHours(5),
            new WorkflowState { State = GroupState.Acknowledged, AcknowledgedAt = Now.AddHours(-63) }),
        Group("g-later", "payments", Severity.Medium, firstSeen: Now.AddDays(-1), due: Now.AddDays(29), new WorkflowState()),
        Group("g-fixed", "payments", Severity.Critical, firstSeen: Now.AddDays(-5), due: Now.AddDays(-4),
            new WorkflowState { State = GroupState.Resolved, AcknowledgedAt = Now.AddDays(-5).AddHours(2), ResolvedAt = Now.AddDays(-5).AddHours(10), TimeToFix = TimeSpan.FromHours(10) }),
        Group("g-suppressed", "payments", Severity.Critical, firstSeen: Now.AddDays(-5), due: Now.AddDays(-4), new WorkflowState { State = GroupState.Suppressed }),
        Group("g-sec1", "security", Severity.High, firstSeen: Now.AddDays(-4), due: Now.AddDays(-1), new WorkflowState()),
        Group("g-sec2", "security", Severity.Low, firstSeen: Now.AddDays(-4), due: Now.AddDays(-2), new WorkflowState()),
    ];

    [Fact]
    public void OwnerReportListsOverdueAndDueSoonAndMeanTimes()
    {
        var report = SlaReport.For(Groups, Now, "PAYMENTS");

        var payments = Assert.Single(report.Owners);
        Assert.Equal("payments", payments.Owner);
        Assert.Equal(3, payments.Open);
        Assert.Equal(new Dictionary<Severity, int> { [Severity.Critical] = 1, [Severity.High] = 1, [Severity.Medium] = 1 }, payments.OpenBySeverity);
        var overdue = Assert.Single(payments.Overdue);
        Assert.Equal("g-overdue", overdue.GroupId);
        Assert.True(overdue.IsOverdue);
        Assert.Equal(TimeSpan.FromHours(-2), overdue.Remaining);
        var soon = Assert.Single(payments.DueSoon);
        Assert.Equal("g-soon", soon.GroupId);
        Assert.Equal(TimeSpan.FromHours(5), soon.Remaining);
        Assert.Equal(1, payments.Breached);
        Assert.Equal(2, payments.Acknowledged);
        Assert.Equal(TimeSpan.FromHours(3), payments.MeanTimeToAcknowledge);
        Assert.Equal(1, payments.Fixed);
        Assert.Equal(TimeSpan.FromHours(10), payments.MeanTimeToFix);
        Assert.Equal((3, 1, 1, TimeSpan.FromHours(10)), (report.Total.Open, report.Total.Overdue.Count, report.Total.DueSoon.Count, report.Total.MeanTimeToFix));
    }

    [Fact]
    public void ReportForEveryOwnerPutsTheMostOverdueFirstAndTotalsThem()
    {
        var report = SlaReport.For(Groups, Now, owner: null);

        Assert.Equal(["security", "payments"], report.Owners.Select(o => o.Owner));
        Assert.Equal("all", report.Total.Owner);
        Assert.Equal(5, report.Total.Open);
        Assert.Equal(["g-sec2", "g-sec1", "g-overdue"], report.Total.Overdue.Select(i => i.GroupId));
        Assert.Null(report.Owners[0].MeanTimeToAcknowledge);
        Assert.Null(report.Owners[0].MeanTimeToFix);
    }

    [Fact]
    public void UnknownOwnerGivesAnEmptyReport()
    {
        var report = SlaReport.For(Groups, Now, "nobody");

        Assert.Empty(report.Owners);
        Assert.Equal(0, report.Total.Open);
        Assert.Null(report.Total.MeanTimeToFix);
    }

    private static AlertGroup Group(string id, string owner, Severity severity, DateTimeOffset firstSeen, DateTimeOffset due, WorkflowState workflow) => new()
    {
        Id = id,
        Meta = new GroupMeta
        {
            Owner = owner,
            VulnerabilityId = "CVE-2026-" + id,
            Title = id,
            Type = FindingType.PackageVulnerability,
            Severity = severity,
            FirstSeenAt = firstSeen,
            SlaDueAt = due,
        },
        Members =
        [
            new GroupMember
            {
                FindingArn = "arn:" + id,
                ResourceType = ResourceTypes.Ec2Instance,
                ResourceId = "i-" + id,
                Region = "eu-central-1",
                AccountId = "111111111111",
                Status = workflow.State == GroupState.Resolved ? FindingStatus.Closed : FindingStatus.Active,
                Severity = severity,
                FirstObservedAt = firstSeen,
                UpdatedAt = firstSeen,
            },
        ],
        Workflow = workflow,
        Version = 1,
    };
}
