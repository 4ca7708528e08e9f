using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Sla;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Sla;

/// <summary>
/// The SLA compliance report against figures worked out by hand. Every group below is placed by the UTC
/// month its SLA fell due; the comments give the arithmetic.
/// </summary>
public sealed class ComplianceReportTests
{
    private static readonly ReportMonth November = new(2026, 11);
    private static readonly DateTimeOffset AfterNovember = At("2026-12-02T10:00:00Z");

    private static readonly AlertGroup[] Groups =
    [
        // First seen in October, due 1 Nov: counts in November. Posted 20:05, acknowledged 21:05 (TTA 1 h),
        // fixed 1 Nov 08:00, before its due time (TTF 12 h): met.
        Group("a", "payments", Severity.Critical, "2026-10-31T20:00:00Z", "2026-11-01T20:00:00Z",
            posted: "2026-10-31T20:05:00Z", acknowledged: "2026-10-31T21:05:00Z", resolved: "2026-11-01T08:00:00Z"),
        // Due 11 Nov, fixed only on 1 Dec 06:00: still a November group, and missed. TTA 2 h; TTF 21 d 6 h = 510 h.
        Group("b", "payments", Severity.Critical, "2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z",
            posted: "2026-11-10T00:00:00Z", acknowledged: "2026-11-10T02:00:00Z", resolved: "2026-12-01T06:00:00Z"),
        // Open past due. Acknowledged, but its card was stored before post times were kept: no TTA.
        Group("c", "payments", Severity.Critical, "2026-11-29T12:00:00Z", "2026-11-30T12:00:00Z",
            posted: null, acknowledged: "2026-11-29T13:00:00Z", card: true),
        // Due 23:30 UTC on the last day, written in UTC+1 as 00:30 on 1 Dec: November, open past due.
        Group("d", "payments", Severity.Critical, "2026-11-29T23:30:00Z", "2026-12-01T00:30:00+01:00"),
        // Due at the first instant of December: not November.
        Group("e", "payments", Severity.Critical, "2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z"),
        // Due 31 Oct 23:59:59: not November.
        Group("old", "payments", Severity.Critical, "2026-10-30T23:59:59Z", "2026-10-31T23:59:59Z"),
        // Suppressed: accepted risk, neither met nor missed.
        Group("f", "payments", Severity.Critical, "2026-11-14T00:00:00Z", "2026-11-15T00:00:00Z", suppressed: true),
        // HIGH, three findings. Posted 00:10, acknowledged 04:10 (TTA 4 h); fixed 3 Nov, due 4 Nov (TTF 48 h): met.
        Group("g", "payments", Severity.High, "2026-11-01T00:00:00Z", "2026-11-04T00:00:00Z",
            posted: "2026-11-01T00:10:00Z", acknowledged: "2026-11-01T04:10:00Z", resolved: "2026-11-03T00:00:00Z", findings: 3),
        // Another owner: fixed a day late (TTF 48 h), never posted.
        Group("h", "security", Severity.Critical, "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z", resolved: "2026-11-06T00:00:00Z"),
    ];

    [Fact]
    public void RowsPerOwnerAndSeverityCountTheGroupsDueInTheMonth()
    {
        var report = ComplianceReport.For(Groups, November, AfterNovember);

        Assert.Equal([("payments", Severity.Critical), ("payments", Severity.High), ("security", Severity.Critical)],
            report.Rows.Select(r => (r.Owner, r.Severity!.Value)));
        var critical = report.Rows[0];
        // a, b, c, d, f — not e (December) nor old (October).
        Assert.Equal((5, 5), (critical.Groups, critical.Findings));
        // Met: a. Missed: b (fixed late), c and d (open past due).
        Assert.Equal((1, 3, 2, 0, 1), (critical.Met, critical.Missed, critical.OpenPastDue, critical.Pending, critical.Suppressed));
        Assert.Equal(25.0, critical.MetPercent);
        // TTA over a (1 h) and b (2 h): mean 1.5 h; p90 is the ⌈0.9·2⌉ = 2nd smallest, 2 h.
        Assert.Equal(2, critical.Acknowledged);
        Assert.Equal(TimeSpan.FromHours(1.5), critical.MeanTimeToAcknowledge);
        Assert.Equal(TimeSpan.FromHours(2), critical.P90TimeToAcknowledge);
        // TTF over a (12 h) and b (510 h): mean 261 h, p90 510 h.
        Assert.Equal(2, critical.Fixed);
        Assert.Equal(TimeSpan.FromHours(261), critical.MeanTimeToFix);
        Assert.Equal(TimeSpan.FromHours(510), critical.P90TimeToFix);

        var high = report.Rows[1];
        Assert.Equal((1, 3, 1, 0, 100.0), (high.Groups, high.Findings, high.Met, high.Missed, high.MetPercent!.Value));
        Assert.Equal((TimeSpan.FromHours(4), TimeSpan.FromHours(48)), (high.MeanTimeToAcknowledge!.Value, high.MeanTimeToFix!.Value));

        var security = report.Rows[2];
        Assert.Equal((1, 0, 1, 0.0), (security.Groups, security.Met, security.Missed, security.MetPercent!.Value));
        Assert.Null(security.MeanTimeToAcknowledge);
        Assert.Null(security.P90TimeToAcknowledge);
    }

