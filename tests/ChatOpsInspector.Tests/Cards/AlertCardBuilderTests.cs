using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Cards;

public class AlertCardBuilderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    internal static AlertGroup Group(int resources, string type = ResourceTypes.Ec2Instance, WorkflowState? workflow = null, double score = 9.1) => new()
    {
        Id = "abcdef0123",
        Version = 1,
        Workflow = workflow ?? new WorkflowState(),
        Meta = new GroupMeta
        {
            Owner = "payments", VulnerabilityId = "CVE-2024-1", Title = "CVE-2024-1 - openssl", Type = FindingType.PackageVulnerability,
            Severity = Severity.Critical, FirstSeenAt = Now.AddHours(-30), SlaDueAt = Now.AddHours(-6), FixedVersions = ["3.0.14"], Region = "eu-west-1",
        },
        Members = Enumerable.Range(0, resources).Select(i => new GroupMember
        {
            FindingArn = $"arn:{i}", ResourceType = type, ResourceId = $"i-{i:d5}", Region = "eu-west-1", AccountId = "123456789012",
            Status = i == 0 ? FindingStatus.Closed : FindingStatus.Active, Severity = Severity.Critical, InspectorScore = score,
            FirstObservedAt = Now.AddHours(-30), UpdatedAt = Now,
        }).ToArray(),
    };

    [Fact]
    public void ResourcesBeyondTenAreCountedNotListed()
    {
        var card = AlertCardBuilder.Build(Group(25), Now);
        Assert.Equal(10, card.Resources.Count);
        Assert.Equal(15, card.MoreResources);
        Assert.Equal(24, card.OpenCount);
        Assert.Equal(1, card.FixedCount);
        Assert.Equal("ACTIVE", card.Resources[0].Status); // open resources first
    }

    [Fact]
    public void OverdueOpenGroupSaysSlaBreached()
    {
        var card = AlertCardBuilder.Build(Group(2), Now);
        Assert.True(card.SlaBreached);
        Assert.EndsWith("SLA breached", card.StateLabel, StringComparison.Ordinal);
        Assert.Equal("6 h 0 min ago", AlertCardBuilder.Relative(card.SlaDueAt, Now));
    }

    [Fact]
    public void NewEc2GroupOffersEveryActionIncludingPatchAndIsolation()
    {
        var card = AlertCardBuilder.Build(Group(2), Now, new CardFeatures(Isolation: true, Release: true));
        Assert.Equal([CardAction.Acknowledge, CardAction.Assign, CardAction.Suppress, CardAction.RequestPatch, CardAction.RequestIsolation], card.Actions);
        Assert.Null(card.PatchUnavailableReason);
    }

    /// <summary>Production condition: a deployment without an isolation runbook never shows Isolate, whatever the score.</summary>
    [Fact]
    public void IsolationIsOfferedOnlyWhenConfigured()
    {
        var card = AlertCardBuilder.Build(Group(2), Now);
        Assert.Equal([CardAction.Acknowledge, CardAction.Assign, CardAction.Suppress, CardAction.RequestPatch], card.Actions);
    }

    [Fact]
    public void ContainerImagesCannotBePatchedAndSayWhichVersionToShip()
    {
        var card = AlertCardBuilder.Build(Group(2, ResourceTypes.EcrContainerImage), Now);
        Assert.DoesNotContain(CardAction.RequestPatch, card.Actions);
        Assert.Contains("3.0.14", card.PatchUnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void PendingPatchOffersApproveAndRejectOnly()
    {
        var requester = new Actor("slack", "U1", "Dev");
        var wf = new WorkflowState
        {
            State = GroupState.PatchRequested,
            Patch = new PatchRequest { Id = "p1", RequestedBy = requester, RequestedAt = Now, ExpiresAt = Now.AddHours(1), InstanceIds = ["i-1"], PreviousState = GroupState.New },
        };
        var card = AlertCardBuilder.Build(Group(2, workflow: wf), Now);
        Assert.Equal([CardAction.ApprovePatch, CardAction.RejectPatch], card.Actions);
        Assert.Contains("awaiting approval", card.StateLabel, StringComparison.Ordinal);
    }

    [Fact]
    public void HistoryBecomesStateLines()
    {
        var wf = new WorkflowState().Record(new HistoryEntry(Now, "Acknowledged", new Actor("slack", "U1", "Ana")));
        var card = AlertCardBuilder.Build(Group(1, workflow: wf), Now);
        Assert.Equal("Acknowledged by Ana · 2026-11-27 12:00 UTC", Assert.Single(card.StateLines));
    }

    [Fact]
    public void CveLinksGoToNvd() =>
        Assert.Equal("https://nvd.nist.gov/vuln/detail/CVE-2024-1", AlertCardBuilder.Build(Group(1), Now).VulnerabilityUrl);
}
