using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Findings.SecurityHub;

/// <summary>
/// Security Hub's two EventBridge formats, read from public samples (Fixtures/SOURCES.md). Field
/// names: ASFF syntax in the Security Hub user guide; OCSF schema vulnerability_finding (class 2002).
/// </summary>
public class SecurityHubParserTests
{
    private static (IReadOnlyList<InspectorEvent> Events, IReadOnlyList<string> Errors) Parse(JsonNode evt) =>
        InspectorEventParser.Parse(Encoding.UTF8.GetBytes(evt.ToJsonString()), DateTimeOffset.UtcNow);

    [Fact]
    public void AsffCopyOfAnInspectorFindingKeepsTheInspectorArnAndItsDetail()
    {
        var (events, errors) = Parse(SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffInspectorFinding()));
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal(SecurityHubSamples.InspectorArn, f.FindingArn);
        Assert.Equal(FindingOrigin.SecurityHubAsff, f.Origin);
        Assert.Null(f.ProductArn);
        Assert.Equal("111111111111", f.AwsAccountId);
        Assert.Equal("us-east-1", f.Region);
        Assert.Equal("CVE-2022-3643", f.VulnerabilityId);
        Assert.Equal(Severity.Critical, f.Severity);
        Assert.Equal(FindingStatus.Active, f.Status);
        Assert.Equal(10.0, f.InspectorScore);
        Assert.Equal("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", f.Cvss!.Vector);
        Assert.Equal("YES", f.FixAvailable);
        Assert.Equal(["0:5.10.162-141.675.amzn2"], f.FixedVersions);
        Assert.Equal("kernel", Assert.Single(f.Packages).Name);
        Assert.Null(f.Remediation); // "None Provided" is no remediation
        Assert.Equal(new DateTimeOffset(2023, 3, 1, 8, 6, 17, TimeSpan.Zero), f.UpdatedAt);
        // Security Hub names the instance by ARN (this sample even without "instance/"); Inspector and SSM by id.
        Assert.Equal(ResourceTypes.Ec2Instance, f.PrimaryResource.Type);
        Assert.Equal("i-11111111111111111", f.PrimaryResource.Id);
        Assert.Equal("AMAZON_LINUX_2", f.PrimaryResource.Platform);
    }

    [Fact]
    public void AsffEcrImageKeepsRepositoryAndTagsForRouting()
    {
        var (events, errors) = Parse(SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffFinding("defectdojo-inspector_ecr.json", 0)));
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal(ResourceTypes.EcrContainerImage, f.PrimaryResource.Type);
        Assert.Equal("repo-os", f.PrimaryResource.EcrRepository);
        Assert.Equal(["2023-08-23"], f.PrimaryResource.ImageTags);
        Assert.Equal("DEBIAN_11", f.PrimaryResource.Platform);
        Assert.Equal("eu-central-1", f.Region);
        Assert.Equal(Severity.Medium, f.Severity);
    }

    [Fact]
    public void ArchivedAsffFindingIsClosed()
    {
        var finding = SecurityHubSamples.AsffInspectorFinding();
        finding["RecordState"] = "ARCHIVED";
        var (events, _) = Parse(SecurityHubSamples.AsffEvent(finding));
        Assert.Equal(FindingStatus.Closed, Assert.Single(events).Finding!.Status);
    }

    [Fact]
    public void GuardDutyFindingIsAcceptedAndIgnoredAsNotAVulnerability()
    {
        var (events, errors) = Parse(SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffFinding("defectdojo-guardduty.json", 0)));
        Assert.Empty(errors);
        var evt = Assert.Single(events);
        Assert.Null(evt.Finding);
        Assert.Equal(IgnoredReasons.NotAVulnerability, evt.IgnoredReason);
        Assert.Equal("Security Hub Findings - Imported", evt.Kind);
    }

    [Fact]
    public void OtherProductsVulnerabilityIsScopedByItsProductArn()
    {
        // The user guide's Vulnerabilities example on a third-party product's finding, whose Id is not an ARN.
        var finding = SecurityHubSamples.AsffFinding("defectdojo-guardduty.json", 0);
        finding["ProductArn"] = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";
        finding["Id"] = "us-east-1/123456789012/98aebb2207407c87f51e89943f12b1ef";
        finding["Vulnerabilities"] = SecurityHubSamples.UserGuideVulnerabilities();
        var (events, errors) = Parse(SecurityHubSamples.AsffEvent(finding));
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal("arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default/us-east-1/123456789012/98aebb2207407c87f51e89943f12b1ef", f.FindingArn);
        Assert.Equal("arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default", f.ProductArn);
        Assert.Equal("us-east-1/123456789012/98aebb2207407c87f51e89943f12b1ef", f.ProductFindingId);
        Assert.Equal("CVE-2020-12345", f.VulnerabilityId);
        Assert.Equal("AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", f.Cvss!.Vector);
        Assert.Equal("0.14.0", Assert.Single(f.FixedVersions));
    }

    [Fact]
    public void OcsfCopyOfAnInspectorFindingIsTheSameFinding()
    {
        var (events, errors) = Parse(SecurityHubSamples.OcsfEvent(SecurityHubSamples.OcsfInspectorFinding()));
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal(SecurityHubSamples.InspectorArn, f.FindingArn);
        Assert.Equal(FindingOrigin.SecurityHubOcsf, f.Origin);
        Assert.Equal("CVE-2022-3643", f.VulnerabilityId);
        Assert.Equal(Severity.Critical, f.Severity);
        Assert.Equal(FindingStatus.Active, f.Status);
        Assert.Equal(0.00043, f.Epss);
        Assert.Equal("i-11111111111111111", f.PrimaryResource.Id);
        Assert.Equal(ResourceTypes.Ec2Instance, f.PrimaryResource.Type);
        Assert.Equal("payments", f.PrimaryResource.Tags["team"]);
        Assert.Equal(["0:5.10.162-141.675.amzn2"], f.FixedVersions);
        Assert.Equal(new DateTimeOffset(2023, 3, 1, 8, 6, 17, TimeSpan.Zero), f.UpdatedAt);
    }

    [Fact]
    public void OcsfFindingOfAnotherClassIsIgnoredAsNotAVulnerability()
    {
        var finding = SecurityHubSamples.OcsfInspectorFinding();
        finding["class_uid"] = 2004; // Detection Finding (GuardDuty)
        finding.Remove("vulnerabilities");
        var (events, errors) = Parse(SecurityHubSamples.OcsfEvent(finding));
        Assert.Empty(errors);
        Assert.Equal(IgnoredReasons.NotAVulnerability, Assert.Single(events).IgnoredReason);
    }

    [Fact]
    public void ResolvedOcsfFindingIsClosed()
    {
        var finding = SecurityHubSamples.OcsfInspectorFinding();
        finding["status_id"] = 4;
        var (events, _) = Parse(SecurityHubSamples.OcsfEvent(finding));
        Assert.Equal(FindingStatus.Closed, Assert.Single(events).Finding!.Status);
    }

    [Theory]
    [InlineData("findings", "$.detail.findings is required and must be an array")]
    [InlineData("Id", "$.detail.findings[0].Id is required.")]
    [InlineData("UpdatedAt", "$.detail.findings[0].UpdatedAt is required.")]
    public void MalformedAsffIsRefusedWithThePath(string remove, string expected)
    {
        var evt = SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffInspectorFinding());
        if (remove == "findings")
        {
            evt["detail"]!.AsObject().Remove("findings");
        }
        else
        {
            evt["detail"]!["findings"]![0]!.AsObject().Remove(remove);
        }
        var (events, errors) = Parse(evt);
        Assert.Empty(events);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void FindingIdWithControlCharactersIsRefused()
    {
        var finding = SecurityHubSamples.AsffFinding("defectdojo-guardduty.json", 0);
        finding["Id"] = "evil\u001b[31mid";
        finding["Vulnerabilities"] = SecurityHubSamples.UserGuideVulnerabilities();
        var (events, errors) = Parse(SecurityHubSamples.AsffEvent(finding));
        Assert.Empty(events);
        Assert.Contains(errors, e => e.Contains("without spaces or control characters", StringComparison.Ordinal));
    }
}