    [Fact]
    public void TotalSumsEveryRow()
    {
        var total = ComplianceReport.For(Groups, November, AfterNovember).Total;

        Assert.Equal("all", total.Owner);
        Assert.Null(total.Severity);
        // 5 + 1 + 1 groups; 5 + 3 + 1 findings; met a, g; missed b, c, d, h: 2 of 6 = 33.3 %.
        Assert.Equal((7, 9, 2, 4, 2, 1), (total.Groups, total.Findings, total.Met, total.Missed, total.OpenPastDue, total.Suppressed));
        Assert.Equal(33.3, total.MetPercent);
        // TTA 1, 2, 4 h: mean 2 h 20 min, p90 the 3rd of 3 (4 h). TTF 12, 510, 48, 48 h: mean 154.5 h, p90 the 4th of 4 (510 h).
        Assert.Equal(TimeSpan.FromMinutes(140), total.MeanTimeToAcknowledge);
        Assert.Equal(TimeSpan.FromHours(4), total.P90TimeToAcknowledge);
        Assert.Equal(TimeSpan.FromHours(154.5), total.MeanTimeToFix);
        Assert.Equal(TimeSpan.FromHours(510), total.P90TimeToFix);
    }

    [Fact]
    public void OwnerFilterIsCaseInsensitiveAndNamesTheTotal()
    {
        var report = ComplianceReport.For(Groups, November, AfterNovember, "PAYMENTS");

        Assert.All(report.Rows, r => Assert.Equal("payments", r.Owner));
        Assert.Equal(6, report.Total.Groups);
        Assert.Equal("PAYMENTS", report.Total.Owner);
    }

    [Fact]
    public void BySeveritySumsOwnersWorstFirst()
    {
        var bySeverity = ComplianceReport.For(Groups, November, AfterNovember).BySeverity();

        Assert.Equal([Severity.Critical, Severity.High], bySeverity.Select(r => r.Severity!.Value));
        // Critical: payments 1 met of 4, security 0 of 1 → 1 of 5.
        Assert.Equal((6, 1, 4, 20.0), (bySeverity[0].Groups, bySeverity[0].Met, bySeverity[0].Missed, bySeverity[0].MetPercent!.Value));
    }

    [Fact]
    public void InTheCurrentMonthOpenGroupsNotYetDueArePendingAndAFixAtTheDueInstantIsMet()
    {
        var now = At("2026-11-20T12:00:00Z");
        AlertGroup[] groups =
        [
            Group("p", "payments", Severity.High, "2026-11-20T00:00:00Z", "2026-11-23T00:00:00Z"),
            Group("q", "payments", Severity.High, "2026-11-16T00:00:00Z", "2026-11-19T00:00:00Z"),
            Group("r", "payments", Severity.High, "2026-11-15T00:00:00Z", "2026-11-18T00:00:00Z", resolved: "2026-11-18T00:00:00Z"),
        ];

        var row = Assert.Single(ComplianceReport.For(groups, November, now).Rows);

        Assert.Equal((3, 1, 1, 1, 1), (row.Groups, row.Met, row.Missed, row.OpenPastDue, row.Pending));
        Assert.Equal(50.0, row.MetPercent);
    }

    [Fact]
    public void AMonthWithNothingDecidedHasNoMetPercent()
    {
        var report = ComplianceReport.For(Groups, new ReportMonth(2026, 6), AfterNovember);

        Assert.Empty(report.Rows);
        Assert.Equal(0, report.Total.Groups);
        Assert.Null(report.Total.MetPercent);
        Assert.Null(report.Total.MeanTimeToFix);
    }

    // Nearest rank: sorted ascending, the ⌈0.9·n⌉-th value.
    [Theory]
    [InlineData(new[] { 7 }, 7)]
    [InlineData(new[] { 5, 1, 4, 2, 3 }, 5)] // ⌈4.5⌉ = 5th
    [InlineData(new[] { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }, 9)] // ⌈9⌉ = 9th
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }, 18)] // ⌈18⌉ = 18th
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 10)] // ⌈9.9⌉ = 10th
    public void P90IsTheNearestRank(int[] hours, int expected)
    {
        Assert.Equal(TimeSpan.FromHours(expected), ComplianceReport.Percentile([.. hours.Select(h => TimeSpan.FromHours(h))], 0.9));
    }

    [Fact]
    public void P90OfNothingIsNull() => Assert.Null(ComplianceReport.Percentile([], 0.9));

    [Theory]
    [InlineData("2026-11", true)]
    [InlineData("2026-01", true)]
    [InlineData("2026-13", false)]
    [InlineData("2026-1", false)]
    [InlineData("11-2026", false)]
    [InlineData("2026-11-01", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void MonthsAreWrittenYearDashMonth(string? text, bool valid)
    {
        Assert.Equal(valid, ReportMonth.TryParse(text, out var month));
        if (valid)
        {
            Assert.Equal(text, month.ToString());
        }
    }

    [Fact]
    public void MonthBoundariesAreUtc()
    {
        Assert.Equal(At("2026-11-01T00:00:00Z"), November.Start);
        Assert.Equal(At("2026-12-01T00:00:00Z"), November.End);
        Assert.True(November.Contains(At("2026-12-01T00:59:59+01:00")));
        Assert.False(November.Contains(At("2026-11-01T00:30:00+01:00")));
        Assert.Equal(new ReportMonth(2027, 1), new ReportMonth(2026, 12).AddMonths(1));
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    private static AlertGroup Group(
        string id,
        string owner,
        Severity severity,
        string firstSeen,
        string due,
        string? posted = null,
        string? acknowledged = null,
        string? resolved = null,
        bool suppressed = false,
        bool card = false,
        int findings = 1)
    {
        var seen = At(firstSeen);
        var workflow = new WorkflowState
        {
            State = resolved is not null ? GroupState.Resolved : suppressed ? GroupState.Suppressed : acknowledged is not null ? GroupState.Acknowledged : GroupState.New,
            AcknowledgedAt = acknowledged is null ? null : At(acknowledged),
            ResolvedAt = resolved is null ? null : At(resolved),
            TimeToFix = resolved is null ? null : At(resolved) - seen,
        };
        var cards = new Dictionary<string, ChatMessageRef>();
        if (posted is not null || card)
        {
            cards["slack"] = new ChatMessageRef("slack", "C1", "1.0") { PostedAt = posted is null ? null : At(posted) };
        }
        return new AlertGroup
        {
            Id = id,
            Meta = new GroupMeta
            {
                Owner = owner,
                VulnerabilityId = "CVE-2026-" + id,
                Title = id,
                Type = FindingType.PackageVulnerability,
                Severity = severity,
                FirstSeenAt = seen,
                SlaDueAt = At(due),
            },
            Members = [.. Enumerable.Range(0, findings).Select(i => new GroupMember
            {
                FindingArn = $"arn:{id}:{i}",
                ResourceType = ResourceTypes.Ec2Instance,
                ResourceId = $"i-{id}{i}",
                Region = "eu-central-1",
                AccountId = "111111111111",
                Status = resolved is not null ? FindingStatus.Closed : suppressed ? FindingStatus.Suppressed : FindingStatus.Active,
                Severity = severity,
                FirstObservedAt = seen,
                UpdatedAt = seen,
            })],
            Workflow = workflow,
            Version = 1,
            Cards = cards,
        };
    }
}
